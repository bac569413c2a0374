"""Writing one map's performance and economy pages.

Runs inside the caller's transaction. Only the performance columns of player_stats
are set; the scoreboard the map stats stage stored stays exactly as it was.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult, ValidationError
from hltv_scraper.storage._teams import (
    TeamResolutionError,
    normalise_name,
    resolve_team_ids,
    team_ids_by_column,
)

if TYPE_CHECKING:
    from hltv_scraper.items import EconomyPage, PerformancePage


def write_perf_economy(
    db: sqlite3.Connection,
    key: sqlite3.Row,
    performance: PerformancePage,
    economy: EconomyPage,
    *,
    now: str,
    parser_version: str,
) -> SaveResult:
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


