"""One crawl's units, from claimed to settled, in one place.

The ledger is built by the spider (in ``from_crawler``, after the spider's arguments are
checked) and kept on the crawler, where the pipeline and the progress line find it. It
holds the crawl's one database connection, and knows:

- where units come from: its stage's unit source (:mod:`hltv_scraper.ledger.sources`),
  which sees the crawl through a small context, not through the ledger;
- which are in flight, with their pages' outcomes so far, grouped by unit; room for
  more frees when the pipeline settles one;
- their leases: renewed while in flight, given back on a fetch failure and at the end;
- what became of each: every unit claimed ends in one bucket of the closing line
  (committed, already stored, failed, not written, left pending by a fetch failure,
  dropped incomplete, not reached), and those left pending are not claimed again by
  this crawl.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import signals
from sqlalchemy.exc import DBAPIError
from twisted.internet import task

from hltv_scraper.brakes import database_refused
from hltv_scraper.config import HltvConfig
from hltv_scraper.ledger.sources import SourceContext
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.storage import Database

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from hltv_scraper.items import PageOutcome
    from hltv_scraper.ledger.sources import UnitSource, Waiting
    from hltv_scraper.stages import Stage
    from hltv_scraper.storage import Unit

logger = logging.getLogger(__name__)

# The buckets a unit the crawl claimed ends in (stats ``hltv/<units>/<bucket>``).
COMMITTED = "committed"
ALREADY_STORED = "already_stored"
FAILED = "failed"
NOT_WRITTEN = "not_written"
FETCH_FAILED = "fetch_failed"
DROPPED = "dropped_incomplete"
NOT_REACHED = "not_reached"
#: Read, and passed over by the unit source (outside the dates asked, stored already).
PASSED_OVER = "passed_over"
#: Buckets whose units stay pending: this crawl does not claim them again.
_LEFT_PENDING = frozenset({FAILED, NOT_WRITTEN, FETCH_FAILED})
SETTLED = (COMMITTED, ALREADY_STORED, FAILED, NOT_WRITTEN, FETCH_FAILED, PASSED_OVER)


class Ledger:
    def __init__(
        self,
        crawler: Crawler,
        *,
        stage: Stage,
        source: UnitSource,
    ) -> None:
        self.crawler = crawler
        self.config = HltvConfig.of(crawler)
        self.stage = stage
        #: the pages one unit needs
        self.pages = stage.page_names
        #: what a unit is called in stats (``hltv/maps/committed``)
        self.units_name = stage.unit.called
        self._source = source
        #: what this crawl stores and fails units under, read once
        self.parser_version = current_parser_version()
        self.worker = self.config.new_worker_id()
        self._flight: dict[int, dict[str, PageOutcome]] = {}  # unit id -> page -> outcome
        #: fetch failure reason -> pages (what to say when nothing could be fetched), and
        #: unit id -> the last reason a page of it was not fetched (where a walk ends)
        self.fetch_reasons: Counter[str] = Counter()
        self.not_fetched: dict[int, str] = {}
        self._room = asyncio.Event()  # set whenever a unit settles
        #: units this crawl settled that are still pending (failed, not fetched)
        self.left_pending: set[int] = set()
        #: the database refused us, or the crawl closed: claim nothing more
        self.ended = False
        self._renewal: task.LoopingCall | None = None
        self.db = Database.open(self.config.database, create=source.creates_database)
        # waiting for a dropped connection must end while this crawl's leases (renewed
        # every third of their time) still hold
        self.db.reopen_seconds = min(self.db.reopen_seconds, self.config.lease_seconds / 3)
        self._context = SourceContext(
            db=self.db, stage=stage, worker=self.worker, config=self.config,
            crawler_stats=lambda: crawler.stats,
            parser_version=self.parser_version,
        )
        try:
            source.prepare(self._context)
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def build(cls, crawler: Crawler, *, stage: Stage, source: UnitSource) -> Ledger:
        """Open the crawl's ledger (and database) and keep it on the crawler."""
        ledger = cls(crawler, stage=stage, source=source)
        crawler.hltv_ledger = ledger
        crawler.signals.connect(ledger._opened, signal=signals.spider_opened)
        crawler.signals.connect(ledger._closed, signal=signals.spider_closed)
        return ledger

    @staticmethod
    def on(crawler: Crawler) -> Ledger | None:
        """The crawl's ledger (its spider built it); None for a spider that is no stage."""
        return getattr(crawler, "hltv_ledger", None)

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats

    def label(self, unit_id: int) -> str:
        """A unit in the user's words: ``map 219128``, ``results page at offset 100``."""
        return self.stage.unit.label(unit_id)

    @property
    def overwrite(self) -> bool:
        """Whether a unit stored already is written again (named or stale units)."""
        return self._source.overwrite

    @property
    def first_failure_stops(self) -> bool:
        """Whether one unit not stored stops the crawl (a walk has no way on past it)."""
        return self._source.stops_at_first_failure

    @property
    def waiting(self) -> Waiting | None:
        """Other workers' leases this crawl waits for, when it has nothing else to do."""
        return self._source.waiting

    # -- units coming in ---------------------------------------------------------------

    async def units(self) -> AsyncIterator[Unit]:
        """The source's units, each put in flight as it is handed out."""
        while not self.ended:
            if self._source.one_at_a_time:
                await self.settled()
            await self.room()
            try:
                batch = await self._source.take(
                    self._context, room=self.room_left(), left_pending=self.left_pending,
                    not_fetched=self.not_fetched,
                )
            except DBAPIError as exc:
                self.refused(exc, "No unit could be claimed")
                return
            if batch is None:
                return
            if isinstance(batch, float):  # units other crawls hold may come back
                await asyncio.sleep(batch)
                continue
            for unit in batch:
                await self.room()
                self._flight[unit.id] = {}
                self.stats.inc_value(f"hltv/{self.units_name}/requested")
                yield unit

    async def room(self) -> None:
        """Wait until fewer than ``HLTV_MAPS_IN_FLIGHT`` units are in flight."""
        while len(self._flight) >= self.config.maps_in_flight:
            self._room.clear()
            await self._room.wait()

    def room_left(self) -> int:
        return self.config.maps_in_flight - len(self._flight)

    async def settled(self) -> None:
        """Wait until no unit is in flight."""
        while self._flight:
            self._room.clear()
            await self._room.wait()

    def parsed(self, unit: Unit, item: Any) -> Any:
        """The source's last word on a parsed page before the pipeline sees it."""
        return self._source.parsed(self._context, unit, item)

    # -- outcomes ----------------------------------------------------------------------

    def record(self, outcome: PageOutcome) -> dict[str, PageOutcome] | None:
        """Keep one page's outcome (its item, or a PageFailure); the unit's outcomes by
        page once every page of it has one, else None."""
        assert outcome.unit_id is not None, outcome  # the spider sets it on every item
        outcomes = self._flight.setdefault(outcome.unit_id, {})
        outcomes[outcome.page] = outcome
        if getattr(outcome, "kind", None) == "fetch":  # a PageFailure's
            self.fetch_reasons[outcome.reason] += 1
            self.not_fetched[outcome.unit_id] = outcome.reason
        return dict(outcomes) if set(outcomes) >= set(self.pages) else None

    def give_back(self, unit_id: int) -> None:
        """Release the unit's lease untouched (a fetch failure): no attempt counted."""
        self._source.give_back(self._context, unit_id)

    def give_back_all(self) -> None:
        """Release every lease this crawl holds (it is abandoned before it closes)."""
        try:
            self._source.closed(self._context)
        except Exception:
            logger.exception("Could not give back this crawl's leases: they expire in %g s",
                             self.config.lease_seconds)

    def settle(self, unit_id: int, bucket: str) -> None:
        """The unit is done with in this crawl, in ``bucket``; it leaves the flight."""
        assert bucket in SETTLED, bucket
        self.stats.inc_value(f"hltv/{self.units_name}/{bucket}")
        if bucket in _LEFT_PENDING:
            self.left_pending.add(unit_id)
        self._flight.pop(unit_id, None)
        self._room.set()

    def refused(self, exc: DBAPIError, what: str) -> None:
        """The database refused us: claim nothing more, and stop the crawl."""
        self.ended = True
        database_refused(self.crawler, self.db.location, exc, what)

    # -- the crawl's start and end -------------------------------------------------------

    def _opened(self, spider: Spider) -> None:
        try:
            self._source.opened(self._context)
        except DBAPIError as exc:
            self.refused(exc, "Nothing was claimed")
            return
        if self._source.holds_leases:
            self._renewal = task.LoopingCall(self._renew_leases)
            self._renewal.start(self.config.lease_seconds / 3, now=False)

    def _renew_leases(self) -> None:
        in_flight = list(self._flight)
        try:
            self.db.again_if_lost(lambda: self._source.renew(self._context, in_flight))
        except DBAPIError as exc:
            # (a dropped connection was opened again already, once.) Leases that lapse
            # let another crawl take units over: stop while they are still ours.
            if not self.ended:
                self.refused(exc, "The leases of the units in flight could not be renewed")
        except Exception:
            logger.exception("Could not renew the leases of the units in flight")

    def _closed(self, spider: Spider, reason: str) -> None:
        self.ended = True
        if self._renewal is not None and self._renewal.running:
            self._renewal.stop()
        self._account_for_the_rest()
        self._log_summary(spider.name, reason)
        try:
            self._source.closed(self._context)
        except DBAPIError:
            logger.warning("Could not give back this crawl's leases: they expire in %g s",
                           self.config.lease_seconds)
        finally:
            self.db.close()

    def _account_for_the_rest(self) -> None:
        """Units still in flight at the end: dropped with some pages in hand, or not
        reached at all; and units claimed but never handed out."""
        dropped = sorted(unit_id for unit_id, outcomes in self._flight.items() if outcomes)
        if dropped:
            logger.warning(
                "Dropped %d %s whose pages did not all arrive before the crawl closed "
                "(%s); they stay pending",
                len(dropped), self.units_name.replace("_", " "), ", ".join(map(self.label, dropped[:20])),
            )
        count = self._count
        self.stats.set_value(f"hltv/{self.units_name}/{DROPPED}", count(DROPPED) + len(dropped))
        unfetched = len(self._flight) - len(dropped)
        self.stats.set_value(
            f"hltv/{self.units_name}/{NOT_REACHED}", count("claimed") - count("requested") + unfetched
        )
        self._flight.clear()

    def _count(self, key: str) -> int:
        return self.stats.get_value(f"hltv/{self.units_name}/{key}", 0)

    def _log_summary(self, name: str, reason: str) -> None:
        count = self._count
        if count(PASSED_OVER):
            logger.info("%s: %d %s read and passed over (not stored, see above)", name, count(PASSED_OVER),
                        self.units_name.replace("_", " "))
        logger.info(
            "%s finished (%s): %d %s requested, %d committed, %d failed, %d left pending by "
            "fetch failures, %d incomplete units dropped, %d already stored, %d not written, "
            "%d not reached (of %d claimed)",
            name,
            reason,
            count("requested"),
            self.units_name.replace("_", " "),
            count(COMMITTED),
            count(FAILED),
            count(FETCH_FAILED),
            count(DROPPED),
            count(ALREADY_STORED),
            count(NOT_WRITTEN),
            count(NOT_REACHED),
            count("claimed"),
        )
