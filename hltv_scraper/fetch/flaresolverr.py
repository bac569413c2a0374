"""A FlareSolverr service as a challenge solver (``HLTV_FLARESOLVERR_URL``).

FlareSolverr runs a browser of its own and answers JSON commands on its ``/v1``
endpoint. One session per proxy (``sessions.create``, with the proxy, so each address
keeps its own clearance; ``sessions.destroy`` when the crawl ends), and a challenged
page is asked for with ``request.get``: its ``solution`` (status, HTML, cookies,
User-Agent) becomes the page's response, and its cookies and User-Agent go to the
plain path (see ``fetch/clearance.py``).

A service that cannot be reached, or answers an error, raises :class:`SolverFailed`
with a reason a person can act on; it never crashes the crawl.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from scrapy.http import HtmlResponse, Request

from hltv_scraper.fetch.errors import SolverFailed

if TYPE_CHECKING:
    from scrapy.http import Response

    from hltv_scraper.config import Proxy

logger = logging.getLogger(__name__)

#: Headers of the solution that describe FlareSolverr's transfer, not the page we build.
_DROPPED = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class FlareSolverr:
    """Talks to one FlareSolverr service through ``send`` (a plain HTTP download)."""

    def __init__(self, url: str, timeout: float, send: Callable[[Request], Awaitable[Response]]) -> None:
        self.url = url
        self.timeout = timeout
        self.send = send
        self.sessions: dict[str | None, str] = {}  # proxy label -> session id

    async def get(self, request: Request, proxy: Proxy | None) -> Response:
        """The page of ``request`` through FlareSolverr; its cookies and User-Agent in
        ``request.meta["hltv_solution"]``."""
        session = await self._session(proxy)
        answer = await self._command({
            "cmd": "request.get", "url": request.url, "session": session,
            "maxTimeout": int(self.timeout * 1000),
        })
        solution = answer.get("solution")
        if not isinstance(solution, dict) or not isinstance(solution.get("response"), str):
            raise SolverFailed("flaresolverr_error: its answer has no solution")
        request.meta["hltv_solution"] = {
            "cookies": solution.get("cookies") or [],
            "user_agent": solution.get("userAgent"),
        }
        headers = {k: v for k, v in (solution.get("headers") or {}).items() if k.lower() not in _DROPPED}
        return HtmlResponse(
            url=solution.get("url") or request.url,
            status=int(solution.get("status") or 200),
            headers=headers,
            body=solution["response"].encode("utf-8"),
            encoding="utf-8",
            request=request,
            flags=["flaresolverr"],
        )

    async def close(self) -> None:
        for session in self.sessions.values():
            try:
                await self._command({"cmd": "sessions.destroy", "session": session})
            except SolverFailed as exc:
                logger.warning("Could not end FlareSolverr session %s: %s", session, exc.reason)
        self.sessions.clear()

    async def _session(self, proxy: Proxy | None) -> str:
        key = proxy.label if proxy else None
        if key not in self.sessions:
            session = f"hltv-{uuid.uuid4().hex[:12]}"
            command: dict[str, Any] = {"cmd": "sessions.create", "session": session}
            if proxy is not None:
                option = proxy.playwright()
                command["proxy"] = {"url": option.pop("server"), **option}
            await self._command(command)
            self.sessions[key] = session
        return self.sessions[key]

    async def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        call = Request(
            self.url, method="POST", body=json.dumps(command),
            headers={"Content-Type": "application/json"},
            # FlareSolverr answers when its browser is done, at most maxTimeout later
            meta={"download_timeout": self.timeout + 30},
        )
        try:
            response = await self.send(call)
        except Exception as exc:
            raise SolverFailed(
                f"flaresolverr_unreachable: no answer from {self.url} ({type(exc).__name__}: {exc}); is it running?"
            ) from None
        try:
            answer = json.loads(response.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise SolverFailed(f"flaresolverr_error: HTTP {response.status} from {self.url}, not FlareSolverr's JSON")
        if answer.get("status") != "ok":
            message = str(answer.get("message") or f"HTTP {response.status}")[:300]
            raise SolverFailed(f"flaresolverr_error: {command['cmd']}: {message}")
        return answer
