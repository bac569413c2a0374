"""The transactional pipeline: a unit of work is stored whole or not at all.

Pages of one unit (a results page, a match, a map) arrive separately and interleaved
with other units. The pipeline holds each unit's outcomes until every page of it has
reported, then:

- all pages parsed: validate and write them in one transaction;
- a page failed to parse, or validation failed: count an attempt and record why,
  write nothing else;
- a page could not be fetched: write nothing at all; the unit is released, pending;
- the database refuses writes (disk full, read-only, gone): nothing of the unit is
  written and the crawl stops, since every unit after it would fail alike.

It also applies the brakes (:mod:`hltv_scraper.brakes`): a site that keeps refusing
us, or a page kind that keeps failing to parse, stops the crawl. Only units whose pages
are still arriving are held, so memory stays flat however long the crawl.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from hltv_scraper.brakes import Brakes, Stop, close_crawl, database_refused, fetch_verdict
from hltv_scraper.config import HltvConfig
from hltv_scraper.items import PageFailure
from hltv_scraper.storage import AlreadyStored, Database, ValidationError
from hltv_scraper.validation import check_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from hltv_scraper.spiders._base import UnitSpider

logger = logging.getLogger(__name__)

class UnitTransactionPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = HltvConfig.of(crawler)
        self.db: Database | None = None
        self._outcomes: dict[int, dict[str, Any]] = {}  # unit id -> page -> outcome
        self._stopping = False  # the database refused a write: write nothing more
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def spider(self) -> UnitSpider:
        return self.crawler.spider

    def open_spider(self) -> None:
        self.db = Database.open(self.config.database)
        first_failure_stops = getattr(self.spider, "first_failure_stops", False)
        self.brakes = Brakes.for_crawl(self.config, first_failure_stops=first_failure_stops)

    def close_spider(self) -> None:
        if self._outcomes:
            logger.warning(
                "Dropped %d %s whose pages did not all arrive before the crawl closed "
                "(%s); they stay pending",
                len(self._outcomes),
                self.spider.units_name,
                sorted(self._outcomes)[:20],
            )
            self._count("dropped_incomplete", len(self._outcomes))
            self._outcomes.clear()
        if self.db is not None:
            self.db.close()

    def process_item(self, item: Any) -> Any:
        page = getattr(item, "page", None)
        if page not in self.spider.parsers:
            return item
        outcomes = self._outcomes.setdefault(item.unit_id, {})
        outcomes[page] = item
        if set(outcomes) >= set(self.spider.parsers):
            del self._outcomes[item.unit_id]
            self._resolve(item.unit_id, outcomes)
        return item

    def _resolve(self, unit_id: int, outcomes: dict[str, Any]) -> None:
        if self._stopping:
            return  # the database refused a write: the crawl is closing
        failures = [o for o in outcomes.values() if isinstance(o, PageFailure)]
        parse_failures = {f.page: f.reason for f in failures if f.kind == PageFailure.PARSE}
        refused, unreachable = fetch_verdict([f.reason for f in failures if f.kind == PageFailure.FETCH])
        try:
            if parse_failures:
                self._record_failure(unit_id, [(f.page, f.reason, f.url) for f in failures if f.kind == PageFailure.PARSE])
            elif failures:
                self._count("fetch_failed")
                self.spider.left_pending.add(unit_id)
                self.db.release(self.spider.stage, unit_id, worker=self.spider.worker)
            else:
                self._save(unit_id, outcomes)
        except DBAPIError as exc:
            self._cannot_write(unit_id, exc)
            return
        stop = self.brakes.resolved(
            unit_id, pages=tuple(self.spider.parsers), refused=refused, parse_failures=parse_failures,
            unreachable=unreachable,
        )
        if stop is not None:
            self._brake(stop)

    def _save(self, unit_id: int, outcomes: dict[str, Any]) -> None:
        try:
            stage = self.spider.stage
            result = self.db.save(
                stage,
                unit_id,
                stage.bundle(**{page: outcomes[page] for page in stage.pages}),
                parser_version=self.spider.parser_version,
                check=check_for(stage),
                worker=self.spider.worker,
                # units named on the command line, or stale ones, are redone on purpose
                overwrite=self.spider.named_ids is not None or self.spider.reparse,
            )
        except AlreadyStored:
            self._count("already_stored")
            logger.info("%s %s was stored by another crawl meanwhile; left as it is",
                        self.spider.stage.key, unit_id)
            return
        except ValidationError as exc:
            url = getattr(outcomes.get(exc.page), "url", None)
            self._record_failure(unit_id, [(exc.page, exc.reason, url)])
            return
        except DBAPIError:
            raise
        except Exception as exc:  # a bug in a writer: rolled back, and on record as a failure
            logger.exception("Storing %s %s failed", self.spider.stage.key or "unit", unit_id)
            page = self.spider.stage.pages[0]
            url = getattr(outcomes.get(page), "url", None)
            self._record_failure(unit_id, [(page, f"storage error: {exc!r}"[:500], url)])
            return
        self._count("committed")
        for table, count in result.rows.items():
            self.stats.inc_value(f"hltv/rows/{table}", count)
        for name, count in result.counts.items():
            self.stats.inc_value(f"hltv/{self.spider.units_name}/{name}", count)
        for note in result.notes:
            logger.info("%s %s: %s", self.spider.stage.key or "unit", unit_id, note)
        if result.skipped_economy_rounds:
            self.stats.inc_value("hltv/economy/rounds_skipped", len(result.skipped_economy_rounds))
            logger.info(
                "Map %s: economy rounds %s are not in round_history; not stored",
                unit_id,
                result.skipped_economy_rounds,
            )

    def _record_failure(self, unit_id: int, failures: list[tuple[str, str, str | None]]) -> None:
        if not self.db.record_failure(
            self.spider.stage, unit_id, failures=failures, parser_version=self.spider.parser_version,
            worker=self.spider.worker,
        ):
            self._count("already_stored")
            logger.info("%s %s is held by another crawl meanwhile; its failure here is not counted",
                        self.spider.stage.key, unit_id)
            return
        self._count("failed")
        self.spider.left_pending.add(unit_id)
        for page, reason, _ in failures:
            logger.warning("%s %s failed on its %s page: %s", self.spider.stage.key or "unit", unit_id, page, reason)

    def _count(self, outcome: str, count: int = 1) -> None:
        self.stats.inc_value(f"hltv/{self.spider.units_name}/{outcome}", count)

    def _brake(self, stop: Stop) -> None:
        if not self._closing:
            self._closing = True
            logger.error("Stopping: %s", stop.message)
            self.stats.set_value("hltv/stopped_because", stop.message)
            close_crawl(self.crawler, stop.reason)
        if stop.refund:  # after the stop: a database that refuses this must not undo it
            try:
                self.db.refund_attempts(self.spider.stage, stop.refund)
            except DBAPIError:
                logger.exception("Could not take back the attempts of %s", stop.refund)

    def _cannot_write(self, unit_id: int, exc: DBAPIError) -> None:
        """The transaction was rolled back: nothing of the unit is written. Say so once
        and stop, rather than fetch every pending unit for nothing."""
        self._count("not_written")
        if self._stopping:
            return
        self._stopping = self._closing = True
        what = f"Nothing of {self.spider.stage.key or 'unit'} {unit_id} was written (it stays pending)"
        database_refused(self.crawler, self.db.location, exc, what)
