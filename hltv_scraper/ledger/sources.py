"""Where a crawl's units come from: leases claimed from the database, or a walk of pages.

A source is built from the spider's ``-a`` arguments (so a bad one fails before anything
opens), then asked by the :class:`~hltv_scraper.ledger.ledger.Ledger` for units a batch
at a time. It sees the crawl through a small :class:`SourceContext` (the database, the
stage, the worker, the settings, the stats), never the ledger itself; what it must
hear of the ledger (room for more units, units left pending) comes as arguments.

- :class:`LeasedUnits`: the match, map stats and performance/economy stages. Units are
  rows in the database, claimed a few at a time with a lease (several crawls may share
  one database), or named with ``-a mapstatsid=`` / ``-a match_id=`` and redone on
  purpose, or, with ``-a reparse=stale``, those stored by another parser version.
- :class:`ResultsListing`: the results stage. Its units are the listing's pages, walked
  one after the other from ``-a offset=``; each page says where the next one is, and
  whether to read on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy.exc import DBAPIError

from hltv_scraper.ledger.arguments import (
    SpiderArgumentError,
    day_end_ms,
    day_start_ms,
    CollectOptions,
    flag,
    id_list,
    positive_int,
    reject_unknown,
    whole_number,
)
from hltv_scraper.items import Unit

if TYPE_CHECKING:
    from collections.abc import Callable, Set

    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

    from hltv_scraper.config import HltvConfig
    from hltv_scraper.items import ResultsPage
    from hltv_scraper.stages import Stage
    from hltv_scraper.storage import Database

logger = logging.getLogger(__name__)

#: How often a crawl with nothing left to claim looks for units other crawls give back.
POLL_SECONDS = 1.0
#: How often a waiting crawl asks again whose leases it waits for.
_WHO_SECONDS = 30.0


@dataclass
class SourceContext:
    """What a unit source may use of its crawl."""

    db: Database
    stage: Stage
    worker: str
    config: HltvConfig
    #: the crawl's stats, once the crawl has started (Scrapy sets them then)
    crawler_stats: Callable[[], StatsCollector]
    #: what this crawl stores and fails units under
    parser_version: str

    @property
    def stats(self) -> StatsCollector:
        return self.crawler_stats()

    def label(self, unit_id: int) -> str:
        return self.stage.unit.label(unit_id)

    def count(self, key: str, value: int = 1) -> None:
        """Add to the stage's unit stat ``hltv/<units>/<key>``."""
        self.stats.inc_value(f"hltv/{self.stage.unit.called}/{key}", value)

    def set_stat(self, key: str, value: object) -> None:
        self.stats.set_value(f"hltv/{self.stage.unit.called}/{key}", value)


#: What :meth:`UnitSource.take` hands the ledger: units to put in flight; seconds to
#: wait before asking again (units other crawls hold may come back); None: no more.
Batch = list[Unit] | float | None


class UnitSource(Protocol):
    """Where a stage's units come from (``Stage.unit.source``)."""

    #: units are leased rows: renewed while in flight, given back at the end
    holds_leases: ClassVar[bool]
    #: a unit that cannot be stored stops the crawl (a walk has no way on past it)
    stops_at_first_failure: ClassVar[bool]
    #: one unit at a time: the next is asked for once the last has settled
    one_at_a_time: ClassVar[bool]
    #: units named or stale are redone on purpose: a stored unit is written again
    overwrite: bool
    #: whether the crawl may make the database (a crawl of named units needs it)
    creates_database: bool
    #: other workers' leases this crawl waits for, when it has nothing else to do
    waiting: Waiting | None

    @staticmethod
    def arguments(named_argument: str | None = None) -> list[str]: ...

    @classmethod
    def from_arguments(cls, spider: str, arguments: dict[str, Any], *, named_argument: str | None,
                       adding_hint: str) -> Self: ...

    @staticmethod
    def collect_arguments(options: CollectOptions) -> dict[str, str]:
        """The ``-a`` arguments ``scrapy collect`` gives the stage's spider."""

    def prepare(self, context: SourceContext) -> None: ...

    def opened(self, context: SourceContext) -> None: ...

    async def take(self, context: SourceContext, *, room: int, left_pending: Set[int]) -> Batch: ...

    def parsed(self, context: SourceContext, unit: Unit, item: Any) -> Any: ...

    def renew(self, context: SourceContext, ids: list[int]) -> None: ...

    def give_back(self, context: SourceContext, unit_id: int) -> None: ...

    def closed(self, context: SourceContext) -> None: ...


class LeasedUnits:
    """Units claimed from the database, with a lease renewed while they are in flight."""

    holds_leases: ClassVar[bool] = True
    #: a unit that cannot be stored does not stop the others
    stops_at_first_failure: ClassVar[bool] = False
    one_at_a_time: ClassVar[bool] = False

    def __init__(
        self, *, limit: int | None, reparse: bool, named_argument: str | None, named_ids: list[int] | None,
        adding_hint: str,
    ) -> None:
        self.limit = limit
        #: re-parse the units stored by another parser version, not the pending ones
        self.reparse = reparse
        self.named_argument = named_argument
        self.named_ids = named_ids
        self.adding_hint = adding_hint
        self.waiting: Waiting | None = None
        self._named: list[Unit] | None = None
        self._asked_who = 0.0
        self._handed_out = 0
        self._after = -1
        self._idle_since: float | None = None

    @staticmethod
    def arguments(named_argument: str | None = None) -> list[str]:
        """The ``-a`` names this source takes (the spider's named-units one included)."""
        return ["limit", "reparse", *([named_argument] if named_argument else [])]

    @classmethod
    def from_arguments(
        cls, spider: str, arguments: dict[str, Any], *, named_argument: str | None, adding_hint: str
    ) -> Self:
        reject_unknown(spider, arguments, cls.arguments(named_argument))
        limit = arguments.get("limit")
        named = arguments.get(named_argument) if named_argument else None
        reparse = arguments.get("reparse")
        if reparse is not None and reparse != "stale":
            raise SpiderArgumentError(
                f"-a reparse= takes only 'stale' (the units stored by another parser version), got {reparse!r}"
            )
        if reparse is not None and named is not None:
            raise SpiderArgumentError(f"give either -a {named_argument}= or -a reparse=stale, not both")
        return cls(
            limit=positive_int("limit", limit) if limit is not None else None,
            reparse=reparse is not None,
            named_argument=named_argument,
            named_ids=id_list(named_argument, named) if named is not None else None,
            adding_hint=adding_hint,
        )

    @staticmethod
    def collect_arguments(options: CollectOptions) -> dict[str, str]:
        return {"limit": str(options.limit)} if options.limit else {}

    @property
    def overwrite(self) -> bool:
        """Units named on the command line, or stale ones, are redone on purpose."""
        return self.named_ids is not None or self.reparse

    @property
    def creates_database(self) -> bool:
        """A crawl of named units needs them stored already: it makes no database."""
        return self.named_ids is None

    def prepare(self, context: SourceContext) -> None:
        """Claim the named units now, so an unknown id fails before the crawl starts."""
        if self.named_ids is None:
            return
        try:
            self._named = context.db.claim_named(
                context.stage, self.named_ids, worker=context.worker, lease_seconds=context.config.lease_seconds
            )
        except KeyError as exc:
            raise SpiderArgumentError(
                f"{self.named_argument} {', '.join(map(str, exc.args[0]))} not in the database "
                f"{context.db.location} ({self.adding_hint})"
            ) from None

    def opened(self, context: SourceContext) -> None:
        # A fixed HLTV_WORKER_ID restarting after a crash takes its units back at once;
        # the units named with -a are this crawl's already.
        named = [unit.id for unit in self._named or ()]
        context.db.release_all(context.stage, worker=context.worker, keep=named)
        if self._named is not None:
            context.count("claimed", len(self._named))
            return
        pending = context.db.count_pending(
            context.stage, max_attempts=context.config.max_attempts, parser_version=context.parser_version,
            stale=self.reparse,
        )
        context.set_stat("pending_at_start", min(pending, self.limit or pending))

    async def take(self, context: SourceContext, *, room: int, left_pending: Set[int]) -> Batch:
        """The named units, else the stage's pending (or, re-parsing, stale) units,
        claimed a few at a time as room frees up.

        When no unclaimed unit is left, units other crawls hold may still come back (a
        crawl that died leaves leases that expire; a fetch failure releases its unit):
        the crawl polls for those and sweeps again, for at most one lease period (a
        live crawl renews its leases, and its units are in good hands), and ends.
        """
        if self._named is not None:
            named, self._named = self._named, []
            return named or None
        if self.limit is not None and self._handed_out >= self.limit:
            return None
        config = context.config
        want = room if self.limit is None else min(room, self.limit - self._handed_out)
        batch = context.db.claim(
            context.stage, worker=context.worker, lease_seconds=config.lease_seconds,
            max_attempts=config.max_attempts, after=self._after, limit=want,
            parser_version=context.parser_version, stale=self.reparse,
            # once per crawl: what failed here would fail alike now
            exclude=sorted(left_pending),
        )
        if not batch:
            wait = context.db.foreign_lease_wait(
                context.stage, worker=context.worker, max_attempts=config.max_attempts,
                parser_version=context.parser_version, stale=self.reparse,
            )
            self._idle_since = self._idle_since or time.monotonic()
            if wait is None or time.monotonic() - self._idle_since > config.lease_seconds + 1:
                self.waiting = None
                return None
            self._say_who(context, wait)
            self._after = -1
            return min(wait + 0.1, POLL_SECONDS)
        self._idle_since = None
        self.waiting = None
        context.count("claimed", len(batch))
        self._after = batch[-1].id
        self._handed_out += len(batch)
        return batch

    def _say_who(self, context: SourceContext, first_expires_in: float) -> None:
        """Note whose leases this crawl waits for (asked again now and then)."""
        now = time.monotonic()
        if self.waiting is not None and now - self._asked_who < _WHO_SECONDS:
            self.waiting.first_expires_at = now + first_expires_in
            return
        self._asked_who = now
        try:
            rows = [row for row in context.db.leases([context.stage]) if row["worker"] != context.worker]
        except DBAPIError:
            rows = []
        self.waiting = Waiting(
            units=sum(int(row["units"]) for row in rows),
            workers=tuple(str(row["worker"]) for row in rows),
            first_expires_at=now + first_expires_in,
            last_expires_at=now + max((float(row["expires_in"]) for row in rows), default=first_expires_in),
        )

    def parsed(self, context: SourceContext, unit: Unit, item: Any) -> Any:
        return item

    def renew(self, context: SourceContext, ids: list[int]) -> None:
        context.db.renew(context.stage, ids, worker=context.worker, lease_seconds=context.config.lease_seconds)

    def give_back(self, context: SourceContext, unit_id: int) -> None:
        context.db.release(context.stage, unit_id, worker=context.worker)

    def closed(self, context: SourceContext) -> None:
        context.db.release_all(context.stage, worker=context.worker)


class Waiting:
    """Units this crawl could take once other workers' leases on them expire."""

    def __init__(self, *, units: int, workers: tuple[str, ...], first_expires_at: float, last_expires_at: float) -> None:
        self.units = units
        self.workers = workers
        self.first_expires_at = first_expires_at  # time.monotonic()
        self.last_expires_at = last_expires_at

    def describe(self) -> str:
        """``waiting for 5 leases held by worker host-12-ab (they expire in 540 s)``"""
        now = time.monotonic()
        first = max(self.first_expires_at - now, 0.0)
        last = max(self.last_expires_at - now, first)
        who = ", ".join(self.workers) or "another crawl"
        plural = "worker" if len(self.workers) <= 1 else "workers"
        when = f"in {first:.0f} s" if abs(last - first) < 1 else f"from {first:.0f} s to {last:.0f} s"
        return f"waiting for {self.units} leases held by {plural} {who} (they expire {when})"


class ResultsListing:
    """HLTV's results listing, newest first: pages read one after the other from
    ``offset`` (steps of 100), until the first of: ``pages`` pages read; a page whose
    entries are all older than ``since``; the last page; and, unless ``full``, a page
    on which every match is already known. Entries completed after ``until`` are
    skipped. A page that cannot be fetched or parsed stops the walk."""

    holds_leases: ClassVar[bool] = False
    #: pages follow one another: a page we cannot read leaves no way on
    stops_at_first_failure: ClassVar[bool] = True
    one_at_a_time: ClassVar[bool] = True
    overwrite: ClassVar[bool] = False
    creates_database: ClassVar[bool] = True
    waiting: ClassVar[Waiting | None] = None

    def __init__(
        self, *, since_ms: int | None, until_ms: int | None, offset: int, pages: int | None, full: bool
    ) -> None:
        self.since_ms = since_ms
        self.until_ms = until_ms  # exclusive
        self.offset = offset
        self.pages = pages
        self.full = full
        self._next_offset: int | None = offset
        self._read = 0
        self._last: int | None = None

    @staticmethod
    def arguments(named_argument: str | None = None) -> list[str]:
        """The ``-a`` names the results listing takes."""
        return ["since", "until", "offset", "pages", "full"]

    @classmethod
    def from_arguments(cls, spider: str, arguments: dict[str, Any], **_: Any) -> Self:
        reject_unknown(spider, arguments, cls.arguments())
        since, until = arguments.get("since"), arguments.get("until")
        offset, pages = arguments.get("offset"), arguments.get("pages")
        since_ms = day_start_ms("since", since) if since else None
        until_ms = day_end_ms("until", until) if until else None
        if since_ms is not None and until_ms is not None and until_ms <= since_ms:
            raise SpiderArgumentError(f"-a until={until} is before -a since={since}")
        return cls(
            since_ms=since_ms,
            until_ms=until_ms,
            offset=whole_number("offset", offset, minimum=0) if offset is not None else 0,
            pages=positive_int("pages", pages) if pages is not None else None,
            full=flag("full", arguments.get("full")),
        )

    @staticmethod
    def collect_arguments(options: CollectOptions) -> dict[str, str]:
        given = {"since": options.since, "until": options.until, "pages": options.pages}
        return {name: str(value) for name, value in given.items() if value} | ({"full": "1"} if options.full else {})

    def prepare(self, context: SourceContext) -> None:
        pass

    def opened(self, context: SourceContext) -> None:
        pass

    async def take(self, context: SourceContext, *, room: int, left_pending: Set[int]) -> Batch:
        """The next page of the walk, once the last one has settled."""
        if self._last is not None and self._last in left_pending:  # fetched or parsed but not stored
            logger.error("%s was not stored: stopping", context.label(self._last).capitalize())
            context.set_stat("stopped_because", "a page was not stored")
            return None
        if self._next_offset is None:
            return None
        if self.pages is not None and self._read >= self.pages:
            logger.info("Read %d results pages (-a pages=%d): stopping", self._read, self.pages)
            return None
        self._last, self._next_offset = self._next_offset, None
        self._read += 1
        context.count("claimed")
        return [Unit(id=self._last)]

    def parsed(self, context: SourceContext, unit: Unit, page: ResultsPage) -> ResultsPage:
        """Decide whether to read on, and keep only the entries in the date window."""
        entries = page.entries
        known = context.db.known_match_ids([entry.match_id for entry in entries])
        stop = self._stop_reason(page, known)
        if stop:
            logger.info("%s: %s: stopping", context.label(unit.id).capitalize(), stop)
            context.set_stat("stopped_because", stop)
        else:
            self._next_offset = page.next_offset
        page.entries = [entry for entry in entries if self._in_window(entry.completed_unix_ms)]
        skipped = len(entries) - len(page.entries)
        if skipped:
            context.count("entries_outside_dates", skipped)
        return page

    def _stop_reason(self, page: ResultsPage, known: set[int]) -> str | None:
        entries = page.entries
        if not entries:
            return "no entries (past the end of the listing)"
        if self.since_ms is not None and all(
            e.completed_unix_ms is not None and e.completed_unix_ms < self.since_ms for e in entries
        ):
            return "every entry is older than -a since"
        if not self.full and all(e.match_id in known for e in entries):
            return "every match on it is already known (-a full=1 reads on)"
        if page.next_offset is None:
            return "the last page of the listing"
        return None

    def _in_window(self, completed_unix_ms: int | None) -> bool:
        if completed_unix_ms is None:
            return True  # no time to judge it by: keep it
        if self.since_ms is not None and completed_unix_ms < self.since_ms:
            return False
        return self.until_ms is None or completed_unix_ms < self.until_ms

    def renew(self, context: SourceContext, ids: list[int]) -> None:
        pass

    def give_back(self, context: SourceContext, unit_id: int) -> None:
        pass  # no row holds a results page

    def closed(self, context: SourceContext) -> None:
        pass
