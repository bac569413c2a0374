"""How pages are fetched: the fetch-mode settings, and the Scrapy settings they imply.

Plain HTTP is the default and needs nothing from here. The other modes, chosen with
``HLTV_*`` settings (see the README's "Running against HLTV" for when to use which):

``HLTV_IMPERSONATE`` (``chrome``, any curl_cffi browser name, or ``0``)
    Fetch plain pages through curl_cffi (scrapy-impersonate), whose TLS and HTTP/2
    handshakes look like that browser's. Default: off, except where a browser's
    cookies are handed to the plain path (handoff, FlareSolverr, a cookie file): there
    ``chrome``, as Cloudflare ties a clearance to the client that earned it.
``HLTV_BROWSER`` (``0``, ``1``, ``handoff``) and its ``HLTV_BROWSER_*`` settings
    See ``browser.py``; ``handoff`` solves challenges in Chromium (``clearance.py``).
``HLTV_COOKIES_FILE`` (path) with ``HLTV_USER_AGENT`` (text)
    Cookies exported from a browser that got through, sent from the first request on
    with that browser's exact User-Agent (``HLTV_USER_AGENT`` alone just sets it).
``HLTV_FLARESOLVERR_URL`` (``http://host:8191/v1``) and ``HLTV_FLARESOLVERR_TIMEOUT``
    (seconds, default 60): challenges are solved by a FlareSolverr service.

:class:`FetchModes`, a Scrapy add-on (``ADDONS`` in ``settings.py``), turns these into
Scrapy's settings once the command line is in, at spider priority so any ``-s`` of
Scrapy's own wins: the download handler (``download.py``) for the site's scheme,
``ClearanceMiddleware`` in place of Scrapy's cookies middleware, and, when
impersonating, no Scrapy User-Agent nor default headers, so the browser's own are sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hltv_scraper._derive import add_to_dict, derive
from hltv_scraper.browser import apply_browser_settings
from hltv_scraper.config import HltvConfig

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


def apply_fetch_settings(settings: BaseSettings, hltv: HltvConfig | None = None) -> HltvConfig:
    """Derive Scrapy's settings from the fetch mode (``hltv``, else read from
    ``settings``); nothing for plain HTTP. Safe to repeat."""
    hltv = hltv or HltvConfig.from_settings(settings)
    apply_browser_settings(settings, hltv)
    config, browser = hltv.fetch, hltv.browser
    if config.impersonate or browser.enabled or config.solver:
        # one handler for the site's scheme (https for HLTV, http for a test server):
        # it sends each request the way its meta asks (see download.py)
        scheme = urlsplit(hltv.base_url).scheme or "https"
        add_to_dict(settings, "DOWNLOAD_HANDLERS", {scheme: "hltv_scraper.download.HltvDownloadHandler"})
    if config.impersonate:
        # curl_cffi sends the browser's own User-Agent, Accept... unless Scrapy sends its own
        derive(settings, {"USER_AGENT": "", "DEFAULT_REQUEST_HEADERS": {}})
    if config.hands_off:
        add_to_dict(settings, "DOWNLOADER_MIDDLEWARES", {
            "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
            # where Scrapy's cookies middleware was: it keeps the cookie jars
            "hltv_scraper.clearance.ClearanceMiddleware": 700,
        })
    return hltv


class FetchModes:
    """Scrapy add-on: the crawl's one :class:`HltvConfig` (``HltvConfig.of``: read once,
    kept on the crawler; a bad ``HLTV_*`` value stops the crawl here, before it starts),
    and Scrapy's settings derived from it (:func:`apply_fetch_settings`)."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchModes:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        # the spider, made first, may have read it already (HltvConfig.of keeps it)
        config = HltvConfig.of(self.crawler) if self.crawler is not None else HltvConfig.from_settings(settings)
        apply_fetch_settings(settings, config)
