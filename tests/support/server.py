"""A local HTTP server on 127.0.0.1 that serves the fixture pages like HLTV would.

``/stats/matches/{performance|economy/}mapstatsid/{id}/{slug}`` answers with the
fixture page of that map, ``/matches/{id}/{slug}`` with that match page and
``/results?offset=N`` with that results page, ``/ranking/teams/{year}/{month}/{day}``
with that ranking snapshot (``ranking-YYYY-MM-DD``; ``/ranking/teams``, the current
one, is unit 0 and shows the newest fixture snapshot unless scripted) (404 when there
is none). A test can script other answers per page with
:meth:`FixtureServer.script`: a list of ``Answer`` served in turn (the last one
repeats), e.g. a Cloudflare challenge first and the real page next. An answer with
``unless_cookie`` stands aside for a request carrying that cookie, which gets the real
page: a challenge a browser clears by setting the cookie, as Cloudflare's does.

:class:`ClearanceGate` makes the whole site behave like Cloudflare in front of HLTV:
every page is a challenge whose script sets a ``cf_clearance`` cookie bound to the
User-Agent that fetched the challenge, and only a request with a current cookie and
that same User-Agent gets the page. ``rotate()`` invalidates every cookie handed out.

The server also stands in for an HTTP proxy ("an address" of the crawl): a proxied
request arrives with an absolute URI (``GET http://host:port/path``) and is answered
like any other. With ``proxy_auth="user:pass"`` a request without those credentials
in ``Proxy-Authorization`` gets ``407``. ``tls`` (an ``ssl.SSLContext``) serves HTTPS.
"""

from __future__ import annotations

import base64
import calendar
import gzip
import re
import secrets
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.support.pages import page_bytes

_ROUTE = re.compile(r"^/stats/matches/(?:(performance|economy)/)?mapstatsid/(\d+)(?:/|$)")
_RESULTS_ROUTE = re.compile(r"^/results\?(?:[^#]*&)?offset=(\d+)(?:&|$)")
_MATCH_ROUTE = re.compile(r"^/matches/(\d+)(?:/|$)")
_RANKING_ROUTE = re.compile(r"^/ranking/teams(?:/(\d{4})/([a-z]+)/(\d{1,2}))?/?$")
#: The snapshot ``/ranking/teams`` shows, unless a test scripts another.
CURRENT_RANKING = "2025-12-01"
_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}


def route(path: str) -> tuple[str, int] | None:
    """``(page, unit id)`` of a request path: a map page, a match page, a results page."""
    if match := _ROUTE.match(path):
        return match.group(1) or "mapstats", int(match.group(2))
    if match := _MATCH_ROUTE.match(path):
        return "match", int(match.group(1))
    if match := _RESULTS_ROUTE.match(path):
        return "results", int(match.group(1))
    if match := _RANKING_ROUTE.match(path):
        year, month, day = match.groups()
        if year is None:
            return "ranking", 0
        if month in _MONTHS:
            return "ranking", int(year) * 10000 + _MONTHS[month] * 100 + int(day)
    return None


def page_name(page: str, unit_id: int) -> str:
    """The fixture page a route serves: ``mapstats-219128``, ``ranking-2025-12-01``."""
    if page == "ranking" and unit_id == 0:
        return f"ranking-{CURRENT_RANKING}"
    if page == "ranking":
        return f"ranking-{unit_id // 10000}-{unit_id // 100 % 100:02d}-{unit_id % 100:02d}"
    return f"{page}-{unit_id}"
#: What Cloudflare sends with a challenge.
CHALLENGE_HEADERS = {"Server": "cloudflare", "cf-mitigated": "challenge"}


def clearing_challenge(cookie: str, delay_ms: int = 300) -> bytes:
    """A challenge page that clears in a browser, like Cloudflare's: it runs a while,
    sets ``cookie`` and reloads."""
    return f"""<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><p>Checking if the site connection is secure</p><script>
window._cf_chl_opt = {{cType: "managed"}};
setTimeout(function () {{
  document.cookie = "{cookie}; path=/";
  location.reload();
}}, {delay_ms});
</script></body></html>""".encode()


@dataclass
class Answer:
    status: int = 200
    body: bytes | None = None  # None: the real fixture page
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # send the body with Content-Encoding: gzip
    unless_cookie: str | None = None  # "name=value": a request with it gets the real page
    delay: float = 0.0  # seconds the server waits before it answers (a page slow to come)


class ClearanceGate:
    """Cloudflare's clearance, in small: a cookie per solved challenge, bound to the
    User-Agent that solved it, valid until :meth:`rotate`."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}  # cf_clearance value -> its User-Agent
        self._lock = threading.Lock()
        self.challenges = 0  # challenge pages served
        self.passed = 0  # pages served to a cleared request
        #: called with each request's verdict (True: admitted), e.g. to rotate midway
        self.on_request: Callable[[bool], None] | None = None

    def admits(self, cookies: set[str], user_agent: str, headers: dict[str, str] | None = None) -> bool:
        with self._lock:
            admitted = any(
                name == "cf_clearance" and self._tokens.get(value) == self._holder(user_agent, headers or {})
                for name, _, value in (cookie.partition("=") for cookie in cookies)
            )
            self.passed += admitted
        if self.on_request is not None:
            self.on_request(admitted)
        return admitted

    def issue(self, user_agent: str, headers: dict[str, str] | None = None) -> str:
        """A clearance for ``user_agent``, as a browser that got through would hold."""
        token = secrets.token_hex(8)
        with self._lock:
            self._tokens[token] = self._holder(user_agent, headers or {})
        return token

    def challenge(self, user_agent: str, headers: dict[str, str] | None = None) -> bytes:
        with self._lock:
            self.challenges += 1
        return clearing_challenge(f"cf_clearance={self.issue(user_agent, headers)}")

    def _holder(self, user_agent: str, headers: dict[str, str]) -> object:
        """Who a clearance is bound to: here the User-Agent (a subclass may add more)."""
        return user_agent

    def rotate(self) -> None:
        with self._lock:
            self._tokens.clear()


class FixtureServer:
    def __init__(self, *, proxy_auth: str | None = None, tls: ssl.SSLContext | None = None,
                 gate: ClearanceGate | None = None) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()
        self.request_times: dict[tuple[str, int], list[float]] = {}  # monotonic clock
        self.request_headers: list[dict[str, str]] = []  # of every request, in order
        self.proxied = 0  # requests that arrived with an absolute URI
        self.gate = gate
        self._scripts: dict[tuple[str, int], list[Answer]] = {}
        self._lock = threading.Lock()
        self._proxy_auth = (
            "Basic " + base64.b64encode(proxy_auth.encode()).decode() if proxy_auth else None
        )
        self.scheme = "https" if tls else "http"
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        # a short poll: stop() waits for it, and tests start and stop many servers
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, page: str, mapstatsid: int, *answers: Answer) -> None:
        with self._lock:
            self._scripts[(page, mapstatsid)] = list(answers)

    def script_all(self, *answers: Answer) -> None:
        """Like :meth:`script`, for every map page without a script of its own."""
        with self._lock:
            self._scripts["*"] = list(answers)  # type: ignore[index]

    def _next_answer(self, key: tuple[str, int], headers: dict[str, str]) -> Answer:
        with self._lock:
            self.requests[key] += 1
            self.request_times.setdefault(key, []).append(time.monotonic())
            self.request_headers.append(headers)
            script = self._scripts.get(key) or self._scripts.get("*")  # type: ignore[call-overload]
            if not script:
                return Answer()
            return script.pop(0) if len(script) > 1 else script[0]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            with self._lock:
                self.proxied += 1
        if self._proxy_auth and handler.headers.get("Proxy-Authorization") != self._proxy_auth:
            self._send(handler, 407, b"proxy credentials required",
                       {"Proxy-Authenticate": 'Basic realm="proxy"'})
            return
        headers = {name.lower(): value for name, value in handler.headers.items()}
        report_path = getattr(self.gate, "report_path", None)
        if report_path is not None and path.startswith(report_path):  # a detector's report
            self.gate.report(path, headers)
            self._send(handler, 204, b"", {})
            return
        key = route(path)
        if key is None:
            self._send(handler, 404, b"not found", {})
            return
        answer = self._next_answer(key, headers)
        cookies = _cookies(handler)
        if answer.unless_cookie and answer.unless_cookie in cookies:
            answer = Answer()
        user_agent = headers.get("user-agent", "")
        # a gate that binds its clearance to more than the User-Agent sees the headers
        client = {"headers": headers} if getattr(self.gate, "sees_headers", False) else {}
        if self.gate is not None and answer == Answer() and not self.gate.admits(cookies, user_agent, **client):
            answer = Answer(status=403, body=self.gate.challenge(user_agent, **client), headers=CHALLENGE_HEADERS)
        if answer.delay:
            time.sleep(answer.delay)
        body = answer.body
        if body is None:
            try:
                body = page_bytes(page_name(*key))
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
    header = "; ".join(handler.headers.get_all("Cookie") or ())
    return {part.strip() for part in header.split(";") if part.strip()}
