"""The browser: map pages, or challenge solves, in Chromium through scrapy-playwright.

The browser is Debian's Chromium driven by patchright (``fetch/provider.py``), with a
window (under Xvfb when there is no display) and WebGL: nothing in it tells a
challenge's script that it is automated. One browser context per address (one, or one
per proxy of ``HLTV_PROXIES``), so the ``cf_clearance`` a cleared challenge leaves is
sent with every later page of that address; its cookies and storage are loaded from,
and saved to, the address's profile (``fetch/profiles.py``). Images, fonts and media
are never downloaded.

- ``HLTV_BROWSER=auto`` (the default) and ``handoff`` keep pages on plain HTTP and open
  Chromium only for a page that comes back as a challenge; its cookies and User-Agent
  then go to the plain path (``fetch/clearance.py``). Auto mode also sends every page
  of an address here when the clearance does not hold on the plain path
  (``meta["hltv_render"]``, ``fetch/auto.py``). Playwright starts with the first such
  page, and the browser closes when idle (``fetch/download_handler.py``).
- ``HLTV_BROWSER=1`` sends every map page here from the first.
- ``HLTV_BROWSER=0``: this module never imports Playwright.

The spider knows nothing of this: :class:`BrowserMiddleware` gives every map page
request (``request.meta["hltv_page"]``) that goes to the browser, or every challenge
solve, the meta that sends it there.

Settings (all ``-s NAME=value``; defaults and reasons in ``config.py``):
``HLTV_BROWSER_HEADLESS`` (default ``0``: a window), ``HLTV_BROWSER_IDLE_SECONDS``,
``HLTV_BROWSER_EXECUTABLE`` (Debian's ``chromium``, ``make browser``; no browser is
ever downloaded), ``HLTV_BROWSER_MAX_PAGES`` (pages open at once: each open map page is
a 2-6 MB document in a renderer), ``HLTV_BROWSER_RENDER_SECONDS``,
``HLTV_BROWSER_PROFILE_DIR`` and ``HLTV_CHALLENGE_TIMEOUT``: how long a page may show a
Cloudflare challenge ("Just a moment...") while the browser works on it. A challenge
that clears within it leaves the real page, an ordinary response; one still there
afterwards is returned as it is, a refusal RefusalMiddleware retries with backoff,
exactly as on the plain path. ``0`` does not wait.

scrapy-playwright settings are derived from these whenever the browser may be used, at
spider priority, so a ``-s PLAYWRIGHT_...`` on the command line still wins (by
``fetch/scrapy_settings.py``, which also registers the download handler that holds
scrapy-playwright's):
``PLAYWRIGHT_BROWSER_TYPE`` (chromium), ``PLAYWRIGHT_BROWSER_PROVIDER`` (patchright's
Chromium, ``fetch/provider.py``),
``PLAYWRIGHT_LAUNCH_OPTIONS`` (headless or not, the executable, :data:`CHROMIUM_ARGS`),
``PLAYWRIGHT_CONTEXTS`` (one context, :data:`CONTEXT`, or one per proxy; none in
auto and handoff mode, so no browser starts until a page needs one),
``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT``, ``PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER``,
``PLAYWRIGHT_ABORT_REQUEST`` (:func:`abort_request`),
``PLAYWRIGHT_PROCESS_REQUEST_HEADERS`` (``None``: the browser sends its own headers, so
they match the browser Cloudflare fingerprints, not Scrapy's user agent) and
``PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT`` (Scrapy's ``DOWNLOAD_TIMEOUT``).

Responses: scrapy-playwright builds a response from the FIRST navigation's status and
headers and the LAST document's HTML (``page.content()``, the DOM as serialised by the
browser). When a challenge clears, the first navigation was the challenge (403/503,
``cf-mitigated: challenge``) while the HTML is the real page; :class:`BrowserMiddleware`
puts the final document's status and headers on the response (patchright's reach
scrapy-playwright without headers at all), so RefusalMiddleware, the archive and
Scrapy's HTTP error handling judge the page the browser ended on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from hltv_scraper.config import ALWAYS, HltvConfig
from hltv_scraper.fetch.profiles import Profiles, write_private

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from typing_extensions import Self

    from hltv_scraper.config import BrowserConfig, Proxy

logger = logging.getLogger(__name__)

#: The one browser context every page request uses: its cookie jar carries a cleared
#: challenge's ``cf_clearance`` to every later page of the crawl. With proxies, each
#: has a context of its own, named by :func:`context_name`.
CONTEXT = "hltv"

#: Chromium flags. ``--no-sandbox``: Chromium's sandbox refuses to start as root (CI,
#: containers). The ``--disable-*``/``--no-*`` flags stop Chromium's own background
#: traffic (updates, sync, safe browsing, metrics): it is noise towards the network at
#: best, and on a closed network its refused connections are errors in the log.
#: ``--disable-dev-shm-usage``: containers often have a tiny ``/dev/shm``.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--no-first-run",
    "--no-default-browser-check",
    # WebGL on a machine without a GPU, as a person's Chromium has it: a page that finds
    # no WebGL context is looking at a server
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    # the size of Xvfb's screen: a window as big as the screen it is on, as a person's
    # maximised one (the page then sees its real size, see context_kwargs)
    "--window-size=1920,1080",
)

#: Resource types never downloaded: the data is in the HTML.
ABORTED_RESOURCE_TYPES = frozenset({"image", "font", "media"})

#: True once the page is no longer a Cloudflare challenge (the signs
#: ``site.refusal_reason`` looks for in a body), read from the DOM alone: patchright
#: evaluates in an isolated world, which sees the page's document, not its variables,
#: and the page never sees us read it.
_CHALLENGE_GONE_JS = """() =>
    document.readyState !== "loading"
    && !/^\\s*just a moment/i.test(document.title)
    && !Array.from(document.scripts).some(s => /window\\._cf_chl_opt/.test(s.text))
"""
#: The browser's User-Agent and the client hints it sends with it (``Sec-CH-UA*``), for
#: the plain path to send the same.
_IDENTITY_JS = """() => {
    const data = navigator.userAgentData;
    const hints = {};
    if (data) {
        hints["sec-ch-ua"] = data.brands.map(b => `"${b.brand}";v="${b.version}"`).join(", ");
        hints["sec-ch-ua-mobile"] = data.mobile ? "?1" : "?0";
        hints["sec-ch-ua-platform"] = `"${data.platform}"`;
    }
    return {user_agent: navigator.userAgent, hints: hints};
}"""
_POLL_SECONDS = 0.25

#: Request meta key: the main-frame documents the page received, (status, headers) each.
_DOCUMENTS = "hltv_browser_documents"
#: Request meta key: the browser context the page was opened in (``page.context``),
#: whose storage the download handler saves and which it closes when idle.
CONTEXT_IN_META = "hltv_browser_context"
#: Request meta key: where the context's storage state is kept (``fetch/profiles.py``).
STATE_IN_META = "hltv_browser_state"
#: Request meta key set by auto mode: render this page in the browser.
RENDER = "hltv_render"


def context_name(proxy_label: str | None) -> str:
    """The browser context of a proxy, :data:`CONTEXT` without proxies."""
    return CONTEXT if proxy_label is None else f"{CONTEXT} {proxy_label}"


def context_kwargs(proxy: Proxy | None, state: Path | None) -> dict[str, Any]:
    """A context's options: its proxy, and the cookies and storage its address kept
    from the last crawl (``fetch/profiles.py``)."""
    # no emulated viewport: Playwright's 1280x720 emulates a screen smaller than the
    # window that shows it, which a page can see
    kwargs: dict[str, Any] = {"no_viewport": True}
    if proxy:
        kwargs["proxy"] = proxy.playwright()
    if state is not None and state.is_file():
        kwargs["storage_state"] = str(state)
    return kwargs


def browser_meta(
    config: BrowserConfig, proxy: Proxy | None = None, *, solve: bool = False, state: Path | None = None,
) -> dict[str, Any]:
    """Request meta that sends one request through the browser, in the context of its
    proxy. ``solve``: the request is there to clear a challenge, and its response
    carries the browser's cookies and User-Agent (``request.meta["hltv_solution"]``).
    ``state``: the address's saved browser storage."""
    from scrapy_playwright.page import PageMethod  # no Playwright import: a plain class

    # a fresh PageMethod per request: scrapy-playwright stores its result on it
    methods = [PageMethod(wait_for_challenge, config.challenge_timeout)]
    if solve:
        methods.append(PageMethod(read_clearance))
    return {
        "playwright": True,
        "playwright_context": context_name(proxy.label if proxy else None),
        # a context closed when idle is made again, with its proxy and saved storage
        "playwright_context_kwargs": context_kwargs(proxy, state),
        "playwright_page_init_callback": f"{__name__}.track_documents",
        "playwright_page_methods": methods,
        STATE_IN_META: state,
    }


def abort_request(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: skip what the data does not need."""
    return request.resource_type in ABORTED_RESOURCE_TYPES


async def track_documents(page: Any, request: Request) -> None:
    """``playwright_page_init_callback``: note every document the page's main frame
    receives, so the response can describe the last one (see the module docstring), and
    the context the page is in, for the download handler to save and close when idle."""
    documents: list[tuple[int, dict[str, str]]] = []
    request.meta[_DOCUMENTS] = documents
    request.meta[CONTEXT_IN_META] = page.context

    def on_response(response: Any) -> None:
        try:
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                documents.append((response.status, dict(response.headers)))
        except Exception:  # e.g. a service worker's response has no frame
            return

    page.on("response", on_response)


async def wait_for_challenge(page: Any, timeout: float) -> str:
    """A page method: wait up to ``timeout`` seconds for a Cloudflare challenge in
    ``page`` to clear. Never raises for a challenge that stays: the response then
    carries the challenge, a refusal for RefusalMiddleware.

    Polls instead of ``page.wait_for_function``: a clearing challenge reloads the page,
    and an evaluation interrupted by that navigation is simply tried again.

    Returns ``"none"`` (no challenge), ``"cleared"`` or ``"timeout"``.
    """
    deadline = time.monotonic() + timeout
    seen_challenge = False
    while True:
        try:
            if await page.evaluate(_CHALLENGE_GONE_JS):
                return "cleared" if seen_challenge else "none"
            seen_challenge = True
        except Exception:  # Playwright's or patchright's Error: the page moved on, or died
            if page.is_closed():
                raise  # crashed or closed: the request fails, nothing to wait for
            seen_challenge = True  # the page is between documents
        if time.monotonic() >= deadline:
            logger.warning("Cloudflare challenge still there after %g s: %s", timeout, page.url)
            return "timeout"
        await asyncio.sleep(_POLL_SECONDS)


async def read_clearance(page: Any) -> dict[str, Any]:
    """A page method for a challenge solve: the cookies the page has now and the
    browser's exact User-Agent and client hints, to hand to the plain path."""
    identity = await page.evaluate(_IDENTITY_JS)
    return {
        "cookies": await page.context.cookies(page.url),
        "user_agent": identity.get("user_agent"),
        "hints": identity.get("hints") or {},
    }


async def save_state(context: Any, path: Path) -> None:
    """Keep a context's cookies and storage for the next crawl, owner-readable only."""
    state = await context.storage_state()
    write_private(path, json.dumps(state))


class BrowserMiddleware:
    """Send map page requests (``HLTV_BROWSER=1``, or auto mode's ``meta["hltv_render"]``)
    and challenge solves (handoff, auto) through the browser; make a browser response
    describe the document the page ended on, and count challenges
    (``hltv/browser/challenge/cleared|timeout``).

    Nearest the download handler, so the request already has its proxy."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        hltv = HltvConfig.of(crawler)
        self.config = hltv.browser
        self.proxies = hltv.proxies.by_label()
        self.profiles = Profiles(self.config.profile_dir) if self.config.profile_dir else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        solve = request.meta.get("hltv_solve") == "browser"
        render = self.config.mode == ALWAYS or request.meta.get(RENDER)
        # every time, retries too: a retry may have moved to another proxy's context
        if solve or (render and "hltv_page" in request.meta):
            label = request.meta.get("hltv_proxy")
            state = self.profiles.browser_state(label) if self.profiles else None
            request.meta.update(browser_meta(self.config, self.proxies.get(label), solve=solve, state=state))

    def process_response(self, request: Request, response: Response) -> Response:
        if "playwright" not in response.flags:
            return response
        for method in request.meta.get("playwright_page_methods") or ():
            if getattr(method, "method", None) is wait_for_challenge and method.result not in (None, "none"):
                self.stats.inc_value(f"hltv/browser/challenge/{method.result}")
            if getattr(method, "method", None) is read_clearance:
                request.meta["hltv_solution"] = method.result
        documents = request.meta.pop(_DOCUMENTS, None)
        if not documents:
            return response
        # the last document's status and headers: the first navigation's may be a
        # challenge since cleared, and patchright's responses reach scrapy-playwright
        # without their headers
        status, headers = documents[-1]
        headers.pop("content-encoding", None)  # the body is the browser's decoded DOM
        headers.pop("content-length", None)
        return response.replace(status=status, headers=headers)
