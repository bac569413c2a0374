"""What every stage's spider shares: which units to request, and how a page's outcome is told.

A stage's spider declares its storage ``stage`` (pending units, their writer) and the
``parsers`` of the pages one unit needs. For each unit it requests every page; each
request ends in exactly one item for the pipeline: the parsed page, or a
:class:`PageFailure` saying why there is none. The pipeline pairs them by unit and
decides what is written.

Units come from the database a few at a time, claimed with a lease (several crawls may
share one database); the leases of units in flight are renewed until the pipeline has
stored, failed or released them. With ``-a reparse=stale`` the units are instead those
the stage stored with another parser version, and the pipeline writes them over: with
``HLTV_REPLAY=1`` a parser fix reaches the whole dataset from the archive alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request, Spider, signals
from sqlalchemy.exc import DBAPIError
from twisted.internet import task

from hltv_scraper.brakes import database_refused
from hltv_scraper.config import HltvConfig
from hltv_scraper.items import PageFailure
from hltv_scraper.fetch.errors import failure_reason
from hltv_scraper.parsers import ParseError, current_parser_version
from hltv_scraper.site import page_url, slugify
from hltv_scraper.storage import Database, Stage, Unit

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: How often a crawl with nothing left to claim looks for units other crawls give back.
_POLL_SECONDS = 1.0


class UnitSpider(Spider):
    #: The storage stage: pending units, their key, their writer.
    stage: ClassVar[Stage]
    #: page name -> parser (a plain function of a response).
    parsers: ClassVar[dict[str, Callable[[Response], Any]]]
    #: What a unit is called in stats and logs (``hltv/maps/committed``).
    units_name: ClassVar[str]
    #: The spider argument naming units to redo (``-a mapstatsid=1,2``), if any.
    named_argument: ClassVar[str | None] = None
    #: How a user puts units in the database (for the error on an unknown id).
    adding_hint: ClassVar[str] = "add maps with `scrapy addmaps`"

    def __init__(self, *args: Any, limit: str | None = None, reparse: str | None = None, **kwargs: Any) -> None:
        named = kwargs.pop(self.named_argument, None) if self.named_argument else None
        super().__init__(*args, **kwargs)
        self.limit = positive_int("limit", limit) if limit is not None else None
        self.named_ids = _id_list(self.named_argument, named) if named else None
        #: re-parse the units stored by another parser version, not the pending ones
        self.reparse = self._reparse(reparse)
        self._in_flight: dict[int, int] = {}  # unit id -> its pages not yet resolved
        self._room = asyncio.Event()  # set whenever a unit leaves _in_flight
        self._unscheduled: set[tuple[int, str]] = set()  # yielded, not yet scheduled
        #: units this crawl resolved that are still pending (failed, not fetched): the
        #: pipeline adds them, and this crawl does not claim them again
        self.left_pending: set[int] = set()
        self._ended = False  # the database refused us, or the crawl closed: claim nothing more

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = HltvConfig.of(crawler)
        #: what this crawl stores and fails units under, read once
        spider.parser_version = current_parser_version()
        spider.worker = spider.config.new_worker_id()
        spider.db = Database.open(spider.config.database)
        spider._named_units = spider._claim_named() if spider.named_ids else None
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._scheduled, signal=signals.request_scheduled)
        return spider

    def _reparse(self, value: str | None) -> bool:
        if value is None:
            return False
        if value != "stale":
            raise ValueError(
                f"-a reparse= takes only 'stale' (the units stored by another parser version), got {value!r}"
            )
        if not self.stage.tracked:
            raise ValueError(f"-a reparse=stale: the {self.name} stage keeps no units to re-parse")
        if self.named_argument and self.named_ids is not None:
            raise ValueError(f"give either -a {self.named_argument}= or -a reparse=stale, not both")
        return True

    def _claim_named(self) -> list[Unit]:
        try:
            return self.db.claim_named(
                self.stage, self.named_ids, worker=self.worker, lease_seconds=self.config.lease_seconds
            )
        except KeyError as exc:
            self.db.close()
            raise ValueError(
                f"{self.named_argument} {', '.join(map(str, exc.args[0]))} not in the database "
                f"{self.db.location} ({self.adding_hint})"
            ) from None

    # -- which units ----------------------------------------------------------------

    async def units(self) -> AsyncIterator[Unit]:
        """The units named with ``-a``, else the stage's pending (or, re-parsing, stale)
        units, claimed a few at a time as room frees up.

        When no unclaimed unit is left, units other crawls hold may still come back (a
        crawl that died leaves leases that expire; a fetch failure releases its unit):
        the crawl polls for those and sweeps again, for at most one lease period (a
        live crawl renews its leases, and its units are in good hands), and ends.
        """
        if self._named_units is not None:
            for unit in self._named_units:
                yield unit
            return
        count, after, idle_since = 0, -1, None
        while (self.limit is None or count < self.limit) and not self._ended:
            await self.room()
            want = self.config.maps_in_flight - len(self._in_flight)
            if self.limit is not None:
                want = min(want, self.limit - count)
            try:
                batch = self.db.claim(
                    self.stage, worker=self.worker, lease_seconds=self.config.lease_seconds,
                    max_attempts=self.config.max_attempts, after=after, limit=want,
                    parser_version=self.parser_version, stale=self.reparse,
                    # once per crawl: what failed here would fail alike now
                    exclude=sorted(self.left_pending),
                )
            except DBAPIError as exc:
                self._ended = True
                database_refused(self.crawler, self.db.location, exc, "No unit could be claimed")
                return
            if not batch:
                wait = self.db.foreign_lease_wait(
                    self.stage, worker=self.worker, max_attempts=self.config.max_attempts,
                    parser_version=self.parser_version, stale=self.reparse,
                )
                idle_since = idle_since or time.monotonic()
                if wait is None or time.monotonic() - idle_since > self.config.lease_seconds + 1:
                    return
                after = -1
                await asyncio.sleep(min(wait + 0.1, _POLL_SECONDS))
                continue
            idle_since = None
            for unit in batch:
                after = unit.id
                count += 1
                yield unit

    async def room(self) -> None:
        """Wait until fewer than ``HLTV_MAPS_IN_FLIGHT`` units are in flight."""
        while len(self._in_flight) >= self.config.maps_in_flight:
            self._room.clear()
            await self._room.wait()

    async def start(self) -> AsyncIterator[Request]:
        stats = self.crawler.stats
        if self._ended:
            return
        if self.named_ids is None and self.stage.tracked:
            pending = self.db.count_pending(
                self.stage, max_attempts=self.config.max_attempts, parser_version=self.parser_version,
                stale=self.reparse,
            )
            stats.set_value(f"hltv/{self.units_name}/pending_at_start", min(pending, self.limit or pending))
        async for unit in self.units():
            await self.room()
            self._in_flight[unit.id] = len(self.parsers)
            stats.inc_value(f"hltv/{self.units_name}/requested")
            for page in self.parsers:
                request = self.page_request(unit, page)
                self._unscheduled.add((unit.id, page))
                yield request
                # The engine takes start() output one at a time: by now the request
                # is scheduled, or a middleware dropped it (URLLENGTH_LIMIT does)
                # without an errback, and nothing else would ever resolve its page.
                if (unit.id, page) in self._unscheduled:
                    self._unscheduled.discard((unit.id, page))
                    yield self._dropped(unit, page, request)

    def page_request(self, unit: Unit, page: str) -> Request:
        meta = {"hltv_page": page, "hltv_unit": unit.id}
        return Request(
            page_url(self.config.base_url, page, unit.id, unit.slug or slugify(*unit.team_names)),
            callback=self.parse_page,
            errback=self.page_not_fetched,
            cb_kwargs={"unit": unit, "page": page},
            meta=meta,
            dont_filter=True,  # a unit is requested once per crawl by construction
        )

    # -- outcomes -------------------------------------------------------------------

    def parse_page(self, response: Response, unit: Unit, page: str) -> Any:
        try:
            item = self.parsed(unit, self.parsers[page](response))
        except ParseError as exc:
            item = self._failure(unit, page, PageFailure.PARSE, str(exc), response.url)
        except Exception as exc:  # a parser bug must not retry the unit forever
            logger.exception("Parser crashed on %s", response.url)
            reason = f"parser crashed: {type(exc).__name__}: {exc}"
            item = self._failure(unit, page, PageFailure.PARSE, reason, response.url)
        else:
            item.unit_id = unit.id
            self.crawler.stats.inc_value(f"hltv/pages/parsed/{page}")
        yield item
        self._resolved(unit)

    def parsed(self, unit: Unit, item: Any) -> Any:
        """A stage's last word on a parsed page before the pipeline sees it."""
        return item

    def page_not_fetched(self, failure: Failure) -> Any:
        request = failure.request
        unit, page = request.cb_kwargs["unit"], request.cb_kwargs["page"]
        reason = failure_reason(failure)
        logger.warning("Could not fetch the %s page of %s %s: %s", page, self.stage.key or "unit", unit.id, reason)
        yield self._failure(unit, page, PageFailure.FETCH, reason, request.url)
        self._resolved(unit)

    def _scheduled(self, request: Request, spider: Spider) -> None:
        self._unscheduled.discard((request.meta.get("hltv_unit"), request.meta.get("hltv_page")))

    def _dropped(self, unit: Unit, page: str, request: Request) -> PageFailure:
        logger.warning(
            "The %s page of %s %s was dropped before download by a middleware "
            "(is %s longer than URLLENGTH_LIMIT?); it stays pending",
            page, self.stage.key or "unit", unit.id, request.url,
        )
        failure = self._failure(unit, page, PageFailure.FETCH, "dropped_before_download", request.url)
        self._resolved(unit)
        return failure

    def _failure(self, unit: Unit, page: str, kind: str, reason: str, url: str) -> PageFailure:
        self.crawler.stats.inc_value(f"hltv/pages/{kind}_failed/{page}")
        return PageFailure(unit_id=unit.id, page=page, kind=kind, reason=reason, url=url)

    def _resolved(self, unit: Unit) -> None:
        """One more page of ``unit`` has its outcome; the unit leaves the flight when
        all have (the pipeline has its pages by then)."""
        left = self._in_flight.get(unit.id, 1) - 1
        if left > 0:
            self._in_flight[unit.id] = left
            return
        self._in_flight.pop(unit.id, None)
        self._room.set()

    # -- leases and the end -----------------------------------------------------------

    def _opened(self, spider: Spider) -> None:
        if not self.stage.tracked:
            return
        try:
            # A fixed HLTV_WORKER_ID restarting after a crash takes its units back at
            # once; the units named with -a are this crawl's already.
            named = [unit.id for unit in self._named_units or ()]
            self.db.release_all(self.stage, worker=self.worker, keep=named)
        except DBAPIError as exc:
            self._ended = True
            database_refused(self.crawler, self.db.location, exc, "Nothing was claimed")
            return
        self._renewal = task.LoopingCall(self._renew_leases)
        self._renewal.start(self.config.lease_seconds / 3, now=False)

    def _renew_leases(self) -> None:
        try:
            self.db.renew(self.stage, self._in_flight, worker=self.worker, lease_seconds=self.config.lease_seconds)
        except Exception:  # a lost connection: say so, the next renewal may work
            logger.exception("Could not renew the leases of the units in flight")

    def _closed(self, spider: Spider, reason: str) -> None:
        self._ended = True
        renewal = getattr(self, "_renewal", None)
        if renewal is not None and renewal.running:
            renewal.stop()
        self._log_summary(reason)
        try:
            if self.stage.tracked:
                self.db.release_all(self.stage, worker=self.worker)
        except DBAPIError:
            logger.warning("Could not give back this crawl's leases: they expire in %g s",
                           self.config.lease_seconds)
        finally:
            self.db.close()

    def _log_summary(self, reason: str) -> None:
        stats = self.crawler.stats.get_stats()

        def count(key: str) -> int:
            return stats.get(f"hltv/{self.units_name}/{key}", 0)

        logger.info(
            "%s finished (%s): %d %s requested, %d committed, %d failed, %d left "
            "pending by fetch failures, %d incomplete units dropped",
            self.name,
            reason,
            count("requested"),
            self.units_name.replace("_", " "),
            count("committed"),
            count("failed"),
            count("fetch_failed"),
            count("dropped_incomplete"),
        )


def whole_number(name: str, value: str, *, minimum: int) -> int:
    """A spider argument that must be a whole number of at least ``minimum``."""
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"-a {name}= takes a whole number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"-a {name}= must be at least {minimum}, got {number}")
    return number


def positive_int(name: str, value: str) -> int:
    return whole_number(name, value, minimum=1)


def _id_list(name: str, value: str) -> list[int]:
    ids = []
    for part in value.split(","):
        part = part.strip()
        if not part.isdigit():
            raise ValueError(f"-a {name}= takes ids separated by commas, got {part!r}")
        ids.append(int(part))
    return list(dict.fromkeys(ids))
