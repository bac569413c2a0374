"""Where a crawl's units come from: leases claimed from the database, or the results listing.

A source is built from the spider's ``-a`` arguments (so a bad one fails before anything
opens), then asked by the :class:`~hltv_scraper.ledger.ledger.Ledger` for units one at a time.

- :class:`LeasedUnits`: the match, map stats and performance/economy stages. Units are
  rows in the database, claimed a few at a time with a lease (several crawls may share
  one database), or named with ``-a mapstatsid=`` / ``-a match_id=`` and redone on
  purpose, or, with ``-a reparse=stale``, those stored by another parser version.
- :class:`ResultsListing`: the results stage. Its units are the listing's pages, walked
  one after the other from ``-a offset=``; each page says where the next one is, and
  whether to read on.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.exc import DBAPIError

from hltv_scraper.ledger.arguments import (
    SpiderArgumentError,
    day_end_ms,
    day_start_ms,
    flag,
    id_list,
    positive_int,
    reject_unknown,
    whole_number,
)
from hltv_scraper.storage import Unit
from hltv_scraper.stopping import free_leases_of_the_dead

if TYPE_CHECKING:
    from typing_extensions import Self

    from hltv_scraper.items import ResultsPage
    from hltv_scraper.ledger.ledger import Ledger

logger = logging.getLogger(__name__)

#: How often a crawl with nothing left to claim looks for units other crawls give back.
POLL_SECONDS = 1.0
#: How often a waiting crawl asks again whose leases it waits for.
_WHO_SECONDS = 30.0


class LeasedUnits:
    """Units claimed from the database, with a lease renewed while they are in flight."""

    holds_leases: ClassVar[bool] = True
    #: a unit that cannot be stored does not stop the others
    stops_at_first_failure: ClassVar[bool] = False

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
        self._named: list[Unit] | None = None
        self._asked_who = 0.0

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

    @property
    def overwrite(self) -> bool:
        """Units named on the command line, or stale ones, are redone on purpose."""
        return self.named_ids is not None or self.reparse

    @property
    def creates_database(self) -> bool:
        """A crawl of named units needs them stored already: it makes no database."""
        return self.named_ids is None

    def prepare(self, ledger: Ledger) -> None:
        """Claim the named units now, so an unknown id fails before the crawl starts."""
        if self.named_ids is None:
            return
        try:
            self._named = ledger.db.claim_named(
                ledger.stage, self.named_ids, worker=ledger.worker, lease_seconds=ledger.config.lease_seconds
            )
        except KeyError as exc:
            raise SpiderArgumentError(
                f"{self.named_argument} {', '.join(map(str, exc.args[0]))} not in the database "
                f"{ledger.db.location} ({self.adding_hint})"
            ) from None

    def opened(self, ledger: Ledger) -> None:
        # A fixed HLTV_WORKER_ID restarting after a crash takes its units back at once;
        # the units named with -a are this crawl's already.
        named = [unit.id for unit in self._named or ()]
        ledger.db.release_all(ledger.stage, worker=ledger.worker, keep=named)
        free_leases_of_the_dead(ledger.db, ledger.stage)  # a forced stop's, on this host
        if self._named is not None:
            ledger.claimed(self._named)
            return
        pending = ledger.db.count_pending(
            ledger.stage, max_attempts=ledger.config.max_attempts, parser_version=ledger.parser_version,
            stale=self.reparse,
        )
        ledger.stats.set_value(f"hltv/{ledger.units_name}/pending_at_start", min(pending, self.limit or pending))

    async def units(self, ledger: Ledger) -> AsyncIterator[Unit]:
        """The named units, else the stage's pending (or, re-parsing, stale) units,
        claimed a few at a time as room frees up.

        When no unclaimed unit is left, units other crawls hold may still come back (a
        crawl that died leaves leases that expire; a fetch failure releases its unit):
        the crawl polls for those and sweeps again, for at most one lease period (a
        live crawl renews its leases, and its units are in good hands), and ends.
        """
        if self._named is not None:
            for unit in self._named:
                yield unit
            return
        config = ledger.config
        count, after, idle_since = 0, -1, None
        while (self.limit is None or count < self.limit) and not ledger.ended:
            await ledger.room()
            want = ledger.room_left()
            if self.limit is not None:
                want = min(want, self.limit - count)
            # once per crawl: what failed here would fail alike now
            exclude, until = _excluded(ledger.left_pending, after)
            try:
                batch = ledger.db.again_if_lost(lambda: ledger.db.claim(
                    ledger.stage, worker=ledger.worker, lease_seconds=config.lease_seconds,
                    max_attempts=config.max_attempts, after=after, limit=want,
                    parser_version=ledger.parser_version, stale=self.reparse,
                    exclude=exclude, until=until,
                ))
            except DBAPIError as exc:
                ledger.refused(exc, "No unit could be claimed")
                return
            if not batch and until is not None:  # nothing left below the window's end
                after = until
                continue
            if not batch and free_leases_of_the_dead(ledger.db, ledger.stage):
                after = -1  # a crawl of this host died holding units: they are free now
                continue
            if not batch:
                wait = ledger.db.foreign_lease_wait(
                    ledger.stage, worker=ledger.worker, max_attempts=config.max_attempts,
                    parser_version=ledger.parser_version, stale=self.reparse,
                )
                idle_since = idle_since or time.monotonic()
                if wait is None or time.monotonic() - idle_since > config.lease_seconds + 1:
                    ledger.waiting_for(None)
                    return
                self._say_who(ledger, wait)
                after = -1
                await asyncio.sleep(min(wait + 0.1, POLL_SECONDS))
                continue
            idle_since = None
            ledger.waiting_for(None)
            ledger.claimed(batch)
            for unit in batch:
                after = unit.id
                count += 1
                yield unit

    def _say_who(self, ledger: Ledger, first_expires_in: float) -> None:
        """Tell the ledger whose leases this crawl waits for (asked again now and then)."""
        now = time.monotonic()
        if ledger.waiting is not None and now - self._asked_who < _WHO_SECONDS:
            ledger.waiting.first_expires_at = now + first_expires_in
            return
        self._asked_who = now
        try:
            rows = [row for row in ledger.db.leases()
                    if row["units_of"] == ledger.stage.table and row["worker"] != ledger.worker]
        except DBAPIError:
            rows = []
        ledger.waiting_for(Waiting(
            units=sum(int(row["units"]) for row in rows),
            workers=tuple(str(row["worker"]) for row in rows),
            first_expires_at=now + first_expires_in,
            last_expires_at=now + max((float(row["expires_in"]) for row in rows), default=first_expires_in),
        ))

    def parsed(self, ledger: Ledger, unit: Unit, item: Any) -> Any:
        return item

    def renew(self, ledger: Ledger, ids: list[int]) -> None:
        ledger.db.renew(ledger.stage, ids, worker=ledger.worker, lease_seconds=ledger.config.lease_seconds)

    def give_back(self, ledger: Ledger, unit_id: int) -> None:
        ledger.db.release(ledger.stage, unit_id, worker=ledger.worker)

    def closed(self, ledger: Ledger) -> None:
        ledger.db.release_all(ledger.stage, worker=ledger.worker)


#: The most unit ids one claim excludes (bind parameters: SQLite takes 32,766 at most).
EXCLUDE_MOST = 500


def _excluded(left_pending: set[int], after: int) -> tuple[list[int], int | None]:
    """The units left pending by this crawl a claim above ``after`` must skip, at most
    :data:`EXCLUDE_MOST` of them; with more, the claim stops at the last one excluded
    (``until``) and the next claim goes on from there. Those at or below ``after`` need
    no excluding: the claim starts above it."""
    ahead = heapq.nsmallest(EXCLUDE_MOST + 1, (unit for unit in left_pending if unit > after))
    if len(ahead) <= EXCLUDE_MOST:
        return ahead, None
    return ahead[:EXCLUDE_MOST], ahead[EXCLUDE_MOST - 1]


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


#: Fetch failures of a results page after the first that mean the listing ends there.
_END_OF_LISTING = ("not_in_archive", "http_404", "http_410")


class ResultsListing:
    """HLTV's results listing, newest first: pages read one after the other from
    ``offset`` (steps of 100), until the first of: ``pages`` pages read; a page whose
    entries are all older than ``since``; the last page; and, unless ``full``, a page
    on which every match is already known. Entries completed after ``until`` are
    skipped. A page that cannot be fetched or parsed stops the walk."""

    holds_leases: ClassVar[bool] = False
    #: pages follow one another: a page we cannot read leaves no way on
    stops_at_first_failure: ClassVar[bool] = True
    overwrite: ClassVar[bool] = False
    creates_database: ClassVar[bool] = True

    def __init__(
        self, *, since_ms: int | None, until_ms: int | None, offset: int, pages: int | None, full: bool
    ) -> None:
        self.since_ms = since_ms
        self.until_ms = until_ms  # exclusive
        self.offset = offset
        self.pages = pages
        self.full = full
        self._next_offset: int | None = None

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

    def prepare(self, ledger: Ledger) -> None:
        pass

    def opened(self, ledger: Ledger) -> None:
        pass

    async def units(self, ledger: Ledger) -> AsyncIterator[Unit]:
        offset, read = self.offset, 0
        while True:
            self._next_offset = None
            unit = Unit(id=offset)
            ledger.claimed([unit])
            yield unit
            read += 1
            await ledger.settled()
            not_fetched = ledger.last_fetch_failure
            if offset in ledger.left_pending and not_fetched is not None and not_fetched[0] == offset:
                # the brakes (or, on the first page, the verdict on a crawl that fetched
                # nothing) say what is wrong; a page missing after the first is where the
                # listing, an archived one often, ends before its last page says so
                end = read > 1 and not_fetched[1] in _END_OF_LISTING
                logger.info("%s %s (%s): stopping", ledger.label(offset).capitalize(),
                            "is not there: the end of the listing" if end else "could not be fetched",
                            not_fetched[1])
                ledger.stats.set_value("hltv/results_pages/stopped_because",
                                       "the end of the listing" if end else "a page was not fetched")
                return
            if offset in ledger.left_pending:  # fetched or parsed but not stored
                logger.error("%s was not stored: stopping", ledger.label(offset).capitalize())
                ledger.stats.set_value("hltv/results_pages/stopped_because", "a page was not stored")
                return
            if self._next_offset is None:
                return
            if self.pages is not None and read >= self.pages:
                logger.info("Read %d results pages (-a pages=%d): stopping", read, self.pages)
                return
            offset = self._next_offset

    def parsed(self, ledger: Ledger, unit: Unit, page: ResultsPage) -> ResultsPage:
        """Decide whether to read on, and keep only the entries in the date window."""
        entries = page.entries
        known = ledger.db.known_match_ids([entry.match_id for entry in entries])
        stop = self._stop_reason(page, known)
        if stop:
            logger.info("%s: %s: stopping", ledger.label(unit.id).capitalize(), stop)
            ledger.stats.set_value("hltv/results_pages/stopped_because", stop)
        else:
            self._next_offset = page.next_offset
        page.entries = [entry for entry in entries if self._in_window(entry.completed_unix_ms)]
        skipped = len(entries) - len(page.entries)
        if skipped:
            ledger.stats.inc_value("hltv/results_pages/entries_outside_dates", skipped)
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

    def renew(self, ledger: Ledger, ids: list[int]) -> None:
        pass

    def give_back(self, ledger: Ledger, unit_id: int) -> None:
        pass  # no row holds a results page

    def closed(self, ledger: Ledger) -> None:
        pass
