"""Downloader middleware for a site that pushes back, or is not there at all.

A Cloudflare challenge, an "Access denied" page or a body that is not the page asked
for must never reach a parser (it would burn a parse attempt) nor the archive. Such a
response is retried a few times (``HLTV_REFUSAL_RETRIES``) and, every time, the
site's download delay doubles (up to ``HLTV_BACKOFF_MAX_DELAY``): a site that refuses
us is asked less often, not more. When the retries are spent the response becomes
:class:`PageRefused`, which Scrapy hands to the request's errback as a fetch failure.
Every refusal is also announced with the :data:`request_refused` signal, for whoever
keeps count per address (the proxies).

Every page that passes is counted by the way it came (``hltv/pages/fetched/plain``,
``browser``, ``flaresolverr``, ``archive``).

A 429 or 5xx doubles the delay the same way before Scrapy's RetryMiddleware retries
it, and a ``Retry-After`` on it raises the delay to at least what the site asked for.
AutoThrottle brings the delay back down as pages come through again.

A request that reaches nothing (connection refused, no such host, connect timeout) is
not a refusal: it fails at once with :class:`SiteUnreachable` and the reason
``unreachable: <error> (<host:port>)`` (Scrapy's RetryMiddleware, below, would
otherwise try a dead address again and again). With proxies it is announced like a
refusal, so the proxy is benched, and retried on another proxy.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import get_retry_request

from hltv_scraper.config import HltvConfig
from hltv_scraper.fetch.errors import (
    SENDS_STOPPED,
    NotSent,
    PageRefused,
    SiteUnreachable,
    address,
    request_refused,
    unreachable_reason,
)
from hltv_scraper.site import refusal_reason

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

class RefusalMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = HltvConfig.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.stats.get_value(SENDS_STOPPED):
            raise NotSent(NotSent.reason)  # the crawl reached nothing and is closing

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status == 429 or response.status >= 500:
            # Overloaded or failing: RetryMiddleware retries it, after a longer wait.
            self._slow_down(
                request, to_at_least=_retry_after(response) or 0.0, why=f"HTTP {response.status}"
            )
        page = request.meta.get("hltv_page")
        if page is None:
            return response
        reason = refusal_reason(response, request.meta.get("hltv_markers", ()))
        if reason is None:
            self.stats.inc_value(f"hltv/pages/fetched/{_fetched_by(response)}")
            return response
        if reason.startswith("http_"):
            return response  # an error status for RetryMiddleware
        self.stats.inc_value(f"hltv/refused/{reason}")
        self.crawler.signals.send_catch_log(request_refused, request=request, reason=reason)
        self._slow_down(request, to_at_least=0, why=reason)
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"refused/{reason}",
            max_retry_times=self.config.refusal_retries,
            give_up_log_level=logging.WARNING,  # the spider reports the fetch failure
        )
        if retry is not None:
            return retry
        raise PageRefused(reason)

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        reason = unreachable_reason(exception, address(request))
        if reason is None:
            return None  # RetryMiddleware's to judge
        self.stats.inc_value("hltv/unreachable")
        self.crawler.signals.send_catch_log(request_refused, request=request, reason=reason)
        if self.config.proxies.proxies and "hltv_page" in request.meta:
            # another proxy may get through: retried like a refusal, on the soonest one
            retry = get_retry_request(
                request, spider=self.crawler.spider, reason="unreachable",
                max_retry_times=self.config.refusal_retries, give_up_log_level=logging.WARNING,
            )
            if retry is not None:
                retry.meta.pop("hltv_keep_proxy", None)
                return retry
        raise SiteUnreachable(reason)

    def _slow_down(self, request: Request, *, to_at_least: float, why: str) -> None:
        slot = self._slot(request)
        if slot is None:
            return
        ceiling = self.config.backoff_max_delay
        # Scrapy waits delay * (1 ± jitter): scale up so even the shortest wait is enough.
        to_at_least /= max(1.0 - getattr(slot, "jitter", 0.0), 0.1)
        new_delay = min(max(slot.delay * 2, self.config.backoff_start_delay, to_at_least), ceiling)
        if new_delay > slot.delay:
            logger.warning(
                "Site pushed back (%s) on %s: download delay %.1fs -> %.1fs",
                why, request.meta.get("download_slot"), slot.delay, new_delay,
            )
            slot.delay = new_delay
        self.stats.set_value("hltv/download_delay", slot.delay)

    def _slot(self, request: Request) -> Slot | None:
        downloader = self.crawler.engine.downloader
        return downloader.slots.get(request.meta.get("download_slot"))


def _fetched_by(response: Response) -> str:
    """How a page came: ``plain``, ``browser``, ``flaresolverr`` or from the ``archive``."""
    flags = response.flags
    if "cached" in flags:
        return "archive"
    if "playwright" in flags:
        return "browser"
    if "flaresolverr" in flags:
        return "flaresolverr"
    return "plain"


def _retry_after(response: Response) -> float | None:
    """Seconds from a ``Retry-After: <seconds>`` header on 429/503 (dates are ignored)."""
    if response.status not in (429, 503):
        return None
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value.decode("latin-1").strip()))
    except ValueError:
        return None
