"""Progress a person can follow on a days-long crawl.

Scrapy's periodic stats line (``LOGSTATS_INTERVAL``), extended with what matters here:
the stage running, its units committed, failed and left, how many matches and maps the
whole chain still has to do (read from the database, so it counts every crawl sharing
it), pages Cloudflare refused, and the current delay; with proxies, pages and refusals
per proxy (by their masked names) and which are benched. A crawl that has nothing to
claim but units other workers hold says whose leases it waits for, and when they expire.

Counting what the chain has left scans the unit tables, which on a large database costs
a good part of a second; the counts are read from the database once every
``_CHAIN_REFRESH_SECONDS`` and, in between, the running stage's own count is lowered by
what this crawl committed since.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy.extensions.logstats import LogStats

from hltv_scraper.ledger.ledger import Ledger
from hltv_scraper.stages import claimable

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: How often the progress line counts the chain's pending units in the database.
_CHAIN_REFRESH_SECONDS = 600.0


class Progress(LogStats):
    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = super().from_crawler(crawler)
        extension.crawler = crawler
        extension._chain: dict[str, int] | None = None
        extension._chain_read_at = float("-inf")
        extension._committed_then = 0
        return extension

    def log(self, spider: Spider) -> None:
        self.calculate_stats()
        stats = self.stats.get_stats()
        ledger = Ledger.on(self.crawler)
        units = ledger.units_name if ledger is not None else "units"

        def count(key: str) -> int:
            return stats.get(f"hltv/{units}/{key}", 0)

        done = count("committed") + count("failed") + count("fetch_failed")
        pending = stats.get(f"hltv/{units}/pending_at_start")
        left = f"{max(pending - done, 0)}" if pending is not None else "?"
        waiting = ledger.waiting if ledger is not None else None
        if waiting is not None:
            left += f" ({waiting.describe()})"
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
            self.chain_left(ledger, committed=count("committed")),
            self.pages,
            self.prate,
            refused,
            delay,
            _per_proxy(stats),
            extra={"spider": spider},
        )

    def chain_left(self, ledger: Ledger | None, *, committed: int) -> str:
        """Units every tracked stage still has to do: from the database now and then,
        the running stage's own count lowered in between by the units it committed."""
        if ledger is None:
            return "chain: ?"
        now = time.monotonic()
        if self._chain is None or now - self._chain_read_at >= _CHAIN_REFRESH_SECONDS:
            try:
                self._chain = ledger.db.pending_counts(
                    claimable(), max_attempts=ledger.config.max_attempts, parser_version=ledger.parser_version
                )
            except Exception:  # a progress line must never break a crawl
                logger.debug("Could not count pending units", exc_info=True)
                return "chain: ?"
            self._chain_read_at, self._committed_then = now, committed
        left = dict(self._chain)
        stage = ledger.stage.name
        if stage in left:
            left[stage] = max(left[stage] - (committed - self._committed_then), 0)
        return "left: " + ", ".join(
            stage.left.format(left[stage.name]) for stage in claimable() if stage.name in left
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
