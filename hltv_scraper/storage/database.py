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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from hltv_scraper.items import Unit, ValidationError
from hltv_scraper.storage import _corrections, _refresh, _stats_wait
from hltv_scraper.storage._errors import AlreadyStored, DatabaseUnavailable, SaveResult
from hltv_scraper.storage._failures import FailureGroup, failure_groups, requeue
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
from hltv_scraper.storage._sql import Row, Sql, Stamp, alive, listed, pipelined
from hltv_scraper.storage.results import known_match_ids
from hltv_scraper.storage.stages import Check, StoredStage, UnitTable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: How long a dropped PostgreSQL connection is tried again for (a restart, a failover)
#: before the crawl stops. The event loop waits meanwhile: it happens seldom.
REOPEN_SECONDS = 15.0


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
        self, stage: StoredStage, *, max_attempts: int, parser_version: str | None = None, stale: bool = False
    ) -> int:
        rows = _rows(stage)
        return self.sql.value(
            f"SELECT count(*) FROM {rows.table} u WHERE {_wanted_checked(rows, stale, parser_version)}",
            _versioned({"max_attempts": max_attempts}, parser_version),
        )

    def iter_pending(
        self, stage: StoredStage, *, max_attempts: int, parser_version: str | None = None, batch: int = 200
    ) -> Iterator[Unit]:
        """Every pending unit, by key, without claiming it (read in keyset batches)."""
        rows = _rows(stage)
        after = -1
        while True:
            found = self.sql.all(
                f"{rows.select} WHERE u.{rows.key} > :after AND {_pending(rows)} "
                f"ORDER BY u.{rows.key} LIMIT :batch",
                _versioned({"after": after, "max_attempts": max_attempts, "batch": batch}, parser_version),
            )
            if not found:
                return
            yield from map(_unit, found)
            after = found[-1]["unit_id"]

    def claim(
        self,
        stage: StoredStage,
        *,
        worker: str,
        lease_seconds: float,
        max_attempts: int,
        after: int = -1,
        limit: int = 16,
        parser_version: str | None = None,
        stale: bool = False,
        exclude: Sequence[int] = (),
        first: bool = False,
        until: int | None = None,
    ) -> list[Unit]:
        """Lease up to ``limit`` pending (or ``stale``) units with keys above ``after``
        (and at most ``until``) that no live lease holds and are not in ``exclude``,
        lowest keys first; with ``first``, only those the stage reads before the others
        (``UnitTable.first``)."""
        rows = _rows(stage)
        excluded, params = listed("exclude", exclude) if exclude else ("", {})
        with self.transaction() as db:
            claimed = db.all(
                f"""UPDATE {rows.table} SET lease_worker = :worker,
                      lease_expires = {db.now_epoch} + :lease_seconds
                    WHERE {rows.key} IN (
                      SELECT u.{rows.key} FROM {rows.table} u
                      WHERE u.{rows.key} > :after AND {_wanted_checked(rows, stale, parser_version)}
                        AND (u.lease_expires IS NULL OR u.lease_expires < {db.now_epoch})
                        {f'AND u.{rows.key} NOT IN {excluded}' if exclude else ''}
                      {f'AND ({rows.first})' if first and rows.first else ''}
                        {f'AND u.{rows.key} <= :until' if until is not None else ''}
                      ORDER BY u.{rows.key} LIMIT :limit {db.skip_locked})
                    RETURNING {rows.key}""",
                _versioned({"worker": worker, "lease_seconds": lease_seconds, "after": after,
                            "max_attempts": max_attempts, "limit": limit, "until": until, **params},
                           parser_version),
            )
            return self._units(db, rows, sorted(row[rows.key] for row in claimed))

    def claim_named(self, stage: StoredStage, ids: list[int], *, worker: str, lease_seconds: float) -> list[Unit]:
        """Lease exactly these units, pending or not; unknown ids raise KeyError."""
        rows = _rows(stage)
        with self.transaction() as db:
            units = {unit.id: unit for unit in self._units(db, rows, ids)}
            missing = [unit_id for unit_id in ids if unit_id not in units]
            if missing:
                raise KeyError(missing)
            self._set_lease(db, rows, ids, worker=worker, lease_seconds=lease_seconds)
        return [units[unit_id] for unit_id in ids]

    def renew(self, stage: StoredStage, ids: Iterable[int], *, worker: str, lease_seconds: float) -> None:
        """Extend this worker's leases on ``ids`` (units still in flight)."""
        ids, rows = list(ids), stage.rows
        if rows is not None and ids:
            with self.transaction() as db:
                self._set_lease(db, rows, ids, worker=worker, lease_seconds=lease_seconds, own=True)

    def release(self, stage: StoredStage, unit_id: int, *, worker: str) -> None:
        """Give a unit back untouched (a fetch failure): no attempt is counted."""
        if stage.rows is not None:
            with self.transaction() as db:
                _clear_lease(db, stage.rows, unit_id, worker)

    def release_all(self, stage: StoredStage, *, worker: str, keep: Sequence[int] = ()) -> None:
        """Give back every unit this worker still holds (its crawl is ending, or a crash
        left them held), but those in ``keep``."""
        rows = stage.rows
        if rows is None:
            return
        kept, params = listed("keep", keep) if keep else ("", {})
        with self.transaction() as db:
            db.run(
                f"UPDATE {rows.table} SET lease_worker = NULL, lease_expires = NULL "
                f"WHERE lease_worker = :worker{f' AND {rows.key} NOT IN {kept}' if keep else ''}",
                {"worker": worker, **params},
            )

    def refund_attempts(self, stage: StoredStage, ids: list[int]) -> None:
        """Take back one counted attempt of each unit (its failure was not its fault)."""
        rows = stage.rows
        if rows is None or not ids:
            return
        among, params = listed("id", ids)
        with self.transaction() as db:
            db.run(
                f"UPDATE {rows.table} SET {rows.attempts} = {rows.attempts} - 1 "
                f"WHERE {rows.attempts} > 0 AND {rows.key} IN {among}",
                params,
            )

    def foreign_lease_wait(
        self, stage: StoredStage, *, worker: str, max_attempts: int,
        parser_version: str | None = None, stale: bool = False,
    ) -> float | None:
        """Seconds until the first lease another worker holds on a pending (or stale)
        unit expires (0 when one has expired already: it may be claimed now); None when
        there is none, so nothing may come back to claim."""
        rows = _rows(stage)
        seconds = self.sql.value(
            f"""SELECT min(u.lease_expires) - {self.sql.now_epoch} FROM {rows.table} u
                WHERE {_wanted_checked(rows, stale, parser_version)} AND u.lease_worker <> :worker""",
            _versioned({"worker": worker, "max_attempts": max_attempts}, parser_version),
        )
        return None if seconds is None else max(float(seconds), 0.0)

    def stored(self, stage: StoredStage, ids: Iterable[int]) -> set[int]:
        """Which of these units the stage has stored."""
        rows, ids = _rows(stage), list(ids)
        if not ids:
            return set()
        among, params = listed("id", ids)
        found = self.sql.all(
            f"SELECT {rows.key} AS unit_id FROM {rows.table} WHERE {rows.key} IN {among} AND {rows.done} IS NOT NULL",
            params,
        )
        return {row["unit_id"] for row in found}

    def known_match_ids(self, ids: list[int]) -> set[int]:
        return known_match_ids(self.sql, ids)

    # -- writes ---------------------------------------------------------------------

    def save(
        self,
        stage: StoredStage,
        unit_id: int,
        bundle: object,
        *,
        parser_version: str,
        worker: str | None = None,
        overwrite: bool = True,
        check: Check | None = None,
        stats_wait: Sequence[float] | None = None,
    ) -> SaveResult:
        """Validate and write one unit's parsed pages in one transaction.

        ``bundle`` is an instance of ``stage.bundle``. ``check(bundle, rows)`` is
        the stage's validation (its declaration's ``check``): the
        writer calls it inside the transaction with the rows it read there, and a
        ValidationError it raises writes nothing. Without one the caller vouches for
        the pages (a writer that needs one says so).

        Without ``overwrite``, a unit the stage already stored (another crawl got there
        first) is left as it is and AlreadyStored raised; so is one another live crawl
        holds the lease of.

        A unit the stage stored before, read again from the site (its row's
        ``fetch_anew``), has what changed recorded in ``corrections`` in the same
        transaction; its ask for a re-read (``rereads``) is answered. For the match
        stage, ``stats_wait`` (HLTV_STATS_WAIT, in seconds) schedules the match's next
        read while its maps wait for their stats links; None schedules nothing.
        """
        bundle = _bundle(stage, bundle)
        rows = stage.rows
        with self.transaction(page=stage.page_names[0]) as db:
            now = utc_now()  # once the write lock is ours: see ExportResult.next_changed_since
            key, read = None, {}
            if rows is not None:
                key, rows_read = _unit_and_reads(db, rows, unit_id, lock=True, reads=rows.reads)
                read = {"read": rows_read} if rows.reads else {}
                if key is None and not rows.made_by_writer:
                    raise ValidationError(stage.page_names[0], f"{rows.key} {unit_id} is not in the database")
                taken = key is not None and worker is not None and _leased_by_another(db, key, worker)
                # a unit read again on purpose is stored already: that is the point
                reread = key is not None and key[rows.done] is not None and bool(key.get("fetch_anew"))
                if key is not None and (taken or (not overwrite and key[rows.done] is not None and not reread)):
                    _clear_lease(db, rows, unit_id, worker)
                    result = None
                else:
                    # the version it was stored with, and (for a crawl) its lease given
                    # back, in the writer's own UPDATE of the unit's row
                    lease = _OWN_LEASE_CLEARED if worker is not None else ""
                    stamp = Stamp(f", {rows.version} = :stamp_version{lease}",
                                  {"stamp_version": parser_version, "stamp_worker": worker})

                    def write() -> SaveResult:
                        return stage.write(db, key, bundle, now=now, parser_version=parser_version,
                                           check=check, stamp=stamp, **read)

                    if key is not None and rows.corrected:  # what a re-read changed is recorded
                        result = _corrections.written(db, stage.name, rows, unit_id, key, write, reread=reread,
                                                      now=now, parser_version=parser_version)
                    else:
                        result = write()
                    if rows.waits_for_stats and stats_wait is not None:
                        _stats_wait.schedule(db, unit_id, stats_wait, now=now)
            else:
                result = stage.write(db, key, bundle, now=now, parser_version=parser_version,
                                     check=check, stamp=Stamp())
        if result is None:
            raise AlreadyStored(unit_id)
        return result

    def record_failure(
        self,
        stage: StoredStage,
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
        rows = stage.rows
        with self.transaction() as db:
            now = utc_now()
            key = _unit_row(db, rows, unit_id, lock=True) if rows is not None else None
            if key is not None and worker is not None and _leased_by_another(db, key, worker):
                return False
            if rows is not None and key is not None:
                attempts, counted_under = rows.attempts, rows.attempts_version
                db.run(
                    f"""UPDATE {rows.table} SET
                          {attempts} = CASE WHEN {counted_under} IS NULL OR {counted_under} = :version
                                       THEN {attempts} + 1 ELSE 1 END,
                          {counted_under} = :version, updated_at = :now
                        WHERE {rows.key} = :id""",
                    {"now": now, "id": unit_id, "version": parser_version},
                )
                _clear_lease(db, rows, unit_id, worker)
            db.many(
                "INSERT INTO failures (stage, unit_id, mapstatsid, match_id, map_number, page, "
                "reason, url, parser_version, failed_at) VALUES (:stage, :unit_id, :mapstatsid, "
                ":match_id, :map_number, :page, :reason, :url, :version, :now)",
                [
                    {
                        "stage": stage.name, "unit_id": unit_id,
                        # where the unit has them, the match and map it is of
                        **{column: (key or {}).get(column) for column in _FAILURE_UNIT_COLUMNS},
                        "page": page, "reason": reason, "url": url,
                        "version": parser_version, "now": now,
                    }
                    for page, reason, url in failures
                ],
            )
        return True

    def requeue(
        self,
        stage: StoredStage,
        *,
        reason: str | None = None,
        unit_ids: list[int] | None = None,
        match_ids: list[int] | None = None,
    ) -> list[int]:
        """Give the stage's failed units their attempts back, in one transaction: those
        whose latest failure's reason contains ``reason``, of these units or matches.
        Returns the keys of the units reset; ids not in the database raise KeyError
        ``(column, [ids])`` and nothing changes."""
        if stage.rows is None:
            raise ValueError(f"the {stage.name} stage has no units to requeue")
        with self.transaction() as db:
            return requeue(db, stage.name, stage.rows, reason=reason, unit_ids=unit_ids, match_ids=match_ids)

    def refresh(
        self,
        stages: Sequence[StoredStage],
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        rating_version: str | None = None,
        mapstatsids: Sequence[int] = (),
    ) -> dict[str, int]:
        """Make the stages' stored units due for a re-read, fetched anew, in one
        transaction: those of matches played at or after ``since_ms`` and before
        ``until_ms`` (maps by their match's date), of maps whose rating is of
        ``rating_version``, or of these maps (every condition given holds). No data
        changes until each re-read commits. Returns the units asked for, by stage;
        mapstatsids not in the database raise KeyError ``("mapstatsid", [ids])``."""
        if mapstatsids:
            among, params = listed("id", list(mapstatsids))
            known = {row["mapstatsid"] for row in self.sql.all(
                f"SELECT mapstatsid FROM maps WHERE mapstatsid IN {among}", params)}
            missing = [unit_id for unit_id in mapstatsids if unit_id not in known]
            if missing:
                raise KeyError("mapstatsid", missing)
        with self.transaction() as db:
            now = utc_now()
            return {
                stage.name: _refresh.refresh(db, stage.name, _rows(stage), since_ms=since_ms, until_ms=until_ms,
                                             rating_version=rating_version, mapstatsids=mapstatsids, now=now)
                for stage in stages
            }

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

    def summary(self, stages: Iterable[StoredStage]) -> dict[str, int]:
        """Counts a person checks after a run: how far each stage's units got, what
        it stored (``stages`` in the order a collection runs them), what failed and
        what is to be read again."""
        one = self.sql.value
        counts = {label: one(query) for stage in stages for label, query in stage.counts}
        return {
            **counts,
            "failures recorded": one("SELECT count(*) FROM failures"),
            "units due for a re-read": one("SELECT count(*) FROM rereads"),
            "corrections recorded": one("SELECT count(*) FROM corrections"),
        }

    def next_stats_due(self) -> float | None:
        """When the next match waiting for its maps' stats links is due again (seconds
        since the epoch); None when none waits."""
        return self.sql.value("SELECT min(stats_due_at) FROM matches WHERE stats_due_at IS NOT NULL")

    def pending_counts(
        self, stages: Iterable[StoredStage], *, max_attempts: int, parser_version: str | None = None
    ) -> dict[str, int]:
        """Units each tracked stage still has to do, counted in one statement (the
        progress line asks during a crawl). Each count keeps its own WHERE: PostgreSQL
        turns its EXISTS into a join there, not into a probe per row."""
        tracked = [(stage.name, stage.rows) for stage in stages if stage.rows is not None]
        if not tracked:
            return {}
        counts = ", ".join(
            f"(SELECT count(*) FROM {rows.table} u WHERE {_wanted(rows, False)}) AS {name}"
            for name, rows in tracked
        )
        row = self.sql.one(f"SELECT {counts}", _versioned({"max_attempts": max_attempts}, parser_version))
        return {name: int(row[name]) for name, _ in tracked}

    def leases(self, stages: Iterable[StoredStage]) -> list[Row]:
        """Live leases by worker: ``worker, units_of`` (the unit table), ``units,
        expires_in`` (seconds), over the unit tables of ``stages``."""
        now = self.sql.now_epoch
        tables = dict.fromkeys(stage.rows.table for stage in stages if stage.rows is not None)
        if not tables:
            return []
        return self.sql.all(
            " UNION ALL ".join(
                f"SELECT lease_worker AS worker, '{table}' AS units_of, count(*) AS units, "
                f"max(lease_expires) - {now} AS expires_in "
                f"FROM {table} WHERE lease_expires >= {now} GROUP BY lease_worker"
                for table in tables
            )
            + " ORDER BY 1, 2"
        )

    def free_leases(self, stages: Iterable[StoredStage], *, of: Callable[[str], bool]) -> list[Row]:
        """Free the live leases over the unit tables of ``stages`` that workers ``of``
        picks hold (crawls that are gone); the rows of :meth:`leases` freed."""
        by_table = {stage.rows.table: stage for stage in stages if stage.rows is not None}
        held = [row for row in self.leases(by_table.values()) if of(str(row["worker"]))]
        for row in held:
            self.release_all(by_table[row["units_of"]], worker=str(row["worker"]))
        return held

    def stored_versions(self, stages: Iterable[StoredStage]) -> dict[str, dict[str | None, int]]:
        """Per tracked stage, how many units each parser version stored (None: not recorded)."""
        return {
            stage.name: {
                row["version"]: row["units"]
                for row in self.sql.all(
                    f"SELECT {rows.version} AS version, count(*) AS units FROM {rows.table} "
                    f"WHERE {rows.done} IS NOT NULL GROUP BY {rows.version} ORDER BY 2 DESC, 1"
                )
            }
            for stage in stages
            if (rows := stage.rows) is not None
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

        On PostgreSQL the statements go out pipelined (``_sql.pipelined``): the client
        waits only where it reads a result, and for the commit. A statement's error may
        then surface at a later read or at the commit, and is handled the same.

        A row the schema refuses (a constraint, a number too large for a 64-bit
        integer) surfaces as :class:`ValidationError` naming ``page``: the page did not
        say what we believed.
        """
        committing = False
        stack = self._begin()
        try:
            with stack:
                yield self.sql
                committing = True
                commit(self.connection)
        except BaseException as exc:
            # A COMMIT that fails (disk full, I/O error, a deferred constraint) may
            # leave the transaction open too: roll it back, or the next commit would
            # write this half.
            if in_transaction(self.connection):
                rollback(self.connection)
            if committing and self.dialect != POSTGRESQL:
                raise  # the COMMIT's own failure (pipelined, a statement's may surface there)
            if isinstance(exc, IntegrityError):
                raise ValidationError(page, f"the database refused a row: {exc.orig}") from exc
            if isinstance(exc, DataError) or (
                isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)
            ):
                raise ValidationError(page, f"a number too large to store: {exc.orig}") from exc
            if isinstance(exc, OverflowError):
                raise ValidationError(page, f"a number too large to store: {exc}") from exc
            raise

    def _begin(self) -> contextlib.ExitStack:
        """``BEGIN``, in a pipeline on PostgreSQL. Nothing of the transaction has happened
        yet: a connection found dropped here is opened again once, and begun there."""
        for again in (False, True):
            stack = contextlib.ExitStack()
            try:
                stack.enter_context(pipelined(self.connection))
                begin(self.connection)
            except DBAPIError:
                with contextlib.suppress(Exception):
                    stack.close()
                if again or not self.reopen_if_lost():
                    raise
            else:
                return stack
        raise AssertionError("unreachable")

    def _units(self, db: Sql, rows: UnitTable, ids: list[int]) -> list[Unit]:
        if not ids:
            return []
        among, params = listed("id", ids)
        rows = db.all(f"{rows.select} WHERE u.{rows.key} IN {among} ORDER BY u.{rows.key}", params)
        return [_unit(row) for row in rows]

    @staticmethod
    def _set_lease(
        db: Sql, rows: UnitTable, ids: list[int], *, worker: str, lease_seconds: float, own: bool = False
    ) -> None:
        among, params = listed("id", ids)
        db.run(
            f"UPDATE {rows.table} SET lease_worker = :worker, "
            f"lease_expires = {db.now_epoch} + :lease_seconds "
            f"WHERE {rows.key} IN {among}"
            + (" AND lease_worker = :worker" if own else ""),
            {"worker": worker, "lease_seconds": lease_seconds, **params},
        )


#: The failures table's columns saying which match and map a failed unit is of.
_FAILURE_UNIT_COLUMNS = ("mapstatsid", "match_id", "map_number")
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
            f"cannot open the database {shown}: it is a folder; HLTV_DB_PATH names the SQLite database file "
            f"in it (e.g. {path / 'hltv.sqlite3'})"
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


def _rows(stage: StoredStage) -> UnitTable:
    """The stage's unit rows; a stage whose units are walked, not stored, has none."""
    if stage.rows is None:
        raise ValueError(f"the {stage.name} stage has no units in the database")
    return stage.rows


def _bundle(stage: StoredStage, pages: object) -> object:
    if isinstance(pages, stage.bundle):
        return pages
    raise TypeError(f"the {stage.name} stage takes a {stage.bundle.__name__}, not {type(pages).__name__}")


def _pending(rows: UnitTable) -> str:
    """The stage's pending condition, attempts included (``:max_attempts``, ``:parser_version``)."""
    return f"({rows.pending}) AND {rows.attempts_left()}"


def _stale(rows: UnitTable) -> str:
    """Stored by the stage with another parser version than ``:parser_version`` (or
    with none recorded), attempts left under this one."""
    return (
        f"u.{rows.done} IS NOT NULL AND (u.{rows.version} IS NULL "
        f"OR u.{rows.version} <> :parser_version) AND {rows.attempts_left()}"
    )


def _wanted(rows: UnitTable, stale: bool) -> str:
    return _stale(rows) if stale else _pending(rows)


def _versioned(params: dict[str, Any], parser_version: str | None) -> dict[str, Any]:
    """``params`` with ``:parser_version``. Storage knows no parser version of its own:
    the caller passes it. Without one, attempts count whatever version they were
    counted under (SQL's ``<> NULL`` is never true)."""
    return {**params, "parser_version": parser_version, "now_epoch": time.time()}


def _wanted_checked(rows: UnitTable, stale: bool, parser_version: str | None) -> str:
    if stale and parser_version is None:
        raise TypeError("stale units are those stored by another parser version: pass parser_version")
    return _wanted(rows, stale)


def _unit(row: Row) -> Unit:
    return Unit(
        id=row["unit_id"], slug=row.get("slug") or None, team_names=(row.get("team1_name"), row.get("team2_name")),
        fetch_anew=bool(row.get("fetch_anew")),
    )


def _unit_row(db: Sql, rows: UnitTable, unit_id: int, *, lock: bool = False) -> Row | None:
    """The unit's row; with ``lock``, locked until the transaction ends (PostgreSQL), so
    the lease and the done mark a write decides on stay as read: a crawl whose lease
    lapsed and was taken over waits here, then sees the other crawl's lease."""
    return _unit_and_reads(db, rows, unit_id, lock=lock, reads=())[0]


def _unit_and_reads(
    db: Sql, rows: UnitTable, unit_id: int, *, lock: bool, reads: Sequence[str],
) -> tuple[Row | None, list[list[Row]]]:
    """The unit's row (:func:`_unit_row`) and the rows of each of ``reads`` (by ``:id``),
    sent together: on PostgreSQL one round trip, the reads run once the lock is ours."""
    lock_clause = f" {db.for_update}" if lock and db.for_update else ""
    params = {"id": unit_id}
    unit, *read = db.all_of(
        (f"{rows.select} WHERE u.{rows.key} = :id{lock_clause}", params), *((query, params) for query in reads)
    )
    return (unit[0] if unit else None), read


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


def _clear_lease(db: Sql, rows: UnitTable, unit_id: int, worker: str | None) -> None:
    if worker is None:
        return
    db.run(
        f"UPDATE {rows.table} SET lease_worker = NULL, lease_expires = NULL "
        f"WHERE {rows.key} = :id AND lease_worker = :worker",
        {"id": unit_id, "worker": worker},
    )


def _insert_match(db: Sql, match_id: int, slug: str | None, now: str) -> None:
    db.run(
        "INSERT INTO matches (match_id, slug, scraped_at, updated_at) VALUES (:match_id, :slug, :now, :now) "
        "ON CONFLICT (match_id) DO NOTHING",
        {"match_id": match_id, "slug": slug, "now": now},
    )

