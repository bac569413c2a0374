"""The fetch modes' Scrapy settings, derived from the crawl's config by an add-on.

Plain HTTP is the default and needs nothing from here. The other modes, chosen with
``HLTV_*`` settings (see the README's "Running against HLTV" for when to use which):

``HLTV_IMPERSONATE`` (``chrome``, any curl_cffi browser name, or ``0``)
    Fetch plain pages through curl_cffi (scrapy-impersonate), whose TLS and HTTP/2
    handshakes look like that browser's. Default: ``chrome`` wherever a browser's
    cookies may be handed to the plain path (auto, handoff, FlareSolverr, a cookie
    file), as Cloudflare ties a clearance to the client that earned it; off with
    ``HLTV_BROWSER=0``.
``HLTV_BROWSER`` (``auto``, ``0``, ``1``, ``handoff``) and its ``HLTV_BROWSER_*`` settings
    See ``fetch/browser.py``; ``handoff`` solves challenges in Chromium
    (``fetch/clearance.py``), ``auto`` (the default) also renders every page of an
    address in it when its clearance does not hold on the plain path (``fetch/auto.py``).
``HLTV_COOKIES_FILE`` (path) with ``HLTV_USER_AGENT`` (text)
    Cookies exported from a browser that got through, sent from the first request on
    with that browser's exact User-Agent (``HLTV_USER_AGENT`` alone just sets it).
``HLTV_FLARESOLVERR_URL`` (``http://host:8191/v1``) and ``HLTV_FLARESOLVERR_TIMEOUT``
    (seconds, default 60): challenges are solved by a FlareSolverr service.

:class:`FetchModes`, a Scrapy add-on (``ADDONS`` in ``settings.py``), takes the crawl's
one config (``HltvConfig.of``: a bad value stops the crawl there) and turns it into
Scrapy's settings once the command line is in. Derived values go in at spider priority,
above the project's ``settings.py`` (a runner that merges project settings into the
crawler afterwards must not drop them) and below the command line, so any ``-s`` of
Scrapy's own wins: the download handler (``fetch/download_handler.py``) for the site's
scheme, ``ClearanceMiddleware`` in place of Scrapy's cookies middleware, when
impersonating no Scrapy User-Agent nor default headers (the browser's own are sent),
and scrapy-playwright's settings whenever the browser may be used, with patchright's
Chromium as its browser provider (``fetch/provider.py``, which also starts the Xvfb
of a windowed Chromium when it launches one).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.settings import SETTINGS_PRIORITIES

from hltv_scraper.config import ALWAYS, HltvConfig
from hltv_scraper.fetch.browser import CHROMIUM_ARGS, context_kwargs, context_name
from hltv_scraper.fetch.profiles import Profiles

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


logger = logging.getLogger(__name__)

_FETCH = "hltv_scraper.fetch"
#: The dotted paths of the components registered here.
DOWNLOAD_HANDLER = f"{_FETCH}.download_handler.HltvDownloadHandler"
CLEARANCE_MIDDLEWARE = f"{_FETCH}.clearance.ClearanceMiddleware"
BROWSER_MIDDLEWARE = f"{_FETCH}.browser.BrowserMiddleware"
BROWSER_PROVIDER = f"{_FETCH}.provider.UndetectedChromium"


def derive(settings: BaseSettings, values: dict[str, Any]) -> None:
    for name, value in values.items():
        settings.set(name, value, priority="spider")


def add_to_dict(settings: BaseSettings, name: str, entries: dict[str, Any]) -> None:
    """Add ``entries`` to a dict setting (``DOWNLOADER_MIDDLEWARES``, ``DOWNLOAD_HANDLERS``)
    at spider priority at least; entries given on the command line stay."""
    merged = settings.getdict(name)
    if (settings.getpriority(name) or 0) > SETTINGS_PRIORITIES["spider"]:
        for key, value in entries.items():
            merged.setdefault(key, value)
    else:
        merged.update(entries)
    priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["spider"])
    settings.set(name, merged, priority=priority)


def apply_fetch_settings(settings: BaseSettings, hltv: HltvConfig | None = None) -> HltvConfig:
    """Derive Scrapy's settings from the fetch mode (``hltv``, else read from
    ``settings``); nothing for plain HTTP. Safe to repeat."""
    hltv = hltv or HltvConfig.from_settings(settings)
    apply_browser_settings(settings, hltv)
    config, browser = hltv.fetch, hltv.browser
    if config.impersonate or browser.enabled or config.solver:
        # one handler for the site's scheme (https for HLTV, http for a test server):
        # it sends each request the way its meta asks
        scheme = urlsplit(hltv.base_url).scheme or "https"
        add_to_dict(settings, "DOWNLOAD_HANDLERS", {scheme: DOWNLOAD_HANDLER})
    if config.impersonate:
        # curl_cffi sends the browser's own User-Agent, Accept... unless Scrapy sends its own
        derive(settings, {"USER_AGENT": "", "DEFAULT_REQUEST_HEADERS": {}})
    if config.hands_off:
        add_to_dict(settings, "DOWNLOADER_MIDDLEWARES", {
            "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
            # where Scrapy's cookies middleware was: it keeps the cookie jars
            CLEARANCE_MIDDLEWARE: 700,
        })
    return hltv


def apply_browser_settings(settings: BaseSettings, hltv: HltvConfig) -> None:
    """Turn ``HLTV_BROWSER`` into scrapy-playwright's settings; nothing when the crawl
    may not drive a browser (``HLTV_BROWSER=0``, no Chromium, a replay)."""
    config = hltv.browser
    if not config.enabled:
        return
    navigation_timeout_ms = settings.getfloat("DOWNLOAD_TIMEOUT", 180) * 1000
    launch: dict[str, Any] = {
        "headless": config.headless,
        "executable_path": config.executable,
        "args": list(CHROMIUM_ARGS),
    }
    derive(settings, {
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_BROWSER_PROVIDER": BROWSER_PROVIDER,
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        # handoff, auto: no context at start, so no browser until a page needs one
        "PLAYWRIGHT_CONTEXTS": _contexts(hltv) if config.mode == ALWAYS else {},
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": config.max_pages,
        "PLAYWRIGHT_ABORT_REQUEST": f"{_FETCH}.browser.abort_request",
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": None,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": navigation_timeout_ms,
        # a browser closed when idle is launched again for the next page it gets
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
    })
    # Nearest the download handler: every other middleware sees the corrected response.
    add_to_dict(settings, "DOWNLOADER_MIDDLEWARES", {BROWSER_MIDDLEWARE: 950})


def _contexts(hltv: HltvConfig) -> dict[str, dict[str, Any]]:
    profiles = Profiles(hltv.browser.profile_dir) if hltv.browser.profile_dir else None
    proxies = hltv.proxies.proxies or (None,)
    return {
        context_name(proxy.label if proxy else None): context_kwargs(
            proxy, profiles.browser_state(proxy.label if proxy else None) if profiles else None,
        )
        for proxy in proxies
    }


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
