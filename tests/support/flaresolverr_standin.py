"""A stand-in for a FlareSolverr service on 127.0.0.1, speaking its documented v1 API.

``POST /v1`` with ``{"cmd": "sessions.create" | "sessions.destroy" | "request.get", ...}``.
Its "browser" is urllib with a browser User-Agent: it fetches the page (through the
session's proxy, if any), and when the page is a clearing challenge (tests/server.py)
it "runs" its script: takes the cookie the script sets and asks again with it. The
answer is FlareSolverr's: ``{"status": "ok", "solution": {url, status, headers,
response, cookies, userAgent}}``, or ``{"status": "error", "message": ...}`` with HTTP 500.

``interstitial=True`` answers as FlareSolverr 3.3.21 did against the same local
challenge: the challenge page it saw first (status 403), with the clearance cookie.
``fail_with`` makes every ``request.get`` an error with that message.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
_SETS_COOKIE = re.compile(r'document\.cookie = "([^=;"]+)=([^;"]*)')


class FlareSolverrStandIn:
    def __init__(self, *, interstitial: bool = False) -> None:
        self.interstitial = interstitial
        self.fail_with: str | None = None
        self.commands: list[dict[str, Any]] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection open, as FlareSolverr's waitress does

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                command = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = standin._answer(command)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> FlareSolverrStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, command: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.commands.append(command)
        cmd = command.get("cmd")
        if cmd == "sessions.create":
            self.sessions[command["session"]] = {"proxy": command.get("proxy"), "cookies": {}}
            return 200, {"status": "ok", "message": "Session created successfully.", "session": command["session"]}
        if cmd == "sessions.destroy":
            if self.sessions.pop(command.get("session"), None) is None:
                return 500, {"status": "error", "message": "Error: The session doesn't exist."}
            return 200, {"status": "ok", "message": "The session has been removed."}
        if cmd == "request.get":
            if self.fail_with:
                return 500, {"status": "error", "message": self.fail_with}
            session = self.sessions.get(command.get("session"))
            if session is None:
                return 500, {"status": "error", "message": "Error: The session doesn't exist."}
            return 200, {"status": "ok", "message": "Challenge solved!", "solution": self._solve(command["url"], session)}
        return 500, {"status": "error", "message": f"Error: Request parameter 'cmd' = '{cmd}' is invalid."}

    def _solve(self, url: str, session: dict[str, Any]) -> dict[str, Any]:
        status, body = self._fetch(url, session)
        first = (status, body)
        found = _SETS_COOKIE.search(body.decode("utf-8", "replace"))
        if found:  # the challenge's script sets the clearance and reloads
            session["cookies"][found.group(1)] = found.group(2)
            status, body = self._fetch(url, session)
        if self.interstitial:
            status, body = first
        host = urllib.parse.urlsplit(url).hostname
        return {
            "url": url, "status": status, "headers": {}, "response": body.decode("utf-8"),
            "cookies": [
                {"name": name, "value": value, "domain": host, "path": "/", "expiry": int(time.time()) + 3600,
                 "httpOnly": True, "secure": False, "sameSite": "None"}
                for name, value in session["cookies"].items()
            ],
            "userAgent": USER_AGENT,
        }

    @staticmethod
    def _fetch(url: str, session: dict[str, Any]) -> tuple[int, bytes]:
        headers = {"User-Agent": USER_AGENT}
        if session["cookies"]:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in session["cookies"].items())
        proxy = session["proxy"]
        handlers = []
        if proxy:
            address = proxy["url"]
            if proxy.get("username"):
                scheme, rest = address.split("://")
                address = f"{scheme}://{proxy['username']}:{proxy['password']}@{rest}"
            handlers.append(urllib.request.ProxyHandler({"http": address, "https": address}))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
