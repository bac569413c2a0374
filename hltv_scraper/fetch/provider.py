"""The browser scrapy-playwright drives: Debian's Chromium through patchright.

Stock Playwright announces itself to a page's scripts: ``navigator.webdriver`` is true
(it starts Chromium with ``--enable-automation``) and the code it runs in a page (our
wait for a challenge to clear) runs in the page's own world, where the page can watch
it read ``document.title`` or ``window._cf_chl_opt``. patchright, a fork of Playwright
on the package index, launches without the automation flags, never enables the
``Runtime`` domain on the page and evaluates in an isolated world. Measured against the
local detector page (``tests/support/detector.py``, the README's "Cloudflare"
section): stock Playwright and rebrowser-playwright both fire the main-world probe, and
stock Playwright ``navigator.webdriver`` too; patchright fires none.

:class:`UndetectedChromium` is scrapy-playwright's ``PLAYWRIGHT_BROWSER_PROVIDER``
(scrapy-playwright 0.0.48): it owns the browser's life. It launches the Chromium of
``executable_path`` (nothing downloads a browser build) and, for a windowed Chromium
on a machine without a display, an Xvfb (``fetch/xvfb.py``) first, stopped when the
provider closes: a crawl whose site never challenges starts neither.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

from hltv_scraper.fetch.xvfb import Xvfb

if TYPE_CHECKING:
    from scrapy_playwright.handler import Config

logger = logging.getLogger(__name__)


class _PatchrightResponses(logging.Filter):
    """scrapy-playwright recognises a navigation's response by stock Playwright's class,
    and warns for every patchright page that it got none; the page's status and headers
    come from ``fetch/browser.py``'s record of its documents instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Navigating to %s returned None")


_FILTER = _PatchrightResponses()


class UndetectedChromium:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.playwright: Any = None
        self._manager: Any = None
        self.xvfb: Xvfb | None = None

    async def start(self) -> None:
        from patchright.async_api import async_playwright

        logging.getLogger("scrapy-playwright").addFilter(_FILTER)
        self._manager = async_playwright()
        self.playwright = await self._manager.start()

    async def launch_browser(self) -> Any:
        if self.playwright is None:
            raise RuntimeError("start() must be awaited before launch_browser()")
        options = await self._launch_options()
        logger.info("Launching Chromium %s (%s)", options.get("executable_path"),
                    "headless" if options.get("headless") else f"window on {options['env']['DISPLAY']}")
        return await self.playwright.chromium.launch(**options)

    async def launch_persistent_context(self, context_kwargs: dict) -> Any:
        options = await self._launch_options()
        return await self.playwright.chromium.launch_persistent_context(**{**options, **context_kwargs})

    async def close(self) -> None:
        try:
            if self.playwright is not None:
                await self.playwright.stop()
        finally:
            self.playwright = None
            if self.xvfb is not None:
                self.xvfb.stop()
                self.xvfb = None

    async def _launch_options(self) -> dict[str, Any]:
        options = dict(self.config.launch_options)
        if options.get("headless"):
            return options
        env = dict(options.get("env") or os.environ)
        if not env.get("DISPLAY"):
            if self.xvfb is None or self.xvfb.process is None or self.xvfb.process.poll() is not None:
                self.xvfb = Xvfb()
                await asyncio.to_thread(self.xvfb.start)
            env["DISPLAY"] = self.xvfb.display
        options["env"] = env
        return options
