"""Clearance handoff: a browser gets through a challenge once, the plain path goes on with
its cookies.

Cloudflare lets a client through once its challenge is solved, by a cookie
(``cf_clearance``) bound to that client's User-Agent and address. This middleware, in
place of Scrapy's cookies middleware (it keeps the cookie jars, one per proxy), sends
every plain map page request with the cookies and User-Agent of the jar's clearance:

- from a cookie file (``HLTV_COOKIES_FILE`` + ``HLTV_USER_AGENT``), from the first request;
- from a solve: when a plain page comes back as a challenge, the page is fetched once
  by the solver (Chromium with ``HLTV_BROWSER=handoff``, or FlareSolverr), and its
  cookies and User-Agent become the jar's clearance. After a browser solve the plain
  path retries the page; FlareSolverr's answer is the page itself (unless it hands
  back the interstitial with the clearance cookies, as it can: then the plain path
  retries too).

Only one solve per jar runs at a time, and pages do not run into a challenge the jar
already knows about: while a jar's solve runs, its other pages wait for the clearance
before they are sent; and a jar not yet known to get through (its first page, or the
first after a challenge) sends one page, the others waiting for how it went. A page
challenged meanwhile all the same waits for the solve, and a page sent with an older
clearance than the jar has now is simply retried. A page gets
one solve: challenged again (the site rejects the handed-off clearance) or a solve
that did not clear, it is a refusal like any other (retried with backoff, then a
fetch failure). A solver that fails (FlareSolverr down or answering an error) is a
fetch failure with its reason.

In auto mode (``fetch/auto.py``) the same middleware also decides, per jar, when the
plain path gives up: challenged again right after a solve, the jar's pages go to the
browser (``meta["hltv_render"]``) for a while. Without a Chromium to solve with, the
first challenge is :class:`BrowserNeeded`, and every later page fails alike unsent.

A jar's clearance (cookies, User-Agent, client hints, and auto mode's choice) is kept
in its address's profile (``fetch/profiles.py``) after every solve and when the crawl
closes, and the next crawl starts with it.

Stats: ``hltv/clearance/challenged``, ``hltv/clearance/solved/<solver>``,
``hltv/clearance/failed/<solver>``; with RefusalMiddleware's
``hltv/pages/fetched/<plain|browser|flaresolverr>``, the ratio of solves to pages.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.exceptions import NotConfigured

from hltv_scraper.config import AUTO, BROWSER, FLARESOLVERR, HltvConfig
from hltv_scraper.fetch.auto import AutoMode, pages_line
from hltv_scraper.fetch.browser import RENDER
from hltv_scraper.fetch.cookies import make_cookie, read_cookie_file
from hltv_scraper.fetch.errors import (
    SENDS_STOPPED,
    BrowserNeeded,
    NotSent,
    SolverFailed,
    stop_fetching,
)
from hltv_scraper.fetch.profiles import PlainState, Profiles, jar_cookies
from hltv_scraper.site import is_challenge, refusal_reason

if TYPE_CHECKING:
    from http.cookiejar import Cookie

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from typing_extensions import Self

    from hltv_scraper.config import BrowserConfig, FetchConfig

logger = logging.getLogger(__name__)

#: Stats key: challenges met without a Chromium to solve them.
_NEEDED_STAT = "hltv/clearance/browser_needed"
#: Request headers that travel with a browser's User-Agent when it has them.
_CLIENT_HINTS = (b"sec-ch-ua", b"sec-ch-ua-mobile", b"sec-ch-ua-platform")


@dataclass
class Clearance:
    user_agent: str | None
    hints: dict[bytes, bytes] = field(default_factory=dict)
    generation: int = 0  # 0: none yet


class ClearanceMiddleware(CookiesMiddleware):
    def __init__(
        self, crawler: Crawler, config: FetchConfig, file_cookies: list[Cookie], browser: BrowserConfig | None = None,
    ) -> None:
        super().__init__(debug=crawler.settings.getbool("COOKIES_DEBUG"))
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = config
        self.file_cookies = file_cookies
        self.browser = browser
        browser_solves = browser is not None and config.solver == BROWSER
        #: clearances kept between crawls: with the browser as the solver
        self.profiles = Profiles(browser.profile_dir) if browser_solves and browser.profile_dir else None
        self.auto = AutoMode(crawler.stats, browser.render_seconds) if browser_solves and browser.mode == AUTO else None
        #: set at the first challenge there is no Chromium for
        self.browser_missing = browser_solves and not browser.available
        self.clearances: dict[Any, Clearance] = {}  # cookie jar key (proxy) -> clearance
        self.solving: dict[Any, asyncio.Future[bool]] = {}
        #: jars whose last page got through; a jar not in it sends one page at a time
        self.proven: set[Any] = set()
        self.probes: dict[Any, asyncio.Future[None]] = {}  # jar -> its page under way
        self.generations = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        hltv = HltvConfig.of(crawler)
        config = hltv.fetch
        if not config.hands_off:
            raise NotConfigured
        cookies = []
        if config.cookies_file:
            cookies = read_cookie_file(config.cookies_file, host=hltv.site_host)
            logger.info("Sending %d cookies from %s (%s) with the User-Agent %r", len(cookies),
                        config.cookies_file, ", ".join(sorted({c.name for c in cookies})), config.user_agent)
        middleware = cls(crawler, config, cookies, hltv.browser)
        crawler.signals.connect(middleware._closed, signal=signals.spider_closed)
        return middleware

    def _clearance(self, key: Any) -> Clearance:
        clearance = self.clearances.get(key)
        if clearance is None:  # a jar's first request: the file's cookies go in first
            clearance = self.clearances[key] = Clearance(self.config.user_agent)
            for cookie in self.file_cookies:
                self.jars[key].set_cookie(cookie)
            if self.profiles is not None:
                self._restore(key, clearance)
        return clearance

    def _restore(self, key: Any, clearance: Clearance) -> None:
        """The clearance the last crawl left for this jar's address."""
        saved = self.profiles.load_plain(key)
        names = []
        for entry in saved.cookies:
            try:
                self.jars[key].set_cookie(make_cookie(entry))
                names.append(entry["name"])
            except (KeyError, TypeError, ValueError):
                continue
        if names and saved.user_agent:
            self.generations += 1
            clearance.user_agent = saved.user_agent
            clearance.hints = {k.encode(): v.encode() for k, v in saved.hints.items()}
            clearance.generation = self.generations
            logger.info("Reusing the clearance saved %s by the last crawl (cookies %s)",
                        "through " + key if key else "for this machine", ", ".join(sorted(set(names))))
        if self.auto is not None:
            self.auto.restore(key, saved.render_until)

    def _save(self, key: Any) -> None:
        if self.profiles is None or key not in self.clearances:
            return
        clearance = self.clearances[key]
        if not clearance.generation and not (self.auto and key in self.auto.render_until):
            return  # nothing earned: nothing to keep
        try:
            self.profiles.save_plain(key, PlainState(
                cookies=jar_cookies(self.jars[key].jar),
                user_agent=clearance.user_agent,
                hints={k.decode(): v.decode() for k, v in clearance.hints.items()},
                render_until=self.auto.render_until.get(key, 0.0) if self.auto else 0.0,
            ))
        except OSError as exc:
            logger.warning("Could not save the clearance in %s: %s", self.profiles.root, exc)

    def _closed(self, spider: Any) -> None:
        for key in list(self.clearances):
            self._save(key)
        line = pages_line(self.stats.get_stats()) if self.config.solver is not None else None
        if line:
            logger.info(line)

    async def process_request(self, request: Request) -> None:
        if "hltv_page" in request.meta:
            key = request.meta.get("cookiejar")
            self._clearance(key)  # a jar's first page: the saved clearance goes in
            request.meta.pop(RENDER, None)
            if self._rendered(request, key):
                return None
            if self.config.solver is not None:
                await self._wait_for_clearance(request)
                if self.stats.get_value(SENDS_STOPPED):  # the crawl stopped while it waited
                    self._probe_done(request)
                    raise NotSent(NotSent.reason)
                if self._rendered(request, key):  # the address switched while it waited
                    return None
            clearance = self._clearance(key)
            if self.browser_missing and self.stats.get_value(_NEEDED_STAT) and not clearance.generation:
                self._probe_done(request)
                raise BrowserNeeded(self.browser.executable)  # never sent: it would be challenged
            if clearance.user_agent:
                request.headers[b"User-Agent"] = clearance.user_agent
            for name, value in clearance.hints.items():
                request.headers[name] = value
            request.meta["hltv_clearance"] = clearance.generation
        return super().process_request(request)

    def _rendered(self, request: Request, key: Any) -> bool:
        """Auto mode: send the page to the browser when its address renders every page
        (the browser sends its own cookies and User-Agent)."""
        if self.auto is None or not self.auto.renders(key):
            return False
        self._probe_done(request)
        request.meta[RENDER] = True
        return True

    async def _wait_for_clearance(self, request: Request) -> None:
        """Hold a page while its jar is being cleared, or while another page finds out
        whether the jar gets through; the page that finds out is the jar's probe."""
        key = request.meta.get("cookiejar")
        while True:
            solving = self.solving.get(key)
            if solving is not None:
                self.stats.inc_value("hltv/clearance/waited")
                with suppress(Exception):  # the page that asked reports a failed solve
                    await asyncio.shield(solving)
                continue
            if key in self.proven:
                return
            probe = self.probes.get(key)
            if probe is None:
                self.probes[key] = asyncio.get_running_loop().create_future()
                request.meta["hltv_probe"] = True
                return
            await asyncio.shield(probe)

    def _probe_done(self, request: Request) -> None:
        if request.meta.pop("hltv_probe", False):
            probe = self.probes.pop(request.meta.get("cookiejar"), None)
            if probe is not None and not probe.done():
                probe.set_result(None)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._probe_done(request)  # the jar is no wiser: the next page tries

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        response = super().process_response(request, response)  # Set-Cookie into the jar
        page = request.meta.get("hltv_page")
        if page is None or self.config.solver is None:
            return response
        key = request.meta.get("cookiejar")
        if request.meta.get(RENDER):
            return response  # the browser's page: RefusalMiddleware judges it
        if not is_challenge(response):
            self.proven.add(key)
            self._probe_done(request)
            if self.auto is not None:
                self.auto.plain_page(key)
            return response
        self.proven.discard(key)
        try:
            return await self._challenged(key, request, response, page)
        finally:
            self._probe_done(request)

    async def _challenged(self, key: Any, request: Request, response: Response, page: str) -> Request | Response:
        self.stats.inc_value("hltv/clearance/challenged")
        clearance = self._clearance(key)
        if clearance.generation > request.meta.get("hltv_clearance", 0):
            return _retry(request)  # cleared since it was sent: send it again
        if key in self.solving:  # another page is being solved on this jar: wait for it
            try:
                cleared = await asyncio.shield(self.solving[key])
            except SolverFailed:
                return response  # the solver's failure is reported by the page that asked
            return _retry(request) if cleared else response
        if self.auto is not None and (self.auto.renders(key) or not self.auto.clearance_held(key)):
            if not self.auto.renders(key):
                self.auto.switch_to_browser(key, request.url)
                self._save(key)
            return _render(request)
        if request.meta.get("hltv_solved"):
            return response  # it had its solve and the site still says no: a refusal
        if self.browser_missing:
            self.stats.inc_value(_NEEDED_STAT)
            stop_fetching(self.crawler, (
                f"the site asks for a browser (a Cloudflare challenge on {request.url}) and there "
                f"is no Chromium at {self.browser.executable}: `make browser` installs one. "
                "Pending units stay pending for a later run."
            ))
            raise BrowserNeeded(self.browser.executable)
        solving = self.solving[key] = asyncio.ensure_future(self._solve(key, request, page))
        solving.add_done_callback(lambda _: self.solving.pop(key, None))
        self._probe_done(request)  # the pages waiting for it now wait for the solve
        outcome = await asyncio.shield(solving)
        if outcome is False:
            request.meta["hltv_solved"] = True  # no second solve for this page
            return response
        if outcome is True:  # cleared: the plain path fetches the page
            return _retry(request)
        return outcome.replace(request=request)  # FlareSolverr's solution is the page

    async def _solve(self, key: Any, request: Request, page: str) -> bool | Response:
        solver = self.config.solver
        meta = {k: v for k, v in request.meta.items() if k not in ("hltv_page", "hltv_solved") and not k.startswith("playwright")}
        meta.update(hltv_solve=solver, dont_cache=True, dont_retry=True)
        solve = request.replace(meta=meta, dont_filter=True)
        where = f" through {key}" if key else ""
        logger.info("Challenge on %s: solving it with %s%s", request.url, solver, where)
        try:
            response = await self.crawler.engine.download_async(solve)
        except SolverFailed:
            self.stats.inc_value(f"hltv/clearance/failed/{solver}")
            raise
        except Exception as exc:
            self.stats.inc_value(f"hltv/clearance/failed/{solver}")
            raise SolverFailed(f"{solver}_failed: {type(exc).__name__}: {exc}") from exc
        solution = solve.meta.get("hltv_solution") or {}
        is_page = refusal_reason(response, request.meta.get("hltv_markers", ())) is None
        # FlareSolverr may answer with the interstitial it left, yet with the clearance
        if not is_page and not (solver == FLARESOLVERR and solution.get("cookies")):
            self.stats.inc_value(f"hltv/clearance/failed/{solver}")
            logger.warning("The %s did not get through the challenge on %s", solver, request.url)
            return False
        self._hand_off(key, solution, solve)
        self.stats.inc_value(f"hltv/clearance/solved/{solver}")
        if self.auto is not None:
            self.auto.solved(key)
        self._save(key)
        return response if is_page and solver == FLARESOLVERR else True

    def _hand_off(self, key: Any, solution: dict[str, Any], solve: Request) -> None:
        jar = self.jars[key]
        names = []
        for entry in solution.get("cookies") or ():
            try:
                jar.set_cookie(make_cookie(entry))
                names.append(entry["name"])
            except (KeyError, TypeError, ValueError):
                continue  # not a cookie we can send
        self.generations += 1
        hints = {name: solve.headers[name] for name in _CLIENT_HINTS if solve.headers.get(name)}
        # the browser's own, read in the page: they go with its User-Agent
        hints.update({k.encode(): v.encode() for k, v in (solution.get("hints") or {}).items()})
        self.clearances[key] = Clearance(solution.get("user_agent") or self.config.user_agent, hints, self.generations)
        self.proven.add(key)  # the pages waiting for it go, with it
        logger.info("Cleared: the plain path goes on with cookies %s and the User-Agent %r",
                    ", ".join(sorted(names)), solution.get("user_agent"))


def _render(request: Request) -> Request:
    """The page again, rendered in the browser, on the same proxy."""
    retry = request.replace(dont_filter=True)
    retry.meta.pop("hltv_probe", None)
    retry.meta.update(hltv_keep_proxy=True, **{RENDER: True})
    return retry


def _retry(request: Request) -> Request:
    """The page again, on the same proxy (its clearance is that proxy's)."""
    retry = request.replace(dont_filter=True)
    retry.meta.pop("hltv_probe", None)
    retry.meta.update(hltv_keep_proxy=True, hltv_solved=True)
    return retry
