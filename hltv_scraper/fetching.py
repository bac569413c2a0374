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

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hltv_scraper._derive import add_to_dict, derive
from hltv_scraper.browser import HANDOFF, BrowserConfig, apply_browser_settings
from hltv_scraper.config import HltvConfig

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

_OFF = ("0", "false", "no", "off", "none")
#: Who solves a challenge on the plain path.
BROWSER, FLARESOLVERR = "browser", "flaresolverr"


@dataclass(frozen=True)
class FetchConfig:
    #: HLTV_IMPERSONATE: the curl_cffi browser the plain path looks like, or None.
    impersonate: str | None = None
    #: HLTV_COOKIES_FILE: browser cookies to send from the first request.
    cookies_file: Path | None = None
    #: HLTV_USER_AGENT: the User-Agent of the plain path (the cookies' browser's).
    user_agent: str | None = None
    #: HLTV_FLARESOLVERR_URL: a FlareSolverr service's v1 endpoint.
    flaresolverr_url: str | None = None
    #: HLTV_FLARESOLVERR_TIMEOUT: seconds FlareSolverr may spend on one challenge.
    flaresolverr_timeout: float = 60.0
    #: who solves challenges the plain path meets: BROWSER, FLARESOLVERR or None
    solver: str | None = None

    @property
    def hands_off(self) -> bool:
        """Whether the plain path sends cookies and a User-Agent that are not its own."""
        return bool(self.solver or self.cookies_file or self.user_agent)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> FetchConfig:
        default = cls()
        if HltvConfig.from_settings(settings).replay:
            return default  # a replay never touches the network
        browser = BrowserConfig.from_settings(settings)
        flaresolverr_url = (settings.get("HLTV_FLARESOLVERR_URL") or "").strip() or None
        if flaresolverr_url and urlsplit(flaresolverr_url).scheme not in ("http", "https"):
            raise ValueError(f"HLTV_FLARESOLVERR_URL must be http://host:port/v1, got {flaresolverr_url!r}")
        if flaresolverr_url and browser.enabled:
            raise ValueError("HLTV_FLARESOLVERR_URL and HLTV_BROWSER both solve challenges: choose one")
        solver = FLARESOLVERR if flaresolverr_url else BROWSER if browser.mode == HANDOFF else None
        cookies_file = settings.get("HLTV_COOKIES_FILE") or None
        user_agent = (settings.get("HLTV_USER_AGENT") or "").strip() or None
        if cookies_file and not user_agent:
            raise ValueError(
                "HLTV_COOKIES_FILE needs HLTV_USER_AGENT: the exact User-Agent of the browser "
                "the cookies come from (its navigator.userAgent); Cloudflare ties them together"
            )
        timeout = settings.getfloat("HLTV_FLARESOLVERR_TIMEOUT", default.flaresolverr_timeout)
        if timeout <= 0:
            raise ValueError(f"HLTV_FLARESOLVERR_TIMEOUT must be positive, got {timeout}")
        handed_off = bool(solver or cookies_file)
        return cls(
            impersonate=_impersonate(settings.get("HLTV_IMPERSONATE"), handed_off=handed_off),
            cookies_file=Path(cookies_file) if cookies_file else None,
            user_agent=user_agent,
            flaresolverr_url=flaresolverr_url,
            flaresolverr_timeout=timeout,
            solver=solver,
        )


def _impersonate(value: str | None, *, handed_off: bool) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in _OFF:
        return None
    if not text:  # not set: a browser's clearance travels best in that browser's TLS
        return "chrome" if handed_off else None
    from curl_cffi import BrowserType  # only when impersonating
    from curl_cffi.requests import impersonate

    # a version (chrome152) or curl_cffi's alias for its latest one (chrome, safari_ios)
    aliases = {name[len("DEFAULT_"):].lower() for name in dir(impersonate) if name.startswith("DEFAULT_")}
    known = {browser.value for browser in BrowserType} | aliases
    if text not in known:
        chrome = sorted(name for name in known if name.startswith("chrome"))
        raise ValueError(f"HLTV_IMPERSONATE: curl_cffi cannot impersonate {value!r}; try chrome ({', '.join(chrome[-3:])}, ...)")
    return text


def apply_fetch_settings(settings: BaseSettings) -> FetchConfig:
    """Derive Scrapy's settings from the fetch mode; nothing for plain HTTP. Safe to repeat."""
    browser = apply_browser_settings(settings)
    config = FetchConfig.from_settings(settings)
    if config.impersonate or browser.enabled or config.solver:
        # one handler for the site's scheme (https for HLTV, http for a test server):
        # it sends each request the way its meta asks (see download.py)
        scheme = urlsplit(HltvConfig.from_settings(settings).base_url).scheme or "https"
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
    return config


class FetchModes:
    """Scrapy add-on: :func:`apply_fetch_settings` for every crawl of the project."""

    def update_settings(self, settings: BaseSettings) -> None:
        apply_fetch_settings(settings)
