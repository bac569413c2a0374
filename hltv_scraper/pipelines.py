"""The transactional pipeline: a map is stored whole or not at all.

Pages of one map arrive separately (and interleaved with other maps). The pipeline
holds each map's outcomes until every page of it has reported, then:

- all pages parsed: validate and write them in one transaction;
- a page failed to parse, or validation failed: count an attempt and record why,
  write nothing else;
- a page could not be fetched: write nothing at all; the map stays pending;
- the database refuses writes (disk full, read-only): nothing of the map is written
  and the crawl stops, since every map after it would fail alike.

Only maps whose pages are still arriving are held, so memory stays flat however
long the crawl.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import deferred_from_coro

from hltv_scraper.config import HltvConfig
from hltv_scraper.items import ECONOMY, MAPSTATS, PERFORMANCE, PageFailure
from hltv_scraper.parsers import PARSER_VERSION
from hltv_scraper.storage import AlreadyStored, Database, ValidationError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: The reason a crawl closes with when the database refuses writes.
CLOSE_REASON_DATABASE = "hltv_database_error"


class MapTransactionPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = HltvConfig.from_settings(crawler.settings)
        self.db: Database | None = None
        self._outcomes: dict[int, dict[str, Any]] = {}  # mapstatsid -> page -> outcome
        self._stopping = False  # the database refused a write: the crawl is closing

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = Database.open(self.config.db_path)

    def close_spider(self) -> None:
        if self._outcomes:
            logger.warning(
                "Dropped %d maps whose pages did not all arrive before the crawl closed "
                "(mapstatsids %s); they stay pending",
                len(self._outcomes),
                sorted(self._outcomes)[:20],
            )
            self.stats.inc_value("hltv/maps/dropped_incomplete", len(self._outcomes))
            self._outcomes.clear()
        if self.db is not None:
            self.db.close()

    def process_item(self, item: Any) -> Any:
        page = getattr(item, "page", None)
        if page not in (PERFORMANCE, ECONOMY, MAPSTATS):
            return item
        outcomes = self._outcomes.setdefault(item.mapstatsid, {})
        outcomes[page] = item
        if set(outcomes) >= set(self._spider_pages()):
            del self._outcomes[item.mapstatsid]
            self._resolve(item.mapstatsid, outcomes)
        return item

    def _spider_pages(self) -> tuple[str, ...]:
        return tuple(self.crawler.spider.parsers)

    def _resolve(self, mapstatsid: int, outcomes: dict[str, Any]) -> None:
        stage = self.crawler.spider.stage
        failures = [o for o in outcomes.values() if isinstance(o, PageFailure)]
        parse_failures = [f for f in failures if f.kind == PageFailure.PARSE]
        if parse_failures:
            self._record_failure(mapstatsid, stage, [(f.page, f.reason, f.url) for f in parse_failures])
            return
        if failures:
            self.stats.inc_value("hltv/maps/fetch_failed")
            return
        spider = self.crawler.spider
        try:
            result = self.db.save(
                stage,
                mapstatsid,
                outcomes,
                parser_version=PARSER_VERSION,
                # maps named on the command line are redone on purpose
                overwrite=bool(spider.mapstatsids),
            )
        except AlreadyStored:
            self.stats.inc_value("hltv/maps/already_stored")
            logger.info("Map %s was stored by another crawl meanwhile; left as it is", mapstatsid)
            return
        except ValidationError as exc:
            url = getattr(outcomes.get(exc.page), "url", None)
            self._record_failure(mapstatsid, stage, [(exc.page, exc.reason, url)])
            return
        except sqlite3.Error as exc:
            self._cannot_write(mapstatsid, exc)
            return
        self.stats.inc_value("hltv/maps/committed")
        for table, count in result.rows.items():
            self.stats.inc_value(f"hltv/rows/{table}", count)
        if result.skipped_economy_rounds:
            self.stats.inc_value("hltv/economy/rounds_skipped", len(result.skipped_economy_rounds))
            logger.info(
                "Map %s: economy rounds %s are not in round_history; not stored",
                mapstatsid,
                result.skipped_economy_rounds,
            )

    def _record_failure(self, mapstatsid: int, stage: str, failures: list[tuple[str, str, str | None]]) -> None:
        try:
            self.db.record_failure(mapstatsid, stage=stage, failures=failures, parser_version=PARSER_VERSION)
        except sqlite3.Error as exc:
            self._cannot_write(mapstatsid, exc)
            return
        self.stats.inc_value("hltv/maps/failed")
        for page, reason, _ in failures:
            logger.warning("Map %s failed on its %s page: %s", mapstatsid, page, reason)

    def _cannot_write(self, mapstatsid: int, exc: sqlite3.Error) -> None:
        """The transaction was rolled back: nothing of the map is written. Say so once
        and stop, rather than fetch every pending map for nothing."""
        self.stats.inc_value("hltv/maps/not_written")
        if self._stopping:
            return
        self._stopping = True
        logger.error(
            "Cannot write to the database %s: %s. Nothing of map %s was written (it stays "
            "pending); stopping the crawl.",
            self.config.db_path,
            exc,
            mapstatsid,
        )
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON_DATABASE))
