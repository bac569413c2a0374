"""The repository: every query the project runs, and the one-transaction map writes.

A map is written whole or not at all: each ``save_*`` method validates the parsed
pages against what the database already holds and writes everything in one
``BEGIN IMMEDIATE ... COMMIT``; any doubt raises :class:`ValidationError` and rolls
back, leaving the map exactly as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hltv_scraper.items import ECONOMY, MAPSTATS, PERFORMANCE
from hltv_scraper.site import slugify
from hltv_scraper.storage._schema import connect, migrate
from hltv_scraper.storage._errors import AlreadyStored, SaveResult, ValidationError
from hltv_scraper.storage._map_stats import write_map_stats
from hltv_scraper.storage._perf_economy import write_perf_economy


#: Stage names: which spider a map's attempt count and failure records belong to.
PERF_ECONOMY = "perf_economy"
MAP_STATS = "map_stats"
_ATTEMPTS_COLUMN = {PERF_ECONOMY: "perf_attempts", MAP_STATS: "mapstats_attempts"}
_DONE_COLUMN = {PERF_ECONOMY: "perf_economy_at", MAP_STATS: "mapstats_at"}
_PENDING_BATCH = 200


@dataclass(frozen=True)
class MapKey:
    match_id: int
    map_number: int
    mapstatsid: int
    slug: str = "x"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Database:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> Database:
        """Open (creating or migrating as needed) the database at ``path``."""
        connection = connect(path)
        migrate(connection)
        return cls(connection, Path(path))

    def close(self) -> None:
        self.connection.close()

    # -- reading --------------------------------------------------------------------

    def iter_pending(self, stage: str, *, max_attempts: int) -> Iterator[MapKey]:
        """Stream the maps the stage still has to do, by mapstatsid.

        Reads in small keyset-paged batches so no read transaction stays open across a
        long crawl and the pending list is never held whole.
        """
        query = _PENDING_QUERY[stage]
        after = -1
        while True:
            rows = self.connection.execute(
                query, {"after": after, "max_attempts": max_attempts, "batch": _PENDING_BATCH}
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _map_key(row)
            after = rows[-1]["mapstatsid"]

    def count_pending(self, stage: str, *, max_attempts: int) -> int:
        sql = f"SELECT count(*) FROM ({_PENDING_QUERY[stage]})"
        params = {"after": -1, "max_attempts": max_attempts, "batch": -1}
        return self.connection.execute(sql, params).fetchone()[0]

    def maps_by_mapstatsid(self, mapstatsids: list[int]) -> list[MapKey]:
        """The maps with these ids, in the order given; unknown ids raise KeyError."""
        found = {}
        for mapstatsid in mapstatsids:
            row = self.connection.execute(
                _MAP_KEY_SELECT + " WHERE maps.mapstatsid = ?", (mapstatsid,)
            ).fetchone()
            if row is not None:
                found[mapstatsid] = _map_key(row)
        missing = [m for m in mapstatsids if m not in found]
        if missing:
            raise KeyError(missing)
        return [found[m] for m in mapstatsids]

    def map_key(self, mapstatsid: int) -> MapKey | None:
        row = self.connection.execute(
            _MAP_KEY_SELECT + " WHERE maps.mapstatsid = ?", (mapstatsid,)
        ).fetchone()
        return _map_key(row) if row else None

    def summary(self) -> dict[str, int]:
        """Counts a person checks after a run: how far the maps got, what is stored."""
        one = lambda sql: self.connection.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "maps": one("SELECT count(*) FROM maps"),
            "maps with scoreboard": one("SELECT count(*) FROM maps WHERE mapstats_at IS NOT NULL"),
            "maps with performance and economy": one(
                "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL"
            ),
            "players with scoreboard": one("SELECT count(*) FROM player_stats"),
            "players with performance": one("SELECT count(*) FROM player_stats WHERE kpr IS NOT NULL"),
            "round history rows": one("SELECT count(*) FROM round_history"),
            "economy rows": one("SELECT count(*) FROM economy"),
            "kill matrix rows": one("SELECT count(*) FROM kill_matrix"),
            "failures recorded": one("SELECT count(*) FROM failures"),
        }

    def recent_failures(self, limit: int = 10) -> list[sqlite3.Row]:
        return self.connection.execute(
            "SELECT mapstatsid, stage, page, reason FROM failures "
            "ORDER BY failure_id DESC LIMIT ?",
            (limit,),
        ).fetchall()

    # -- telling the project which maps to collect ------------------------------------

    def add_maps(self, maps: list[tuple[int, int, int]]) -> tuple[int, int]:
        """Add ``(match_id, map_number, mapstatsid)`` maps in one transaction.

        Returns ``(added, already_known)``. A map that contradicts a stored one (the
        same mapstatsid elsewhere, or another mapstatsid in its place) raises
        ValueError and nothing is added.
        """
        now = utc_now()
        added = known = 0
        with self._transaction() as db:
            for match_id, map_number, mapstatsid in maps:
                stored = db.execute(
                    "SELECT match_id, map_number, mapstatsid FROM maps "
                    "WHERE mapstatsid = ? OR (match_id = ? AND map_number = ?)",
                    (mapstatsid, match_id, map_number),
                ).fetchall()
                if any(tuple(row) != (match_id, map_number, mapstatsid) for row in stored):
                    other = next(tuple(row) for row in stored if tuple(row) != (match_id, map_number, mapstatsid))
                    raise ValueError(
                        f"map {match_id}/{map_number} mapstatsid {mapstatsid} contradicts the "
                        f"stored map {other[0]}/{other[1]} mapstatsid {other[2]}"
                    )
                if stored:
                    known += 1
                    continue
                db.execute(
                    "INSERT OR IGNORE INTO matches (match_id, scraped_at, updated_at) VALUES (?, ?, ?)",
                    (match_id, now, now),
                )
                db.execute(
                    "INSERT INTO maps (match_id, map_number, mapstatsid, scraped_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (match_id, map_number, mapstatsid, now, now),
                )
                added += 1
        return added, known

    # -- failures -------------------------------------------------------------------

    def record_failure(
        self,
        mapstatsid: int,
        *,
        stage: str,
        failures: list[tuple[str, str, str | None]],
        parser_version: str,
    ) -> None:
        """One more failed attempt for the map, with a record per failed page
        (``(page, reason, url)``), in one transaction."""
        attempts = _ATTEMPTS_COLUMN[stage]
        now = utc_now()
        with self._transaction() as db:
            key = db.execute(
                "SELECT match_id, map_number FROM maps WHERE mapstatsid = ?", (mapstatsid,)
            ).fetchone()
            db.execute(
                f"UPDATE maps SET {attempts} = {attempts} + 1, updated_at = ? "
                "WHERE mapstatsid = ?",
                (now, mapstatsid),
            )
            db.executemany(
                "INSERT INTO failures (mapstatsid, match_id, map_number, stage, page, "
                "reason, url, parser_version, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        mapstatsid,
                        key["match_id"] if key else None,
                        key["map_number"] if key else None,
                        stage,
                        page,
                        reason,
                        url,
                        parser_version,
                        now,
                    )
                    for page, reason, url in failures
                ],
            )

    # -- map writes -----------------------------------------------------------------

    def save(
        self,
        stage: str,
        mapstatsid: int,
        pages: dict[str, Any],
        *,
        parser_version: str,
        overwrite: bool = True,
    ) -> SaveResult:
        """Validate and write one map's parsed pages for ``stage`` in one transaction.

        Without ``overwrite``, a map the stage already finished (another crawl on the
        same database got there first) is left as it is and AlreadyStored raised.
        """
        now = utc_now()
        with self._transaction() as db:
            key = db.execute(_MAP_KEY_SELECT + " WHERE maps.mapstatsid = ?", (mapstatsid,)).fetchone()
            if key is None:
                raise ValidationError(next(iter(pages)), f"mapstatsid {mapstatsid} is not in the database")
            if not overwrite and key[_DONE_COLUMN[stage]] is not None:
                raise AlreadyStored(mapstatsid)
            if stage == PERF_ECONOMY:
                return write_perf_economy(
                    db, key, pages[PERFORMANCE], pages[ECONOMY], now=now, parser_version=parser_version
                )
            if stage == MAP_STATS:
                return write_map_stats(db, key, pages[MAPSTATS], now=now, parser_version=parser_version)
            raise ValueError(f"unknown stage {stage!r}")


    # -- plumbing -------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self.connection)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception.

    Constraint violations and integers too large for SQLite surface as
    :class:`ValidationError`: a row the schema refuses is a page that did not say what
    we believed.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc_type is None:
            try:
                self.connection.execute("COMMIT")
            except BaseException:
                # A COMMIT that fails (disk full, I/O error) may leave the transaction
                # open: roll it back, or the next commit would write this half too.
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise
            return
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            raise ValidationError("map", f"the database refused a row: {exc}") from exc
        if isinstance(exc, OverflowError):  # beyond SQLite's 64-bit integers
            raise ValidationError("map", f"a number too large to store: {exc}") from exc


def _map_key(row: sqlite3.Row) -> MapKey:
    return MapKey(
        match_id=row["match_id"],
        map_number=row["map_number"],
        mapstatsid=row["mapstatsid"],
        slug=slugify(row["team1_name"], row["team2_name"]),
    )


_MAP_KEY_SELECT = (
    "SELECT maps.match_id, maps.map_number, maps.mapstatsid, "
    "maps.perf_economy_at, maps.mapstats_at, "
    "matches.team1_id, matches.team1_name, matches.team2_id, matches.team2_name "
    "FROM maps LEFT JOIN matches ON matches.match_id = maps.match_id"
)

_PENDING_QUERY = {
    # Scoreboard stored, performance/economy not yet, attempts left.
    PERF_ECONOMY: _MAP_KEY_SELECT
    + """
    WHERE maps.mapstatsid > :after
      AND maps.perf_economy_at IS NULL
      AND maps.perf_attempts < :max_attempts
      AND EXISTS (SELECT 1 FROM player_stats p
                  WHERE p.match_id = maps.match_id AND p.map_number = maps.map_number)
      AND NOT EXISTS (SELECT 1 FROM player_stats p
                      WHERE p.match_id = maps.match_id AND p.map_number = maps.map_number
                        AND p.kpr IS NOT NULL)
    ORDER BY maps.mapstatsid LIMIT :batch""",
    # A mapstatsid, no scoreboard yet, attempts left.
    MAP_STATS: _MAP_KEY_SELECT
    + """
    WHERE maps.mapstatsid > :after
      AND maps.mapstats_at IS NULL
      AND maps.mapstats_attempts < :max_attempts
      AND NOT EXISTS (SELECT 1 FROM player_stats p
                      WHERE p.match_id = maps.match_id AND p.map_number = maps.map_number)
    ORDER BY maps.mapstatsid LIMIT :batch""",
}
