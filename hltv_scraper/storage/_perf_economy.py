"""Writing one map's performance and economy pages.

Runs inside the caller's transaction. The pages are first checked against the stored
scoreboard and round history (:mod:`._crosscheck`). Only the performance columns of
player_stats are set; the scoreboard the map stats stage stored stays exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from hltv_scraper.storage._crosscheck import Scoreboard, check_performance, economy_team_order
from hltv_scraper.storage._errors import SaveResult, ValidationError
from hltv_scraper.storage._teams import (
    TeamResolutionError,
    normalise_name,
    resolve_team_ids,
    team_ids_by_column,
)

if TYPE_CHECKING:

    from hltv_scraper.items import EconomyPage, PerformancePage
    from hltv_scraper.storage._sql import Row, Sql


def write_perf_economy(
    db: Sql, key: Row, pages: dict, *, now: str, parser_version: str
) -> SaveResult:
    performance: PerformancePage = pages["performance"]
    economy: EconomyPage = pages["economy"]
    map_id = {"match_id": key["match_id"], "map_number": key["map_number"]}
    where = "WHERE match_id = :match_id AND map_number = :map_number"
    scoreboard = _stored_scoreboard(db, key, map_id)
    _check_players(performance, scoreboard.team_of)
    match_teams = {
        normalise_name(name): team_id
        for name, team_id in ((key["team1_name"], key["team1_id"]), (key["team2_name"], key["team2_id"]))
        if name and team_id
    }
    column_teams = _column_teams(performance, scoreboard.team_of)
    check_performance(performance, scoreboard, column_teams=column_teams, match_teams=match_teams)
    team_ids, swapped = economy_team_order(
        economy,
        _resolve_economy_teams(economy, match_teams, column_teams, scoreboard.team_of),
        scoreboard.round_winners,
    )
    rounds = set(scoreboard.round_winners)
    db.many(
        "UPDATE player_stats SET kpr = :kpr, dpr = :dpr, impact = :impact, "
        f"mk_rating = :mk_rating, updated_at = :now {where} AND player_id = :player_id",
        [
            {"kpr": p.kpr, "dpr": p.dpr, "impact": p.impact, "mk_rating": p.mk_rating,
             "now": now, "player_id": p.player_id, **map_id}
            for p in performance.players
        ],
    )

    economy_rows, skipped = [], set()
    provenance = {"now": now, "version": parser_version}
    for entry in economy.rounds:
        if entry.round_number not in rounds:
            skipped.add(entry.round_number)
            continue
        economy_rows.append({
            **map_id, "round_number": entry.round_number, "team_id": team_ids[entry.team_name],
            "equipment_value": entry.equipment_value, "buy_type": entry.buy_type,
            "side": entry.side, "won": int(bool(entry.won)), "url": economy.url, **provenance,
        })
    db.run(f"DELETE FROM economy {where}", map_id)
    db.many(
        "INSERT INTO economy (match_id, map_number, round_number, team_id, "
        "equipment_value, buy_type, side, won, scraped_at, updated_at, source_url, "
        "parser_version) VALUES (:match_id, :map_number, :round_number, :team_id, "
        ":equipment_value, :buy_type, :side, :won, :now, :now, :url, :version)",
        economy_rows,
    )

    db.run(f"DELETE FROM kill_matrix {where}", map_id)
    db.many(
        "INSERT INTO kill_matrix (match_id, map_number, matrix_type, player1_id, "
        "player2_id, player1_kills, player2_kills, scraped_at, updated_at, "
        "source_url, parser_version) VALUES (:match_id, :map_number, :matrix_type, "
        ":player1_id, :player2_id, :player1_kills, :player2_kills, :now, :now, :url, :version)",
        [
            {**map_id, "matrix_type": cell.matrix_type, "player1_id": cell.player1_id,
             "player2_id": cell.player2_id, "player1_kills": cell.player1_kills,
             "player2_kills": cell.player2_kills, "url": performance.url, **provenance}
            for cell in performance.kill_matrix
        ],
    )
    db.run(f"UPDATE maps SET perf_economy_at = :now, updated_at = :now {where}", {"now": now, **map_id})
    return SaveResult(
        rows={
            "player_stats": len(performance.players),
            "economy": len(economy_rows),
            "kill_matrix": len(performance.kill_matrix),
        },
        skipped_economy_rounds=sorted(skipped),
        counts={"economy_series_swapped": 1} if swapped else {},
        notes=[
            f"the economy chart's series {economy.team_names} fit the round history only "
            "the other way round: stored in that order"
        ] if swapped else [],
    )


def forget_perf_economy(db: Sql, map_id: dict[str, int]) -> None:
    """Take back everything this stage stored of a map: it is pending for it again."""
    where = "WHERE match_id = :match_id AND map_number = :map_number"
    db.run(f"DELETE FROM economy {where}", map_id)
    db.run(f"DELETE FROM kill_matrix {where}", map_id)
    db.run(f"UPDATE player_stats SET kpr = NULL, dpr = NULL, impact = NULL, mk_rating = NULL {where}", map_id)
    db.run(f"UPDATE maps SET perf_economy_at = NULL, perf_economy_version = NULL {where}", map_id)


def _stored_scoreboard(db: Sql, key: Row, map_id: dict[str, int]) -> Scoreboard:
    """What the map stats stage stored of the map that the pages show again (the map's
    score is in its unit row)."""
    where = "WHERE match_id = :match_id AND map_number = :map_number"
    players = db.all(f"SELECT player_id, team_id, kills FROM player_stats {where}", map_id)
    history = db.all(f"SELECT round_number, winner_team_id, winner_side FROM round_history {where}", map_id)
    played = None
    if key["team1_rounds"] is not None and key["team2_rounds"] is not None:
        played = key["team1_rounds"] + key["team2_rounds"]
    return Scoreboard(
        team_of={row["player_id"]: row["team_id"] for row in players},
        kills={row["player_id"]: row["kills"] for row in players},
        rounds=played or len(history) or None,
        round_winners={row["round_number"]: (row["winner_team_id"], row["winner_side"]) for row in history},
    )


def _check_players(performance: PerformancePage, stored_team_of: Mapping[int, int]) -> None:
    page_ids = {p.player_id for p in performance.players}
    if not stored_team_of:
        raise ValidationError("performance", "the map has no stored scoreboard")
    if page_ids != set(stored_team_of):
        raise ValidationError(
            "performance",
            f"performance vs mapstats: players {sorted(page_ids - set(stored_team_of))} are "
            f"not on the scoreboard, {sorted(set(stored_team_of) - page_ids)} are missing "
            "(the page of another map?)",
        )
    matrix_ids = {c.player1_id for c in performance.kill_matrix} | {
        c.player2_id for c in performance.kill_matrix
    }
    if not matrix_ids <= page_ids:
        raise ValidationError(
            "performance", f"kill matrix players {sorted(matrix_ids - page_ids)} are not on the map"
        )


def _column_teams(performance: PerformancePage, stored_team_of: Mapping[int, int]) -> dict[str, int]:
    """Normalised team name -> team id, by the players the page lists under each name."""
    columns: dict[str, list[int]] = {}
    for player in performance.players:
        columns.setdefault(player.team_name or "", []).append(player.player_id)
    try:
        return team_ids_by_column(columns, stored_team_of)
    except TeamResolutionError as exc:
        raise ValidationError("performance", f"performance vs mapstats: {exc}") from None


def _resolve_economy_teams(
    economy: EconomyPage,
    match_teams: Mapping[str, int],
    column_teams: Mapping[str, int],
    stored_team_of: Mapping[int, int],
) -> dict[str, int]:
    """Each series name -> its team id, by name (the round winners check the order next)."""
    try:
        return resolve_team_ids(
            economy.team_names,
            match_teams=match_teams,
            column_teams=column_teams,
            valid_ids=set(stored_team_of.values()),
        )
    except TeamResolutionError as exc:
        raise ValidationError("economy", f"economy vs mapstats: {exc}") from None


