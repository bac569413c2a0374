"""Where a crawl's units come from: leases claimed from the database, or a walk of pages.

A source is built from the spider's ``-a`` arguments (so a bad one fails before anything
opens), then asked by the :class:`~hltv_scraper.ledger.ledger.Ledger` for units a batch
at a time. It sees the crawl through a small :class:`SourceContext` (the database, the
stage, the worker, the settings, the stats), never the ledger itself; what it must
hear of the ledger (room for more units, units left pending) comes as arguments.

:class:`LeasedUnits` is the source of the stages whose units are rows in the database
(matches, maps): claimed a few at a time with a lease (several crawls may share one
database), or named with ``-a mapstatsid=`` / ``-a match_id=`` and redone on purpose,
or, with ``-a reparse=stale``, those stored by another parser version. A claim skips
the units this crawl left pending, at most :data:`EXCLUDE_MOST` at a time, and the
leases of crawls of this host that are gone are freed rather than waited out. A stage
whose units are found by walking pages declares its walk in its own module under
``hltv_scraper/stages/`` (the results listing, the world ranking) as a :class:`Walk`,
which takes one unit at a time and says why the walk ends at a page it could not fetch
or store (:func:`walk_stops`).
"""

from __future__ import annotations

import heapq
import logging
import os
import socket
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy.exc import DBAPIError

from hltv_scraper.ledger.arguments import (
    SpiderArgumentError,
    CollectOptions,
    id_list,
    positive_int,
    reject_unknown,
)
from hltv_scraper.items import Unit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Set

    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

    from hltv_scraper.config import HltvConfig
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

    async def take(
        self, context: SourceContext, *, room: int, left_pending: Set[int], not_fetched: Mapping[int, str]
    ) -> Batch:
        """The next units; ``left_pending``: those this crawl settled still pending,
        ``not_fetched``: of those, the ones a page could not be fetched of (-> reason)."""

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
        #: claiming the units the stage reads first (``UnitTable.first``: matches due again)
        self._first = False

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
        free_leases_of_the_dead(context)  # a forced stop's, on this host
        if self._named is not None:
            context.count("claimed", len(self._named))
            return
        rows = context.stage.rows
        self._first = rows is not None and rows.first is not None and not self.reparse
        pending = context.db.count_pending(
            context.stage, max_attempts=context.config.max_attempts, parser_version=context.parser_version,
            stale=self.reparse,
        )
        context.set_stat("pending_at_start", min(pending, self.limit or pending))

    async def take(
        self, context: SourceContext, *, room: int, left_pending: Set[int], not_fetched: Mapping[int, str]
    ) -> Batch:
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
        config, db = context.config, context.db
        want = room if self.limit is None else min(room, self.limit - self._handed_out)
        while True:
            # once per crawl: what failed here would fail alike now (a bounded list: with
            # more, the claim stops short at ``until`` and the next goes on from there)
            exclude, until = _excluded(left_pending, self._after)
            claim = partial(
                db.claim, context.stage, worker=context.worker, lease_seconds=config.lease_seconds,
                max_attempts=config.max_attempts, after=self._after, limit=want,
                parser_version=context.parser_version, stale=self.reparse, exclude=exclude, until=until,
                first=self._first,
            )
            batch = db.again_if_lost(claim)
            if batch or until is None:
                break
            self._after = until  # nothing left below the window's end
        if not batch and self._first:
            # the units the stage reads first are all claimed: now every pending one
            self._first, self._after = False, -1
            return await self.take(context, room=room, left_pending=left_pending, not_fetched=not_fetched)
        if not batch and free_leases_of_the_dead(context):
            self._after = -1  # a crawl of this host died holding units: they are free now
            return 0.0
        if not batch:
            wait = db.foreign_lease_wait(
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


#: The most unit ids one claim excludes (bind parameters: SQLite takes 32,766 at most).
EXCLUDE_MOST = 500


def _excluded(left_pending: Set[int], after: int) -> tuple[list[int], int | None]:
    """The units left pending by this crawl a claim above ``after`` must skip, at most
    :data:`EXCLUDE_MOST` of them; with more, the claim stops at the last one excluded
    (``until``) and the next claim goes on from there. Those at or below ``after`` need
    no excluding: the claim starts above it."""
    ahead = heapq.nsmallest(EXCLUDE_MOST + 1, (unit for unit in left_pending if unit > after))
    if len(ahead) <= EXCLUDE_MOST:
        return ahead, None
    return ahead[:EXCLUDE_MOST], ahead[EXCLUDE_MOST - 1]


# -- leases of crawls that are gone ---------------------------------------------------


def worker_process(worker: str) -> tuple[str, int] | None:
    """The host and process id of a default worker id (``host-pid-random``), else None."""
    host, _, rest = worker.rpartition("-")
    host, _, pid = host.rpartition("-")
    if not host or not pid.isdigit() or not rest:
        return None
    return host, int(pid)


def is_gone(worker: str) -> bool:
    """Was ``worker`` a crawl on this host whose process is no longer running?"""
    process = worker_process(worker)
    if process is None or process[0] != socket.gethostname() or process[1] == os.getpid():
        return False
    try:
        os.kill(process[1], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # running, as another user
        return False
    return False


def free_leases_of_the_dead(context: SourceContext) -> list[str]:
    """Free the stage's leases held by crawls of this host that are gone (a forced stop,
    a crash): the next crawl need not wait out their leases. The workers freed."""
    gone = sorted({str(row["worker"]) for row in context.db.free_leases([context.stage], of=is_gone)})
    if gone:
        logger.info("Freed the leases of %s: %s no longer running on this host",
                    ", ".join(gone), "it is" if len(gone) == 1 else "they are")
    return gone


# -- walks ----------------------------------------------------------------------------

#: Fetch failures of a walk's page after the first that mean the walk ends there: an
#: archived listing often ends before its last page says so.
END_OF_WALK = frozenset({"not_in_archive", "http_404", "http_410"})


class Walk:
    """A unit source that reads pages one after the other, each page saying where the
    walk goes next (the results listing, the world ranking's snapshots). No row holds
    a unit before it is stored: nothing is leased, renewed or given back.

    A walk says where it starts and goes on (:meth:`next_unit`, set from
    :meth:`parsed`), what a unit is called (``what``) and where the walk ends (``end``).
    """

    holds_leases: ClassVar[bool] = False
    #: pages follow one another: a page we cannot read leaves no way on
    stops_at_first_failure: ClassVar[bool] = True
    one_at_a_time: ClassVar[bool] = True
    overwrite: ClassVar[bool] = False
    creates_database: ClassVar[bool] = True
    waiting: ClassVar[Waiting | None] = None
    what: ClassVar[str]
    end: ClassVar[str]

    _last: int | None = None
    _taken = 0

    def next_unit(self) -> int | None:
        """The unit to read next, or None where the walk ends; called once a unit."""
        raise NotImplementedError

    def prepare(self, context: SourceContext) -> None:
        pass

    def opened(self, context: SourceContext) -> None:
        pass

    async def take(
        self, context: SourceContext, *, room: int, left_pending: Set[int], not_fetched: Mapping[int, str]
    ) -> Batch:
        """The next unit of the walk, once the last one has settled."""
        if self._last is not None and self._last in left_pending:
            walk_stops(context, self._last, first=self._taken == 1, not_fetched=not_fetched,
                       what=self.what, end=self.end)
            return None
        unit_id = self.next_unit()
        if unit_id is None:
            return None
        self._last = unit_id
        self._taken += 1
        context.count("claimed")
        return [Unit(id=unit_id)]

    def renew(self, context: SourceContext, ids: list[int]) -> None:
        pass

    def give_back(self, context: SourceContext, unit_id: int) -> None:
        pass

    def closed(self, context: SourceContext) -> None:
        pass


def walk_stops(context: SourceContext, unit_id: int, *, first: bool, not_fetched: Mapping[int, str],
               what: str, end: str) -> None:
    """Say why a walk stops at ``unit_id``, a ``what`` of it left pending: not fetched
    (the brakes, or on the first page the verdict on a crawl that fetched nothing, say
    what is wrong; one missing after the first is ``end``, where the walk ends), or not
    stored."""
    label = context.label(unit_id).capitalize()
    reason = not_fetched.get(unit_id)
    if reason is None:  # fetched or parsed but not stored
        logger.error("%s was not stored: stopping", label)
        context.set_stat("stopped_because", f"a {what} was not stored")
        return
    missing = not first and reason in END_OF_WALK
    logger.info("%s %s (%s): stopping", label, f"is not there: {end}" if missing else "could not be fetched", reason)
    context.set_stat("stopped_because", end if missing else f"a {what} was not fetched")


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
