"""What the downloader was told: a test extension noting each request's download slot.

Timings measured at a server drift on a loaded machine (Scrapy spaces the sends, not the
arrivals); the delay and concurrency a slot holds when a request reaches it do not. Add
``SLOT_PROBE`` to a test crawl's ``EXTENSIONS``; the crawl's stats then hold, under
``probe/slots``, one :data:`Seen` per request that reached the downloader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

SLOT_PROBE = {"tests.support.slots.SlotProbe": 0}


class Seen(NamedTuple):
    slot: str
    path: str
    retry_times: int
    concurrency: int
    delay: float
    jitter: float


class SlotProbe:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: list[Seen] = []
        crawler.stats.set_value("probe/slots", self.seen)
        crawler.signals.connect(self.reached, signal=signals.request_reached_downloader)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SlotProbe:
        return cls(crawler)

    def reached(self, request: Request, spider: object) -> None:
        key = request.meta.get("download_slot")
        slot = self.crawler.engine.downloader.slots[key]
        parts = urlsplit(request.url)
        self.seen.append(Seen(
            slot=key, path=parts.path + (f"?{parts.query}" if parts.query else ""),
            retry_times=request.meta.get("retry_times", 0), concurrency=slot.concurrency,
            delay=slot.delay, jitter=slot.jitter,
        ))
