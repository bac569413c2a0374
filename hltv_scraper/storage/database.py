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
from typing import TYPE_CHECKING, Any

from hltv_scraper.site import slugify
from hltv_scraper.storage._schema import connect, migrate
from hltv_scraper.storage._teams import (
    TeamResolutionError,
    normalise_name,
    resolve_team_ids,
    team_ids_by_column,
)

if TYPE_CHECKING:
    from hltv_scraper.items import EconomyPage, PerformancePage

#: Stage names: which spider a map's attempt count and failure records belong to.
PERF_ECONOMY = "perf_economy"
MAP_STATS = "map_stats"
_ATTEMPTS_COLUMN = {PERF_ECONOMY: "perf_attempts", MAP_STATS: "mapstats_attempts"}
_PENDING_BATCH = 200


class ValidationError(ValueError):
    """The parsed pages contradict the database (or each other): the map is not written."""

    def __init__(self, page: str, reason: str) -> None:
        super().__init__(f"{page}: {reason}")
        self.page = page
        self.reason = reason


@dataclass(frozen=True)
class MapKey:
    match_id: int
    map_number: int
    mapstatsid: int
    slug: str = "x"


@dataclass
class SaveResult:
    """What a successful save wrote, for the crawl stats."""

    rows: dict[str, int]
    skipped_economy_rounds: list[int]


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
        self, stage: str, mapstatsid: int, pages: dict[str, Any], *, parser_version: str
    ) -> SaveResult:
        """Write one map's parsed pages for ``stage`` (see the ``save_*`` methods)."""
        if stage == PERF_ECONOMY:
            return self.save_perf_economy(
                mapstatsid, pages["performance"], pages["economy"], parser_version=parser_version
            )
        raise ValueError(f"unknown stage {stage!r}")


    def save_perf_economy(
        self,
        mapstatsid: int,
        performance: PerformancePage,
        economy: EconomyPage,
        *,
        parser_version: str,
    ) -> SaveResult:
        """Validate and write one map's performance and economy halves in one transaction."""
        now = utc_now()
        with self._transaction() as db:
            key = db.execute(_MAP_KEY_SELECT + " WHERE maps.mapstatsid = ?", (mapstatsid,)).fetchone()
            if key is None:
                raise ValidationError("performance", f"mapstatsid {mapstatsid} is not in the database")
            map_id = (key["match_id"], key["map_number"])
            stored_team_of = dict(
                db.execute(
                    "SELECT player_id, team_id FROM player_stats "
                    "WHERE match_id = ? AND map_number = ?",
                    map_id,
                ).fetchall()
            )
            _check_players(performance, stored_team_of)
            team_ids = _resolve_economy_teams(db, key, performance, economy, stored_team_of)
            rounds = {
                row[0]
                for row in db.execute(
                    "SELECT round_number FROM round_history WHERE match_id = ? AND map_number = ?",
                    map_id,
                )
            }
            db.executemany(
                "UPDATE player_stats SET kpr = ?, dpr = ?, impact = ?, mk_rating = ?, "
                "updated_at = ? WHERE match_id = ? AND map_number = ? AND player_id = ?",
                [
                    (p.kpr, p.dpr, p.impact, p.mk_rating, now, *map_id, p.player_id)
                    for p in performance.players
                ],
            )

            economy_rows, skipped = [], set()
            for entry in economy.rounds:
                if entry.round_number not in rounds:
                    skipped.add(entry.round_number)
                    continue
                economy_rows.append(
                    (
                        *map_id,
                        entry.round_number,
                        team_ids[entry.team_name],
                        entry.equipment_value,
                        entry.buy_type,
                        entry.side,
                        int(bool(entry.won)),
                        now,
                        now,
                        economy.url,
                        parser_version,
                    )
                )
            db.execute("DELETE FROM economy WHERE match_id = ? AND map_number = ?", map_id)
            db.executemany(
                "INSERT INTO economy (match_id, map_number, round_number, team_id, "
                "equipment_value, buy_type, side, won, scraped_at, updated_at, source_url, "
                "parser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                economy_rows,
            )

            db.execute("DELETE FROM kill_matrix WHERE match_id = ? AND map_number = ?", map_id)
            db.executemany(
                "INSERT INTO kill_matrix (match_id, map_number, matrix_type, player1_id, "
                "player2_id, player1_kills, player2_kills, scraped_at, updated_at, "
                "source_url, parser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        *map_id,
                        cell.matrix_type,
                        cell.player1_id,
                        cell.player2_id,
                        cell.player1_kills,
                        cell.player2_kills,
                        now,
                        now,
                        performance.url,
                        parser_version,
                    )
                    for cell in performance.kill_matrix
                ],
            )
            db.execute(
                "UPDATE maps SET perf_economy_at = ?, updated_at = ? "
                "WHERE match_id = ? AND map_number = ?",
                (now, now, *map_id),
            )
        return SaveResult(
            rows={
                "player_stats": len(performance.players),
                "economy": len(economy_rows),
                "kill_matrix": len(performance.kill_matrix),
            },
            skipped_economy_rounds=sorted(skipped),
        )

    # -- plumbing -------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self.connection)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception.

    Constraint violations surface as :class:`ValidationError`: a row the schema refuses
    is a page that did not say what we believed.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc_type is None:
            self.connection.execute("COMMIT")
            return
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            raise ValidationError("map", f"the database refused a row: {exc}") from exc


def _check_players(performance: PerformancePage, stored_team_of: dict[int, int]) -> None:
    page_ids = {p.player_id for p in performance.players}
    if not stored_team_of:
        raise ValidationError("performance", "the map has no stored scoreboard")
    if page_ids != set(stored_team_of):
        raise ValidationError(
            "performance",
            f"players {sorted(page_ids - set(stored_team_of))} are not on the stored "
            f"scoreboard, {sorted(set(stored_team_of) - page_ids)} are missing",
        )
    matrix_ids = {c.player1_id for c in performance.kill_matrix} | {
        c.player2_id for c in performance.kill_matrix
    }
    if not matrix_ids <= page_ids:
        raise ValidationError(
            "performance", f"kill matrix players {sorted(matrix_ids - page_ids)} are not on the map"
        )


def _resolve_economy_teams(
    db: sqlite3.Connection,
    key: sqlite3.Row,
    performance: PerformancePage,
    economy: EconomyPage,
    stored_team_of: dict[int, int],
) -> dict[str, int]:
    match_teams = {
        normalise_name(name): team_id
        for name, team_id in ((key["team1_name"], key["team1_id"]), (key["team2_name"], key["team2_id"]))
        if name and team_id
    }
    columns: dict[str, list[int]] = {}
    for player in performance.players:
        columns.setdefault(player.team_name or "", []).append(player.player_id)
    try:
        column_teams = team_ids_by_column(columns, stored_team_of)
        return resolve_team_ids(
            economy.team_names,
            match_teams=match_teams,
            column_teams=column_teams,
            valid_ids=set(stored_team_of.values()),
        )
    except TeamResolutionError as exc:
        raise ValidationError("economy", str(exc)) from None


def _map_key(row: sqlite3.Row) -> MapKey:
    return MapKey(
        match_id=row["match_id"],
        map_number=row["map_number"],
        mapstatsid=row["mapstatsid"],
        slug=slugify(row["team1_name"], row["team2_name"]),
    )


_MAP_KEY_SELECT = (
    "SELECT maps.match_id, maps.map_number, maps.mapstatsid, "
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
