"""The download handler of every fetch mode but plain HTTP: one per crawl, for the site's
scheme, a router sending each request the way its meta asks.

- ``meta["playwright"]``: Chromium, through scrapy-playwright's handler (held here).
- ``meta["hltv_solve"] == "flaresolverr"``: a FlareSolverr service (``fetch/flaresolverr.py``).
- anything else: plain HTTP, impersonating a browser through scrapy-impersonate
  (curl_cffi) when ``HLTV_IMPERSONATE`` says so, else Scrapy's HTTP/1.1 client.

In handoff and auto mode scrapy-playwright's handler is made when the first page needs
the browser (a crawl that meets no challenge starts neither Playwright nor Chromium),
and the browser closes after ``HLTV_BROWSER_IDLE_SECONDS`` without a page; its
contexts are made again for the next one, and scrapy-playwright launches the browser
again (``PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER``). Before a context closes, idle or
at the end of the crawl, its cookies and storage are saved in its address's profile
(``fetch/profiles.py``). The browser itself, and the Xvfb a windowed one needs, are
the provider's (``fetch/provider.py``).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack, suppress
from typing import TYPE_CHECKING, Any

from scrapy_impersonate import ImpersonateDownloadHandler

from hltv_scraper.config import ALWAYS, FLARESOLVERR, HltvConfig
from hltv_scraper.fetch.browser import CONTEXT_IN_META, STATE_IN_META, save_state
from hltv_scraper.fetch.flaresolverr import FlareSolverr

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class HltvDownloadHandler(ImpersonateDownloadHandler):
    lazy = False  # scrapy-playwright's handler must exist before the engine starts

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.crawler = crawler
        self.stats = crawler.stats
        config = HltvConfig.of(crawler)
        self.fetch = config.fetch
        self.browser_config = config.browser
        self.proxies = config.proxies.by_label()
        self.browser: Any = None  # scrapy-playwright's handler
        self._browser_started: asyncio.Future[None] | None = None
        #: context name -> (the context, where its storage is kept)
        self._contexts: dict[str, tuple[Any, Path | None]] = {}
        self._browser_busy = 0
        self._idle_check: asyncio.TimerHandle | None = None
        self._closing: asyncio.Future[None] | None = None
        if self.browser_config.enabled and self.browser_config.mode == ALWAYS:
            self._start_browser_handler()  # launched with the engine, its contexts ready
        self.flaresolverr = (
            FlareSolverr(self.fetch.flaresolverr_url, self.fetch.flaresolverr_timeout, self._plain)
            if self.fetch.solver == FLARESOLVERR else None
        )

    def _start_browser_handler(self) -> Any:
        from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

        self.browser = ScrapyPlaywrightDownloadHandler(self.crawler)
        return self.browser

    async def _browser_handler(self) -> Any:
        """scrapy-playwright's handler; in handoff and auto mode made when the first page
        needs it, so a crawl that meets no challenge never starts Playwright."""
        if self.browser is not None and self._browser_started is None:
            return self.browser  # launched with the engine
        if self._browser_started is None:
            self._browser_started = asyncio.get_running_loop().create_future()
            try:
                handler = self._start_browser_handler()
                await handler._launch()  # what its engine_started handler does
            except BaseException as exc:
                self._browser_started.set_exception(exc)
                self._browser_started = None
                self.browser = None
                raise
            self._browser_started.set_result(None)
        await asyncio.shield(self._browser_started)
        return self.browser

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):
            return await self._in_browser(request)
        if self.flaresolverr and request.meta.get("hltv_solve") == FLARESOLVERR:
            return await self.flaresolverr.get(request, self.proxies.get(request.meta.get("hltv_proxy")))
        if self.fetch.impersonate:
            request.meta.setdefault("impersonate", self.fetch.impersonate)
            if "download_timeout" in request.meta:
                # scrapy-impersonate does not pass DOWNLOAD_TIMEOUT on: curl_cffi would
                # wait its own 30 s, past the grace a first Ctrl-C gives a page on the wire
                args = request.meta.setdefault("impersonate_args", {})
                args.setdefault("timeout", request.meta["download_timeout"])
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
            if self._closing is not None:  # the idle browser is closing: launch it after
                await asyncio.shield(self._closing)
            browser = await self._browser_handler()
            return await browser.download_request(request)
        finally:
            context = request.meta.pop(CONTEXT_IN_META, None)
            if context is not None:
                self._contexts[request.meta["playwright_context"]] = (context, request.meta.get(STATE_IN_META))
            self._browser_busy -= 1
            if self.browser_config.mode != ALWAYS and not self._browser_busy:
                loop = asyncio.get_running_loop()
                self._idle_check = loop.call_later(
                    self.browser_config.idle_seconds, lambda: asyncio.ensure_future(self._close_idle_browser())
                )

    async def _save_states(self) -> None:
        """Keep every open context's cookies and storage for the next crawl."""
        for name, (context, path) in list(self._contexts.items()):
            if path is None:
                continue
            try:
                await save_state(context, path)
            except Exception as exc:  # a context already gone keeps what it last saved
                logger.debug("Could not save the browser storage of %s: %s", name, exc)

    async def _close_idle_browser(self) -> None:
        self._idle_check = None
        if self._browser_busy or not self._contexts:
            return
        # from here on a page for the browser waits for it to close, then launches it again
        self._closing = asyncio.get_running_loop().create_future()
        try:
            logger.info("No page for the browser for %g s: closing it until the next one",
                        self.browser_config.idle_seconds)
            self.stats.inc_value("hltv/browser/closed_idle")
            await self._save_states()
            # the contexts first: each closed one leaves scrapy-playwright's list, so
            # its own handling of the browser's disconnection finds nothing to close
            contexts, self._contexts = self._contexts, {}
            for context, _ in contexts.values():
                with suppress(Exception):  # closing a context that is already gone
                    await context.close()
            browser = getattr(self.browser, "browser", None)
            if browser is not None:
                with suppress(Exception):
                    await browser.close()
        finally:
            self._closing.set_result(None)
            self._closing = None

    async def close(self) -> None:
        if self._idle_check is not None:
            self._idle_check.cancel()
        await self._save_states()
        # in reverse order of closing; each closes even when one before it failed (a
        # browser already dead)
        async with AsyncExitStack() as closing:
            closing.push_async_callback(super().close)
            if self.browser is not None:
                closing.push_async_callback(self.browser.close)
            if self.flaresolverr is not None:
                closing.push_async_callback(self.flaresolverr.close)
