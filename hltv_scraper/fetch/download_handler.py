"""The download handler of every fetch mode but plain HTTP: one per crawl, for the site's
scheme, a router sending each request the way its meta asks.

- ``meta["playwright"]``: Chromium, through scrapy-playwright's handler (held here).
- ``meta["hltv_solve"] == "flaresolverr"``: a FlareSolverr service (``fetch/flaresolverr.py``).
- anything else: plain HTTP, impersonating a browser through scrapy-impersonate
  (curl_cffi) when ``HLTV_IMPERSONATE`` says so, else Scrapy's HTTP/1.1 client.

In handoff mode it also closes the browser after ``HLTV_BROWSER_IDLE_SECONDS`` without
a solve, through the browser object Playwright handed the last page
(``page.context.browser``); scrapy-playwright launches it again for the next solve
(``PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER``). The display of a windowed browser is
the add-on's (``fetch/scrapy_settings.py``): it must exist before this handler does.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack, suppress
from typing import TYPE_CHECKING, Any

from scrapy_impersonate import ImpersonateDownloadHandler

from hltv_scraper.config import FLARESOLVERR, HANDOFF, HltvConfig
from hltv_scraper.fetch.browser import BROWSER_IN_META
from hltv_scraper.fetch.flaresolverr import FlareSolverr

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class HltvDownloadHandler(ImpersonateDownloadHandler):
    lazy = False  # scrapy-playwright's handler must exist before the engine starts

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stats = crawler.stats
        config = HltvConfig.of(crawler)
        self.fetch = config.fetch
        self.browser_config = config.browser
        self.proxies = config.proxies.by_label()
        self.browser: Any = None  # scrapy-playwright's handler
        self._launched: Any = None  # the Playwright browser the last page was in
        self._browser_busy = 0
        self._idle_check: asyncio.TimerHandle | None = None
        if self.browser_config.enabled:
            self._start_browser_handler(crawler)
        self.flaresolverr = (
            FlareSolverr(self.fetch.flaresolverr_url, self.fetch.flaresolverr_timeout, self._plain)
            if self.fetch.solver == FLARESOLVERR else None
        )

    def _start_browser_handler(self, crawler: Crawler) -> None:
        from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

        self.browser = ScrapyPlaywrightDownloadHandler(crawler)

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):
            return await self._in_browser(request)
        if self.flaresolverr and request.meta.get("hltv_solve") == FLARESOLVERR:
            return await self.flaresolverr.get(request, self.proxies.get(request.meta.get("hltv_proxy")))
        if self.fetch.impersonate:
            request.meta.setdefault("impersonate", self.fetch.impersonate)
        return await super().download_request(request)

    async def _plain(self, request: Request) -> Response:
        """Scrapy's HTTP/1.1 client, never impersonating (FlareSolverr's API)."""
        return await ImpersonateDownloadHandler.download_request(self, request)

    async def _in_browser(self, request: Request) -> Response:
        self._browser_busy += 1
        if self._idle_check is not None:
            self._idle_check.cancel()
            self._idle_check = None
        try:
            return await self.browser.download_request(request)
        finally:
            self._launched = request.meta.pop(BROWSER_IN_META, None) or self._launched
            self._browser_busy -= 1
            if self.browser_config.mode == HANDOFF and not self._browser_busy:
                loop = asyncio.get_running_loop()
                self._idle_check = loop.call_later(
                    self.browser_config.idle_seconds, lambda: asyncio.ensure_future(self._close_idle_browser())
                )

    async def _close_idle_browser(self) -> None:
        self._idle_check = None
        browser = self._launched
        if self._browser_busy or browser is None or not browser.is_connected():
            return
        self._launched = None
        logger.info("No challenge for %g s: closing the browser until the next one",
                    self.browser_config.idle_seconds)
        self.stats.inc_value("hltv/browser/closed_idle")
        with suppress(Exception):  # closing a browser that is already gone
            await browser.close()

    async def close(self) -> None:
        if self._idle_check is not None:
            self._idle_check.cancel()
        # in reverse order of closing; each closes even when one before it failed (a
        # browser already dead)
        async with AsyncExitStack() as closing:
            closing.push_async_callback(super().close)
            if self.browser is not None:
                closing.push_async_callback(self.browser.close)
            if self.flaresolverr is not None:
                closing.push_async_callback(self.flaresolverr.close)
