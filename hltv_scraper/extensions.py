"""Progress a person can follow on a days-long crawl.

Scrapy's periodic stats line (``LOGSTATS_INTERVAL``), extended with what matters here:
maps committed, failed and left, pages Cloudflare refused, and the current delay; with
proxies, pages and refusals per proxy (by their masked names) and which are benched.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.extensions.logstats import LogStats

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class MapProgress(LogStats):
    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = super().from_crawler(crawler)
        extension.crawler = crawler
        return extension

    def log(self, spider: Spider) -> None:
        self.calculate_stats()
        stats = self.stats.get_stats()
        done = sum(stats.get(f"hltv/maps/{k}", 0) for k in ("committed", "failed", "fetch_failed"))
        pending = stats.get("hltv/maps/pending_at_start")
        left = f"{max(pending - done, 0)}" if pending is not None else "?"
        refused = sum(v for k, v in stats.items() if k.startswith("hltv/refused/"))
        slots = self.crawler.engine.downloader.slots.values() if self.crawler.engine else []
        delay = max((slot.delay for slot in slots), default=0.0)
        logger.info(
            "Maps: %d committed, %d failed, %d fetch failures, %s left | pages: %d "
            "(%d/min), %d refused by the site | delay %.1fs%s",
            stats.get("hltv/maps/committed", 0),
            stats.get("hltv/maps/failed", 0),
            stats.get("hltv/maps/fetch_failed", 0),
            left,
            self.pages,
            self.prate,
            refused,
            delay,
            _per_proxy(stats),
            extra={"spider": spider},
        )


def _per_proxy(stats: dict) -> str:
    """`` | proxies: host:port 120 ok/2 refused, user:***@host:port 98 ok/7 refused benched``"""
    if not stats.get("hltv/proxies/active"):
        return ""
    labels = sorted({key.split("/")[2] for key in stats if key.startswith("hltv/proxy/")})
    parts = []
    for label in labels:
        def count(name: str) -> int:
            return stats.get(f"hltv/proxy/{label}/{name}", 0)

        benched = " benched" if count("benched_now") else ""
        parts.append(f"{label} {count('pages')} ok/{count('refused')} refused{benched}")
    return " | proxies: " + (", ".join(parts) or "none used yet")
