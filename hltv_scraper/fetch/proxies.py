"""Proxies: one download slot per address, and a proxy the site keeps refusing benched.

``-s HLTV_PROXIES=FILE`` names a file of proxy URLs, one a line
(``http://[user:password@]host:port``; ``#`` comments and blank lines are ignored). Each
proxy is its own Scrapy download slot, so it has its own delay, its own AutoThrottle
state and its own backoff (RefusalMiddleware backs off on the request's slot), its own
cookie jar and, in browser mode, its own browser context. Every map page request is
sent through the proxy that can send it soonest; a retried request may move to another.

A proxy refused ``HLTV_PROXY_MAX_REFUSALS`` times in a row (a Cloudflare refusal, a 403
or 429, a connection error, or no answer at its address at all) is benched for
``HLTV_PROXY_BENCH_SECONDS`` and comes back afterwards. When every proxy is benched at
once the crawl closes with ``hltv_fetch_failures``, or ``hltv_site_unreachable`` when
none of them could be reached. The stats key ``hltv/proxies/active`` (the number of proxies)
tells the rest of the crawl that proxies are in use.

Credentials never leave this module unmasked: logs, slot names, stats keys, errors and
the progress line show ``user:***@host:port``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from hltv_scraper.config import HltvConfig
from hltv_scraper.fetch.errors import (
    UNREACHABLE,
    PageRefused,
    SiteUnreachable,
    every_address_benched,
    request_refused,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from typing_extensions import Self

    from hltv_scraper.config import Proxy, ProxyConfig

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _ProxyState:
    proxy: Proxy
    in_a_row: int = 0  # refusals since the last page
    benched_until: float = 0.0  # monotonic clock
    sent: int = 0  # requests assigned: the last tie-breaker
    last_reason: str = ""  # why it was last refused


class ProxyMiddleware:
    """Send each map page request through a proxy, and bench proxies the site refuses."""

    def __init__(self, crawler: Crawler, config: ProxyConfig) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = config
        self.states = {proxy.label: _ProxyState(proxy) for proxy in config.proxies}
        self.closing = False
        self.stats.set_value("hltv/proxies/active", len(self.states))
        self.stats.set_value("hltv/proxies/benched", 0)
        crawler.signals.connect(self._refused, signal=request_refused)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = HltvConfig.of(crawler).proxies
        if not config.proxies:
            raise NotConfigured
        logger.info("Crawling through %d proxies: %s", len(config.proxies),
                    ", ".join(p.label for p in config.proxies))
        return cls(crawler, config)

    def process_request(self, request: Request) -> None:
        if "hltv_page" not in request.meta:
            return
        # a page just cleared on this proxy is retried on it (its cookies are its own)
        if request.meta.pop("hltv_keep_proxy", False) and request.meta.get("hltv_proxy") in self.states:
            return
        state = self._pick()
        if state is None:
            self._close()
            raise PageRefused("all_proxies_benched")
        state.sent += 1
        label = state.proxy.label
        request.meta.update(proxy=state.proxy.url, download_slot=label, cookiejar=label, hltv_proxy=label)

    def process_response(self, request: Request, response: Response) -> Response:
        state = self._state(request)
        if state is None:
            return response
        # RefusalMiddleware (above) has turned Cloudflare's refusals into retries; what
        # reaches here is a page or an HTTP error
        if response.status == 200:
            state.in_a_row = 0
            self.stats.inc_value(f"hltv/proxy/{state.proxy.label}/pages")
        elif response.status in (403, 407, 429):
            self._count_refusal(state, f"http_{response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        state = self._state(request)
        if state is not None and not isinstance(exception, (PageRefused, SiteUnreachable)):
            self._count_refusal(state, type(exception).__name__)

    # -- bookkeeping ----------------------------------------------------------------

    def _state(self, request: Request) -> _ProxyState | None:
        if "hltv_page" not in request.meta:
            return None
        return self.states.get(request.meta.get("hltv_proxy"))

    def _refused(self, request: Request, reason: str) -> None:
        state = self._state(request)
        if state is not None:
            self._count_refusal(state, reason)

    def _count_refusal(self, state: _ProxyState, reason: str) -> None:
        label = state.proxy.label
        self.stats.inc_value(f"hltv/proxy/{label}/refused")
        state.in_a_row += 1
        state.last_reason = reason
        now = time.monotonic()
        if state.in_a_row < self.config.max_refusals or state.benched_until > now:
            return
        state.benched_until = now + self.config.bench_seconds
        self.stats.inc_value(f"hltv/proxy/{label}/benched")
        self.stats.inc_value("hltv/proxies/benched_total")
        self._update_benched(now)
        logger.warning(
            "Proxy %s refused %d times in a row (last: %s): benched for %g s",
            label, state.in_a_row, reason, self.config.bench_seconds,
        )
        if not self._available(now):
            self._close()

    def _available(self, now: float) -> list[_ProxyState]:
        available = []
        for state in self.states.values():
            if state.benched_until and state.benched_until <= now:
                state.benched_until = 0.0
                state.in_a_row = 0
                logger.info("Proxy %s is back from the bench", state.proxy.label)
                self._update_benched(now)
            if not state.benched_until:
                available.append(state)
        return available

    def _update_benched(self, now: float) -> None:
        benched = 0
        for label, state in self.states.items():
            resting = state.benched_until > now
            benched += resting
            self.stats.set_value(f"hltv/proxy/{label}/benched_now", int(resting))
        self.stats.set_value("hltv/proxies/benched", benched)

    def _pick(self) -> _ProxyState | None:
        """The available proxy whose slot can send soonest: the earliest its delay
        allows, after the requests already waiting in it; then the least busy."""
        now = time.monotonic()
        slots = self.crawler.engine.downloader.slots if self.crawler.engine else {}

        def rank(state: _ProxyState) -> tuple[float, int, int]:
            slot = slots.get(state.proxy.label)
            if slot is None:
                return (now, 0, state.sent)
            ready = max(now, slot.lastseen + slot.delay) + len(slot.queue) * slot.delay
            return (ready, len(slot.active), state.sent)

        return min(self._available(now), key=rank, default=None)

    def _close(self) -> None:
        if self.closing or self.crawler.engine is None:
            return
        self.closing = True
        reasons = [state.last_reason for state in self.states.values()]
        unreachable = all(reason.startswith(UNREACHABLE) for reason in reasons)
        if unreachable:
            message = (
                f"every proxy ({len(self.states)}) is benched: none could be reached "
                f"({'; '.join(reasons)}). Check the proxies file and the network; pending "
                "units stay pending for a later run."
            )
        else:
            message = (
                f"every proxy ({len(self.states)}) is benched after {self.config.max_refusals} "
                "refusals in a row. The site is refusing all our addresses; pending units "
                "stay pending for a later run."
            )
        self.crawler.signals.send_catch_log(every_address_benched, unreachable=unreachable, message=message)

    def _closed(self, spider: Any, reason: str) -> None:
        self._update_benched(time.monotonic())
