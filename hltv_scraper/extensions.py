"""Progress a person can follow on a days-long crawl.

Scrapy's periodic stats line (``LOGSTATS_INTERVAL``), extended with what matters here:
the stage running, its units committed, failed and left, how many matches and maps the
whole chain still has to do (read from the database, so it counts every crawl sharing
it), pages Cloudflare refused, and the current delay; with proxies, pages and refusals
per proxy (by their masked names) and which are benched.
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


class Progress(LogStats):
    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = super().from_crawler(crawler)
        extension.crawler = crawler
        return extension

    def log(self, spider: Spider) -> None:
        self.calculate_stats()
        stats = self.stats.get_stats()
        units = getattr(spider, "units_name", "units")

        def count(key: str) -> int:
            return stats.get(f"hltv/{units}/{key}", 0)

        done = count("committed") + count("failed") + count("fetch_failed")
        pending = stats.get(f"hltv/{units}/pending_at_start")
        left = f"{max(pending - done, 0)}" if pending is not None else "?"
        refused = sum(v for k, v in stats.items() if k.startswith("hltv/refused/"))
        slots = self.crawler.engine.downloader.slots.values() if self.crawler.engine else []
        delay = max((slot.delay for slot in slots), default=0.0)
        logger.info(
            "[%s] %s: %d committed, %d failed, %d fetch failures, %s left | %s | pages: %d "
            "(%d/min), %d refused by the site | delay %.1fs%s",
            spider.name,
            units,
            count("committed"),
            count("failed"),
            count("fetch_failed"),
            left,
            self._chain_left(spider),
            self.pages,
            self.prate,
            refused,
            delay,
            _per_proxy(stats),
            extra={"spider": spider},
        )

    @staticmethod
    def _chain_left(spider: Spider) -> str:
        """Matches and maps every stage still has to do, from the database."""
        db, config = getattr(spider, "db", None), getattr(spider, "config", None)
        if db is None or config is None:
            return "chain: ?"
        try:
            left = db.pending_counts(max_attempts=config.max_attempts, parser_version=getattr(spider, "parser_version", None))
        except Exception:  # a progress line must never break a crawl
            logger.debug("Could not count pending units", exc_info=True)
            return "chain: ?"
        return (
            f"left: {left['matches']} match pages, {left['map_stats']} map stats pages, "
            f"{left['perf_economy']} maps for performance/economy"
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
