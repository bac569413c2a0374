"""The storage interface every stage uses, over SQLite or PostgreSQL.

Units of work (a results page, a match, a map) are claimed, saved whole or failed, and
released here; no SQL lives outside the storage package. A unit is written in one
transaction: the stage's writer validates the parsed pages against what the database
holds and writes everything, or raises :class:`ValidationError` and nothing is written.

Several crawls may share one database. A crawl claims a few pending units at a time by
stamping them with its worker id and a lease expiry, in one statement no two crawls can
both win (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a write transaction on SQLite); it
renews the leases of units in flight; the transaction that stores or fails a unit clears
its lease. A crawl that dies leaves leases that simply expire.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from hltv_scraper.storage._errors import AlreadyStored, DatabaseUnavailable, SaveResult, ValidationError
from hltv_scraper.storage._failures import FailureGroup, failure_groups, requeue
from hltv_scraper.storage._results import known_match_ids
from hltv_scraper.storage._schema import (
    POSTGRESQL,
    SQLITE,
    begin,
    commit,
    connect,
    database_url,
    describe,
    in_transaction,
    migrate,
    rollback,
    schema_version,
)
from hltv_scraper.storage._sql import Row, Sql, Stamp, alive, listed
from hltv_scraper.storage.stages import STAGES, Stage

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: How long a dropped PostgreSQL connection is tried again for (a restart, a failover)
#: before the crawl stops. The event loop waits meanwhile: it happens seldom.
REOPEN_SECONDS = 15.0


@dataclass(frozen=True)
class Unit:
    """What a spider needs to request a unit's pages: its key, the URL's slug as stored
    (None when none was: the spider makes one of the team names, which storage leaves
    to it), and the match's team names."""

    id: int
    slug: str | None = None
    team_names: tuple[str | None, str | None] = (None, None)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Database:
    def __init__(self, connection: Connection, url: URL, *, applied: Sequence[str] = ()) -> None:
        self.connection = connection
        self.url = url
        self.sql = Sql(connection, reopen=self.reopen_if_lost)
        self._gone = False  # the server dropped the connection and never came back
        #: how long a dropped connection is tried again for
        self.reopen_seconds = REOPEN_SECONDS
        #: the migrations opening the database applied (``0004_demo_ids.sql``...)
        self.applied = list(applied)

    @classmethod
    def open(cls, location: URL | Path | str, *, create: bool = True) -> Database:
        """Open (migrating as needed) the database at ``location``: a SQLite file's path,
        or a ``postgresql://`` URL.

        With ``create`` (crawls, ``initdb``, ``add*``) a SQLite file that does not exist
        yet is made, and an empty PostgreSQL database gets the project's tables. Without
        it (commands that only read) a database that does not exist (no SQLite file; a
        PostgreSQL database without our tables) raises DatabaseUnavailable and nothing
        is created; an older schema of ours is still migrated. A location that cannot be
        used at all (a folder, a file that is not a SQLite database, a server that is
        down, a wrong password, a malformed URL) raises DatabaseUnavailable whatever
        ``create``: one line naming the location, never its password.
        """
        url = _location_url(location)
        shown = describe(url)
        if url.get_backend_name() == SQLITE:
            _check_sqlite_file(Path(url.database), shown, create=create)
        try:
            connection = connect(url)
        except (DBAPIError, OSError, RuntimeError) as exc:
            raise DatabaseUnavailable(f"cannot open the database {shown}: {_reason(exc, url)}") from None
        try:
            if not create and schema_version(connection) == 0:
                raise DatabaseUnavailable(f"no database at {shown} yet: {_HOW_TO_MAKE_ONE}")
            applied = migrate(connection)
        except DBAPIError as exc:
            connection.close()
            raise DatabaseUnavailable(f"cannot open the database {shown}: {_reason(exc, url)}") from None
        except BaseException:
            connection.close()
            raise
        return cls(connection, url, applied=applied)

    def close(self) -> None:
        self.connection.close()

    def again_if_lost(self, call: Callable[[], T]) -> T:
        """``call()``; if the server dropped the connection in the middle of it (its
        transaction rolled back), once more on a connection opened anew."""
        try:
            return call()
        except DBAPIError:
            if not self.reopen_if_lost():
                raise
        return call()

    def reopen_if_lost(self) -> bool:
        """After an error: if the PostgreSQL server dropped this connection (a restart, a
        failover), open a new one in its place. True if it did; False when the connection
        still answers (the error was something else) or no new one could be opened."""
        if self.dialect != POSTGRESQL or self._gone or alive(self.connection):
            return False  # a SQLite file has no connection to lose; this one answers
        # a server restarting takes a few seconds to accept connections again
        deadline = time.monotonic() + self.reopen_seconds
        pause = 0.2
        while True:
            try:
                connection = connect(self.url)
                break
            except (DBAPIError, OSError):
                if time.monotonic() + pause > deadline:
                    # the server stays away: the old connection stays, dead (every use is
                    # a DBAPIError, at once), and it is not waited for again
                    self._gone = True
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
        with contextlib.suppress(Exception):
            self.connection.close()
        # the same Sql object on the new connection: whoever holds it goes on with it
        self.connection = self.sql.connection = connection
        logger.warning("The connection to the database %s was lost; opened it again", self.location)
        return True

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version the database is at (after opening: the latest shipped)."""
        return schema_version(self.connection)

    @property
    def location(self) -> str:
        """Where the database is, as it may be shown (never with a password)."""
        return describe(self.url)

    @property
    def dialect(self) -> str:
        return self.sql.dialect

    # -- which units ----------------------------------------------------------------
    #
    # Pending units are those a stage has still to store; with ``stale``, those it
    # stored with another parser version than ``parser_version`` (to re-parse). Either
    # way a unit has attempts left: fewer than ``max_attempts`` counted under this
    # parser version (attempts counted under another one do not count). The parser
    # version is the caller's (storage imports no parser); without one, every counted
    # attempt counts, and asking for stale units is an error.

    def count_pending(
        self, stage: Stage | str, *, max_attempts: int, parser_version: str | None = None, stale: bool = False
    ) -> int:
        stage = _stage(stage)
        return self.sql.value(
            f"SELECT count(*) FROM {stage.table} u WHERE {_wanted_checked(stage, stale, parser_version)}",
            _versioned({"max_attempts": max_attempts}, parser_version),
        )

    def iter_pending(
        self, stage: Stage | str, *, max_attempts: int, parser_version: str | None = None, batch: int = 200
    ) -> Iterator[Unit]:
        """Every pending unit, by key, without claiming it (read in keyset batches)."""
        stage = _stage(stage)
        after = -1
        while True:
            rows = self.sql.all(
                f"{stage.select} WHERE u.{stage.key} > :after AND {_pending(stage)} "
                f"ORDER BY u.{stage.key} LIMIT :batch",
                _versioned({"after": after, "max_attempts": max_attempts, "batch": batch}, parser_version),
            )
            if not rows:
                return
            yield from map(_unit, rows)
            after = rows[-1]["unit_id"]

    def claim(
        self,
        stage: Stage | str,
        *,
        worker: str,
        lease_seconds: float,
        max_attempts: int,
        after: int = -1,
        limit: int = 16,
        parser_version: str | None = None,
        stale: bool = False,
        exclude: Sequence[int] = (),
        until: int | None = None,
    ) -> list[Unit]:
        """Lease up to ``limit`` pending (or ``stale``) units with keys above ``after``
        (and at most ``until``) that no live lease holds and are not in ``exclude``,
        lowest keys first."""
        stage = _stage(stage)
        excluded, params = listed("exclude", exclude) if exclude else ("", {})
        with self.transaction() as db:
            claimed = db.all(
                f"""UPDATE {stage.table} SET lease_worker = :worker,
                      lease_expires = {db.now_epoch} + :lease_seconds
                    WHERE {stage.key} IN (
                      SELECT u.{stage.key} FROM {stage.table} u
                      WHERE u.{stage.key} > :after AND {_wanted_checked(stage, stale, parser_version)}
                        AND (u.lease_expires IS NULL OR u.lease_expires < {db.now_epoch})
                        {f'AND u.{stage.key} NOT IN {excluded}' if exclude else ''}
                        {f'AND u.{stage.key} <= :until' if until is not None else ''}
                      ORDER BY u.{stage.key} LIMIT :limit {db.skip_locked})
                    RETURNING {stage.key}""",
                _versioned({"worker": worker, "lease_seconds": lease_seconds, "after": after,
                            "max_attempts": max_attempts, "limit": limit, "until": until, **params},
                           parser_version),
            )
            return self._units(db, stage, sorted(row[stage.key] for row in claimed))

    def claim_named(self, stage: Stage | str, ids: list[int], *, worker: str, lease_seconds: float) -> list[Unit]:
        """Lease exactly these units, pending or not; unknown ids raise KeyError."""
        stage = _stage(stage)
        with self.transaction() as db:
            units = {unit.id: unit for unit in self._units(db, stage, ids)}
            missing = [unit_id for unit_id in ids if unit_id not in units]
            if missing:
                raise KeyError(missing)
            self._set_lease(db, stage, ids, worker=worker, lease_seconds=lease_seconds)
        return [units[unit_id] for unit_id in ids]

    def renew(self, stage: Stage | str, ids: Iterable[int], *, worker: str, lease_seconds: float) -> None:
        """Extend this worker's leases on ``ids`` (units still in flight)."""
        stage = _stage(stage)
        ids = list(ids)
        if stage.tracked and ids:
            with self.transaction() as db:
                self._set_lease(db, stage, ids, worker=worker, lease_seconds=lease_seconds, own=True)

    def release(self, stage: Stage | str, unit_id: int, *, worker: str) -> None:
        """Give a unit back untouched (a fetch failure): no attempt is counted."""
        stage = _stage(stage)
        if stage.tracked:
            with self.transaction() as db:
                _clear_lease(db, stage, unit_id, worker)

    def release_all(self, stage: Stage | str, *, worker: str, keep: Sequence[int] = ()) -> None:
        """Give back every unit this worker still holds (its crawl is ending, or a crash
        left them held), but those in ``keep``."""
        stage = _stage(stage)
        kept, params = listed("keep", keep) if keep else ("", {})
        with self.transaction() as db:
            db.run(
                f"UPDATE {stage.table} SET lease_worker = NULL, lease_expires = NULL "
                f"WHERE lease_worker = :worker{f' AND {stage.key} NOT IN {kept}' if keep else ''}",
                {"worker": worker, **params},
            )

    def refund_attempts(self, stage: Stage | str, ids: list[int]) -> None:
        """Take back one counted attempt of each unit (its failure was not its fault)."""
        stage = _stage(stage)
        if not stage.tracked or not ids:
            return
        among, params = listed("id", ids)
        with self.transaction() as db:
            db.run(
                f"UPDATE {stage.table} SET {stage.attempts} = {stage.attempts} - 1 "
                f"WHERE {stage.attempts} > 0 AND {stage.key} IN {among}",
                params,
            )

    def foreign_lease_wait(
        self, stage: Stage | str, *, worker: str, max_attempts: int,
        parser_version: str | None = None, stale: bool = False,
    ) -> float | None:
        """Seconds until the first lease another worker holds on a pending (or stale)
        unit expires (0 when one has expired already: it may be claimed now); None when
        there is none, so nothing may come back to claim."""
        stage = _stage(stage)
        seconds = self.sql.value(
            f"""SELECT min(u.lease_expires) - {self.sql.now_epoch} FROM {stage.table} u
                WHERE {_wanted_checked(stage, stale, parser_version)} AND u.lease_worker <> :worker""",
            _versioned({"worker": worker, "max_attempts": max_attempts}, parser_version),
        )
        return None if seconds is None else max(float(seconds), 0.0)

    def known_match_ids(self, ids: list[int]) -> set[int]:
        return known_match_ids(self.sql, ids)

    # -- writes ---------------------------------------------------------------------

    def save(
        self,
        stage: Stage | str,
        unit_id: int,
        bundle: Any,
        *,
        parser_version: str,
        worker: str | None = None,
        overwrite: bool = True,
        check: Callable[[Any, Mapping[str, Any]], Any] | None = None,
    ) -> SaveResult:
        """Validate and write one unit's parsed pages in one transaction.

        ``bundle`` is an instance of ``stage.bundle`` (a mapping of page name -> page is
        taken too, for callers not yet moved to bundles). ``check(bundle, rows)`` is
        the stage's validation (``hltv_scraper.validation.check_for(stage)``): the
        writer calls it inside the transaction with the rows it read there, and a
        ValidationError it raises writes nothing. Without one the caller vouches for
        the pages (the perf_economy writer cannot do without it).

        Without ``overwrite``, a unit the stage already stored (another crawl got there
        first) is left as it is and AlreadyStored raised; so is one another live crawl
        holds the lease of.
        """
        stage = _stage(stage)
        bundle = _bundle(stage, bundle)
        with self.transaction(page=stage.pages[0]) as db:
            now = utc_now()  # once the write lock is ours: see ExportResult.next_changed_since
            key = None
            if stage.tracked:
                key = _unit_row(db, stage, unit_id, lock=True)
                if key is None:
                    raise ValidationError(stage.pages[0], f"{stage.key} {unit_id} is not in the database")
                taken = worker is not None and _leased_by_another(db, key, worker)
                if taken or (not overwrite and key[stage.done] is not None):
                    _clear_lease(db, stage, unit_id, worker)
                    result = None
                else:
                    # the version it was stored with, and (for a crawl) its lease given
                    # back, in the writer's own UPDATE of the unit's row
                    lease = _OWN_LEASE_CLEARED if worker is not None else ""
                    stamp = Stamp(f", {stage.version} = :stamp_version{lease}",
                                  {"stamp_version": parser_version, "stamp_worker": worker})
                    result = stage.write(db, key, bundle, now=now, parser_version=parser_version,
                                         check=check, stamp=stamp)
            else:
                result = stage.write(db, key, bundle, now=now, parser_version=parser_version,
                                     check=check, stamp=Stamp())
        if result is None:
            raise AlreadyStored(unit_id)
        return result

    def record_failure(
        self,
        stage: Stage | str,
        unit_id: int,
        *,
        failures: list[tuple[str, str, str | None]],
        parser_version: str,
        worker: str | None = None,
    ) -> bool:
        """One more failed attempt for the unit, with a record per failed page
        (``(page, reason, url)``), in one transaction; its lease is cleared.

        Attempts are counted per parser version: the first failure under a version
        other than the one the count was kept under starts the count again at 1.

        A unit another live crawl holds the lease of (it took the unit over while this
        crawl fetched it) is left to that crawl, as :meth:`save` leaves it: nothing is
        counted or recorded, and False is returned.
        """
        stage = _stage(stage)
        with self.transaction() as db:
            now = utc_now()
            key = _unit_row(db, stage, unit_id, lock=True) if stage.tracked else None
            if key is not None and worker is not None and _leased_by_another(db, key, worker):
                return False
            if key is not None:
                attempts, counted_under = stage.attempts, stage.attempts_version
                db.run(
                    f"""UPDATE {stage.table} SET
                          {attempts} = CASE WHEN {counted_under} IS NULL OR {counted_under} = :version
                                       THEN {attempts} + 1 ELSE 1 END,
                          {counted_under} = :version, updated_at = :now
                        WHERE {stage.key} = :id""",
                    {"now": now, "id": unit_id, "version": parser_version},
                )
                _clear_lease(db, stage, unit_id, worker)
            db.many(
                "INSERT INTO failures (stage, unit_id, mapstatsid, match_id, map_number, page, "
                "reason, url, parser_version, failed_at) VALUES (:stage, :unit_id, :mapstatsid, "
                ":match_id, :map_number, :page, :reason, :url, :version, :now)",
                [
                    {
                        "stage": stage.name, "unit_id": unit_id,
                        "mapstatsid": unit_id if stage.key == "mapstatsid" else None,
                        "match_id": key["match_id"] if key else None,
                        "map_number": key.get("map_number") if key else None,
                        "page": page, "reason": reason, "url": url,
                        "version": parser_version, "now": now,
                    }
                    for page, reason, url in failures
                ],
            )
        return True

    def requeue(
        self,
        stage: Stage | str,
        *,
        reason: str | None = None,
        unit_ids: list[int] | None = None,
        match_ids: list[int] | None = None,
    ) -> list[int]:
        """Give the stage's failed units their attempts back, in one transaction: those
        whose latest failure's reason contains ``reason``, of these units or matches.
        Returns the keys of the units reset; ids not in the database raise KeyError
        ``(column, [ids])`` and nothing changes."""
        stage = _stage(stage)
        if not stage.tracked:
            raise ValueError(f"the {stage.name} stage has no units to requeue")
        with self.transaction() as db:
            return requeue(db, stage, reason=reason, unit_ids=unit_ids, match_ids=match_ids)

    # -- telling the project what to collect ------------------------------------------

    def add_maps(self, maps: list[tuple[int, int, int]]) -> tuple[int, int]:
        """Add ``(match_id, map_number, mapstatsid)`` maps in one transaction.

        Returns ``(added, already_known)``. A map that contradicts a stored one (the
        same mapstatsid elsewhere, or another mapstatsid in its place) raises
        ValueError and nothing is added.
        """
        added = known = 0
        with self.transaction() as db:
            now = utc_now()
            for match_id, map_number, mapstatsid in maps:
                wanted = (match_id, map_number, mapstatsid)
                stored = [
                    (row["match_id"], row["map_number"], row["mapstatsid"])
                    for row in db.all(
                        "SELECT match_id, map_number, mapstatsid FROM maps WHERE mapstatsid = "
                        ":mapstatsid OR (match_id = :match_id AND map_number = :map_number)",
                        {"match_id": match_id, "map_number": map_number, "mapstatsid": mapstatsid},
                    )
                ]
                other = next((row for row in stored if row != wanted), None)
                if other:
                    raise ValueError(
                        f"map {match_id}/{map_number} mapstatsid {mapstatsid} contradicts the "
                        f"stored map {other[0]}/{other[1]} mapstatsid {other[2]}"
                    )
                if stored:
                    known += 1
                    continue
                _insert_match(db, match_id, None, now)
                db.run(
                    "INSERT INTO maps (match_id, map_number, mapstatsid, played, is_forfeit, "
                    "scraped_at, updated_at) VALUES (:match_id, :map_number, :mapstatsid, 1, 0, :now, :now)",
                    {"match_id": match_id, "map_number": map_number, "mapstatsid": mapstatsid, "now": now},
                )
                added += 1
        return added, known

    def add_matches(self, matches: list[tuple[int, str | None]]) -> tuple[int, int]:
        """Add ``(match_id, slug)`` matches, pending for the match stage, in one
        transaction. Returns ``(added, already_known)``; a known match is left as it is."""
        with self.transaction() as db:
            now = utc_now()
            known = known_match_ids(db, [match_id for match_id, _ in matches])
            for match_id, slug in matches:
                if match_id not in known:
                    _insert_match(db, match_id, slug, now)
        return len(matches) - len(known), len(known)

    # -- what is there ----------------------------------------------------------------

    def summary(self) -> dict[str, int]:
        """Counts a person checks after a run: how far units got, what is stored."""
        one = self.sql.value
        return {
            "matches": one("SELECT count(*) FROM matches"),
            "matches with match page": one("SELECT count(*) FROM matches WHERE match_page_at IS NOT NULL"),
            "maps": one("SELECT count(*) FROM maps"),
            "maps with a stats page": one("SELECT count(*) FROM maps WHERE mapstatsid IS NOT NULL"),
            "maps with scoreboard": one("SELECT count(*) FROM maps WHERE mapstats_at IS NOT NULL"),
            "maps with performance and economy": one(
                "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL"
            ),
            "players with scoreboard": one("SELECT count(*) FROM player_stats"),
            "players with performance": one("SELECT count(*) FROM player_stats WHERE kpr IS NOT NULL"),
            "round history rows": one("SELECT count(*) FROM round_history"),
            "economy rows": one("SELECT count(*) FROM economy"),
            "kill matrix rows": one("SELECT count(*) FROM kill_matrix"),
            "veto steps": one("SELECT count(*) FROM vetoes"),
            "lineup players": one("SELECT count(*) FROM lineups"),
            "failures recorded": one("SELECT count(*) FROM failures"),
        }

    def pending_counts(self, *, max_attempts: int, parser_version: str | None = None) -> dict[str, int]:
        """Units each tracked stage still has to do, counted in one statement (the
        progress line asks during a crawl). Each count keeps its own WHERE: PostgreSQL
        turns its EXISTS into a join there, not into a probe per row."""
        tracked = [(name, stage) for name, stage in STAGES.items() if stage.tracked]
        counts = ", ".join(
            f"(SELECT count(*) FROM {stage.table} u WHERE {_wanted(stage, False)}) AS {name}"
            for name, stage in tracked
        )
        row = self.sql.one(f"SELECT {counts}", _versioned({"max_attempts": max_attempts}, parser_version))
        return {name: int(row[name]) for name, _ in tracked}

    def leases(self) -> list[Row]:
        """Live leases by worker: ``worker, stage table, units, expires_in`` (seconds)."""
        now = self.sql.now_epoch
        return self.sql.all(
            f"""SELECT lease_worker AS worker, 'matches' AS units_of, count(*) AS units,
                  max(lease_expires) - {now} AS expires_in
                FROM matches WHERE lease_expires >= {now} GROUP BY lease_worker
                UNION ALL
                SELECT lease_worker, 'maps', count(*), max(lease_expires) - {now}
                FROM maps WHERE lease_expires >= {now} GROUP BY lease_worker
                ORDER BY 1, 2"""
        )

    def stored_versions(self) -> dict[str, dict[str | None, int]]:
        """Per tracked stage, how many units each parser version stored (None: not recorded)."""
        return {
            name: {
                row["version"]: row["units"]
                for row in self.sql.all(
                    f"SELECT {stage.version} AS version, count(*) AS units FROM {stage.table} "
                    f"WHERE {stage.done} IS NOT NULL GROUP BY {stage.version} ORDER BY 2 DESC, 1"
                )
            }
            for name, stage in STAGES.items()
            if stage.tracked
        }

    def failure_groups(self, *, recent: int | None = 10_000) -> list[FailureGroup]:
        """The latest ``recent`` failures (every one with None) by stage, page and
        reason, ids and names folded out, most frequent first: each group with its
        failures, distinct units, parser versions, latest time, and one example reason
        with its real names. ``scrapy summary`` and the report both group by this."""
        return failure_groups(self.sql, recent=recent)

    # -- plumbing -------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, page: str = "unit") -> Iterator[Sql]:
        """``BEGIN`` ... ``COMMIT``, rolled back on any exception.

        A row the schema refuses (a constraint, a number too large for a 64-bit
        integer) surfaces as :class:`ValidationError` naming ``page``: the page did not
        say what we believed.
        """
        try:
            begin(self.connection)
        except DBAPIError:
            # nothing of the transaction happened yet: a dropped connection is opened
            # again once and the transaction begun there
            if not self.reopen_if_lost():
                raise
            begin(self.connection)
        try:
            yield self.sql
        except BaseException as exc:
            if in_transaction(self.connection):
                rollback(self.connection)
            if isinstance(exc, IntegrityError):
                raise ValidationError(page, f"the database refused a row: {exc.orig}") from exc
            if isinstance(exc, DataError) or (
                isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)
            ):
                raise ValidationError(page, f"a number too large to store: {exc.orig}") from exc
            if isinstance(exc, OverflowError):
                raise ValidationError(page, f"a number too large to store: {exc}") from exc
            raise
        try:
            commit(self.connection)
        except BaseException:
            # A COMMIT that fails (disk full, I/O error) may leave the transaction
            # open: roll it back, or the next commit would write this half too.
            if in_transaction(self.connection):
                rollback(self.connection)
            raise

    def _units(self, db: Sql, stage: Stage, ids: list[int]) -> list[Unit]:
        if not ids:
            return []
        among, params = listed("id", ids)
        rows = db.all(f"{stage.select} WHERE u.{stage.key} IN {among} ORDER BY u.{stage.key}", params)
        return [_unit(row) for row in rows]

    @staticmethod
    def _set_lease(
        db: Sql, stage: Stage, ids: list[int], *, worker: str, lease_seconds: float, own: bool = False
    ) -> None:
        among, params = listed("id", ids)
        db.run(
            f"UPDATE {stage.table} SET lease_worker = :worker, "
            f"lease_expires = {db.now_epoch} + :lease_seconds "
            f"WHERE {stage.key} IN {among}"
            + (" AND lease_worker = :worker" if own else ""),
            {"worker": worker, "lease_seconds": lease_seconds, **params},
        )


_HOW_TO_MAKE_ONE = "make one with `make demo`, `scrapy initdb` or a crawl (`scrapy collect`)"
_PASSWORD = re.compile(r"(//[^:/@]*:).*@")


def _location_url(location: URL | Path | str) -> URL:
    """The URL of ``location``; a malformed one raises DatabaseUnavailable."""
    if isinstance(location, URL):
        return location
    text = str(location)
    if "://" not in text and not text.startswith("postgres"):
        return database_url(url=None, path=location)
    try:
        return database_url(url=text, path="")
    except ValueError as exc:
        masked = _PASSWORD.sub(r"\1***@", text)
        raise DatabaseUnavailable(f"cannot open the database {masked}: {exc}") from None


def _check_sqlite_file(path: Path, shown: str, *, create: bool) -> None:
    if path.is_dir():
        raise DatabaseUnavailable(
            f"cannot open the database {shown}: it is a folder; HLTV_DB_PATH names the SQLite database file in it (e.g. {path / 'hltv.sqlite3'})"
        )
    if not create and not path.exists():
        raise DatabaseUnavailable(f"no database at {shown} yet: {_HOW_TO_MAKE_ONE}")
    # Whether it is a SQLite file is SQLite's to say (see _reason): opening and closing
    # the file here would drop the locks this process's other connections hold on it
    # (POSIX locks are per process and file, not per descriptor).


def _reason(exc: BaseException, url: URL) -> str:
    """What went wrong, in one line of the driver's own words, without the password."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, OSError) and cause.strerror:
        text = f"cannot be made: {cause.strerror}" + (f" ({cause.filename})" if cause.filename else "")
    else:
        text = str(cause)
    if url.get_backend_name() == SQLITE and "file is not a database" in text:
        return "is not a SQLite database file"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = ". ".join(line.rstrip(".") for line in lines[:2]) if lines else type(cause).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    if url.get_backend_name() == POSTGRESQL:
        reason = reason.removeprefix("connection failed: ")
    return reason


def _stage(stage: Stage | str) -> Stage:
    return stage if isinstance(stage, Stage) else STAGES[stage]


def _bundle(stage: Stage, pages: Any) -> Any:
    if isinstance(pages, stage.bundle):
        return pages
    raise TypeError(f"the {stage.name} stage takes a {stage.bundle.__name__}, not {type(pages).__name__}")


def _pending(stage: Stage) -> str:
    """The stage's pending condition, attempts included (``:max_attempts``, ``:parser_version``)."""
    return f"({stage.pending}) AND {stage.attempts_left()}"


def _stale(stage: Stage) -> str:
    """Stored by the stage with another parser version than ``:parser_version`` (or
    with none recorded), attempts left under this one."""
    return (
        f"u.{stage.done} IS NOT NULL AND (u.{stage.version} IS NULL "
        f"OR u.{stage.version} <> :parser_version) AND {stage.attempts_left()}"
    )


def _wanted(stage: Stage, stale: bool) -> str:
    return _stale(stage) if stale else _pending(stage)


def _versioned(params: dict[str, Any], parser_version: str | None) -> dict[str, Any]:
    """``params`` with ``:parser_version``. Storage knows no parser version of its own:
    the caller passes it. Without one, attempts count whatever version they were
    counted under (SQL's ``<> NULL`` is never true)."""
    return {**params, "parser_version": parser_version}


def _wanted_checked(stage: Stage, stale: bool, parser_version: str | None) -> str:
    if stale and parser_version is None:
        raise TypeError("stale units are those stored by another parser version: pass parser_version")
    return _wanted(stage, stale)


def _unit(row: Row) -> Unit:
    return Unit(id=row["unit_id"], slug=row["slug"] or None, team_names=(row["team1_name"], row["team2_name"]))


def _unit_row(db: Sql, stage: Stage, unit_id: int, *, lock: bool = False) -> Row | None:
    """The unit's row; with ``lock``, locked until the transaction ends (PostgreSQL), so
    the lease and the done mark a write decides on stay as read: a crawl whose lease
    lapsed and was taken over waits here, then sees the other crawl's lease."""
    lock_clause = f" {db.for_update}" if lock and db.for_update else ""
    return db.one(f"{stage.select} WHERE u.{stage.key} = :id{lock_clause}", {"id": unit_id})


#: The writer's UPDATE of a unit row gives the lease back only if it is still this
#: worker's (one that lapsed may be another crawl's by now).
_OWN_LEASE_CLEARED = (
    ", lease_expires = CASE WHEN lease_worker = :stamp_worker THEN NULL ELSE lease_expires END"
    ", lease_worker = CASE WHEN lease_worker = :stamp_worker THEN NULL ELSE lease_worker END"
)


def _leased_by_another(db: Sql, key: Row, worker: str) -> bool:
    if key["lease_worker"] in (None, worker):
        return False
    return key["lease_expires"] is not None and key["lease_expires"] >= db.value(f"SELECT {db.now_epoch}")


def _clear_lease(db: Sql, stage: Stage, unit_id: int, worker: str | None) -> None:
    if worker is None:
        return
    db.run(
        f"UPDATE {stage.table} SET lease_worker = NULL, lease_expires = NULL "
        f"WHERE {stage.key} = :id AND lease_worker = :worker",
        {"id": unit_id, "worker": worker},
    )


def _insert_match(db: Sql, match_id: int, slug: str | None, now: str) -> None:
    db.run(
        "INSERT INTO matches (match_id, slug, scraped_at, updated_at) VALUES (:match_id, :slug, :now, :now) "
        "ON CONFLICT (match_id) DO NOTHING",
        {"match_id": match_id, "slug": slug, "now": now},
    )

