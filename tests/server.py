"""A local HTTP server on 127.0.0.1 that serves the fixture pages like HLTV would.

``/stats/matches/{performance|economy/}mapstatsid/{id}/{slug}`` answers with the
fixture page of that map. A test can script other answers per page with
:meth:`FixtureServer.script`: a list of ``Answer`` served in turn (the last one
repeats), e.g. a Cloudflare challenge first and the real page next. An answer with
``unless_cookie`` stands aside for a request carrying that cookie, which gets the real
page: a challenge a browser clears by setting the cookie, as Cloudflare's does.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.pages import page_bytes

_ROUTE = re.compile(r"^/stats/matches/(?:(performance|economy)/)?mapstatsid/(\d+)(?:/|$)")


@dataclass
class Answer:
    status: int = 200
    body: bytes | None = None  # None: the real fixture page
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # send the body with Content-Encoding: gzip
    unless_cookie: str | None = None  # "name=value": a request with it gets the real page


class FixtureServer:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()
        self.request_times: dict[tuple[str, int], list[float]] = {}  # monotonic clock
        self._scripts: dict[tuple[str, int], list[Answer]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, page: str, mapstatsid: int, *answers: Answer) -> None:
        with self._lock:
            self._scripts[(page, mapstatsid)] = list(answers)

    def _next_answer(self, key: tuple[str, int]) -> Answer:
        with self._lock:
            self.requests[key] += 1
            self.request_times.setdefault(key, []).append(time.monotonic())
            script = self._scripts.get(key)
            if not script:
                return Answer()
            return script.pop(0) if len(script) > 1 else script[0]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        match = _ROUTE.match(handler.path)
        if not match:
            self._send(handler, 404, b"not found", {})
            return
        key = (match.group(1) or "mapstats", int(match.group(2)))
        answer = self._next_answer(key)
        if answer.unless_cookie and answer.unless_cookie in _cookies(handler):
            answer = Answer()
        body = answer.body
        if body is None:
            try:
                body = page_bytes(f"{key[0]}-{key[1]}")
            except FileNotFoundError:
                self._send(handler, 404, b"no such page", {})
                return
        headers = {"Content-Type": "text/html; charset=UTF-8", **answer.headers}
        if answer.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._send(handler, answer.status, body, headers)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def _cookies(handler: BaseHTTPRequestHandler) -> set[str]:
    """The request's cookies as ``name=value`` strings."""
    header = handler.headers.get("Cookie") or ""
    return {part.strip() for part in header.split(";") if part.strip()}
