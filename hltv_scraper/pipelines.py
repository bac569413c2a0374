"""The transactional pipeline: a unit of work is stored whole or not at all.

Pages of one unit (a results page, a match, a map) arrive separately and interleaved
with other units. The crawl's :class:`~hltv_scraper.ledger.ledger.Ledger` holds each unit's
outcomes until every page of it has reported; then the pipeline decides:

- all pages parsed: validate and write them in one transaction;
- a page failed to parse, or validation failed: count an attempt and record why,
  write nothing else;
- a page could not be fetched: write nothing at all; the unit is released, pending;
- the database refuses writes (disk full, read-only, gone): nothing of the unit is
  written and the crawl stops, since every unit after it would fail alike.

and tells the ledger which bucket the unit settled in. It also applies the brakes
(:mod:`hltv_scraper.brakes`): a site that keeps refusing us, or a page kind that keeps
failing to parse or to validate, stops the crawl. Only units whose pages are still
arriving are held, so memory stays flat however long the crawl.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import DBAPIError

from hltv_scraper.brakes import Brakes, Stop, benched_everywhere, close_crawl, database_refused, fetch_verdict
from hltv_scraper.fetch.errors import every_address_benched
from hltv_scraper.items import PageFailure, PageOutcome, PagePassedOver
from hltv_scraper.ledger.ledger import (
    ALREADY_STORED,
    COMMITTED,
    FAILED,
    FETCH_FAILED,
    NOT_WRITTEN,
    PASSED_OVER,
    Ledger,
)
from hltv_scraper.storage import AlreadyStored, ValidationError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class UnitTransactionPipeline:
    def __init__(self, crawler: Crawler, ledger: Ledger) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.ledger = ledger
        self.db = ledger.db  # the crawl's one connection
        self.stage = ledger.stage
        self._stopping = False  # the database refused a write: write nothing more
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ledger = Ledger.on(crawler)
        if ledger is None:  # a spider that is none of our stages stores nothing here
            raise NotConfigured(f"{crawler.spidercls.__name__} keeps no unit ledger")
        pipeline = cls(crawler, ledger)
        crawler.signals.connect(pipeline._benched, signal=every_address_benched)
        return pipeline

    def open_spider(self) -> None:
        self.brakes = Brakes.for_crawl(
            self.ledger.config, first_failure_stops=self.ledger.first_failure_stops
        )

    def process_item(self, item: Any) -> Any:
        if getattr(item, "page", None) not in self.ledger.pages:
            return item
        outcomes = self.ledger.record(item)
        if outcomes is not None:
            self._resolve(item.unit_id, outcomes)
        return item

    def _resolve(self, unit_id: int, outcomes: dict[str, PageOutcome], *, again: bool = False) -> None:
        if self._stopping:  # the database refused a write: the crawl is closing
            self.ledger.settle(unit_id, NOT_WRITTEN)
            return
        failures = [o for o in outcomes.values() if isinstance(o, PageFailure)]
        parse_failures = {f.page: f.reason for f in failures if f.kind == PageFailure.PARSE}
        refused, unreachable = fetch_verdict([f.reason for f in failures if f.kind == PageFailure.FETCH])
        try:
            if parse_failures:
                bucket = self._record_failure(
                    unit_id, [(f.page, f.reason, f.url) for f in failures if f.kind == PageFailure.PARSE]
                )
            elif failures:
                self.ledger.give_back(unit_id)
                bucket = FETCH_FAILED
            elif any(isinstance(o, PagePassedOver) for o in outcomes.values()):
                bucket = PASSED_OVER
            else:
                bucket, parse_failures = self._save(unit_id, outcomes)
        except DBAPIError as exc:
            if not again and self.db.reopen_if_lost():
                # the server dropped the connection mid-write (a restart, a failover):
                # nothing of the unit was written; once more, on the new connection
                self._resolve(unit_id, outcomes, again=True)
                return
            self.ledger.settle(unit_id, NOT_WRITTEN)
            self._cannot_write(unit_id, exc)
            return
        self.ledger.settle(unit_id, bucket)
        stop = self.brakes.resolved(
            unit_id, pages=self.ledger.pages, refused=refused, parse_failures=parse_failures,
            unreachable=unreachable,
        )
        if stop is not None:
            self._brake(stop)

    def _save(self, unit_id: int, outcomes: dict[str, PageOutcome]) -> tuple[str, dict[str, str]]:
        """The unit's bucket, and the pages that failed validation (for the layout brake)."""
        label = self.ledger.label(unit_id)
        try:
            result = self.db.save(
                self.stage,
                unit_id,
                self.stage.bundle(**{page: outcomes[page] for page in self.stage.page_names}),
                parser_version=self.ledger.parser_version,
                check=self.stage.check,
                worker=self.ledger.worker,
                overwrite=self.ledger.overwrite,
                stats_wait=self.ledger.config.stats_wait,
            )
        except AlreadyStored:
            logger.info("%s was stored by another crawl meanwhile; left as it is", label.capitalize())
            return ALREADY_STORED, {}
        except ValidationError as exc:
            url = getattr(outcomes.get(exc.page), "url", None)
            # A check every unit fails is the site's new layout, as a parse failure is.
            return self._record_failure(unit_id, [(exc.page, exc.reason, url)]), {exc.page: exc.reason}
        except DBAPIError:
            raise
        except Exception as exc:  # a bug in a writer: rolled back, and on record as a failure
            logger.exception("Storing %s failed", label)
            page = self.stage.page_names[0]
            url = getattr(outcomes.get(page), "url", None)
            reason = f"storage error: {exc!r}"[:500]
            # a writer that fails on every unit (a page variant it cannot take) stops the
            # crawl as a parser's failures do, before it burns every unit's attempts
            return self._record_failure(unit_id, [(page, reason, url)]), {page: reason}
        for table, count in result.rows.items():
            self.stats.inc_value(f"hltv/rows/{table}", count)
        for name, count in result.counts.items():
            self.stats.inc_value(f"hltv/{self.ledger.units_name}/{name}", count)
        for note in result.notes:
            logger.info("%s: %s", label.capitalize(), note)
        if result.skipped_economy_rounds:
            self.stats.inc_value("hltv/economy/rounds_skipped", len(result.skipped_economy_rounds))
            logger.info(
                "%s: economy rounds %s are not in round_history; not stored",
                label.capitalize(),
                result.skipped_economy_rounds,
            )
        return COMMITTED, {}

    def _record_failure(self, unit_id: int, failures: list[tuple[str, str, str | None]]) -> str:
        if not self.db.record_failure(
            self.stage, unit_id, failures=failures, parser_version=self.ledger.parser_version,
            worker=self.ledger.worker,
        ):
            logger.info("%s is held by another crawl meanwhile; its failure here is not counted",
                        self.ledger.label(unit_id).capitalize())
            return ALREADY_STORED
        for page, reason, _ in failures:
            logger.warning("%s failed on its %s page: %s", self.ledger.label(unit_id).capitalize(), page, reason)
        return FAILED

    def _benched(self, unreachable: bool, message: str) -> None:
        self._brake(benched_everywhere(unreachable=unreachable, message=message))

    def _brake(self, stop: Stop) -> None:
        if not self._closing:
            self._closing = True
            logger.error("Stopping: %s", stop.message)
            self.stats.set_value("hltv/stopped_because", stop.message)
            close_crawl(self.crawler, stop.reason)
        if stop.refund:  # after the stop: a database that refuses this must not undo it
            try:
                self.db.refund_attempts(self.stage, stop.refund)
            except DBAPIError:
                logger.exception("Could not take back the attempts of %s", stop.refund)

    def _cannot_write(self, unit_id: int, exc: DBAPIError) -> None:
        """The transaction was rolled back: nothing of the unit is written. Say so once
        and stop, rather than fetch every pending unit for nothing."""
        if self._stopping:
            return
        self._stopping = self._closing = True
        what = f"Nothing of {self.ledger.label(unit_id)} was written (it stays pending)"
        database_refused(self.crawler, self.db.location, exc, what)
