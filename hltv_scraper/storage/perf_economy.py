"""Writing one map's performance and economy pages.

Runs inside the caller's transaction. The pages are checked against the stored
scoreboard and round history (:data:`READS`, read with the map's row) by the check the
caller passes (``hltv_scraper.validation.check_perf_economy``); it also says which team
each economy series is; if it refuses them, nothing written stays. Only the performance
columns of player_stats are set; the scoreboard the map stats stage stored stays exactly
as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult
from hltv_scraper.storage._maps import HAS_SCOREBOARD, map_select
from hltv_scraper.storage._rereads import asked_for, fetch_anew
from hltv_scraper.storage.stages import OF_MAP, CorrectedTable, ExportedTable, PerfEconomyRead, UnitTable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hltv_scraper.items import PerfEconomyPages, PerformancePage
    from hltv_scraper.storage._sql import Row, Sql, Stamp
    from hltv_scraper.storage.stages import Check


def write_perf_economy(
    db: Sql, key: Row, pages: PerfEconomyPages, *, now: str, parser_version: str,
    check: Check | None, stamp: Stamp, read: Sequence[list[Row]],
) -> SaveResult:
    if check is None:
        raise TypeError(
            "the perf_economy writer needs check= (hltv_scraper.validation): only it ties "
            "the economy chart's series to teams"
        )
    performance, economy = pages.performance, pages.economy
    map_id = {"match_id": key["match_id"], "map_number": key["map_number"]}
    where = "WHERE match_id = :match_id AND map_number = :map_number"
    history, players = read  # READS, read with the map's row
    provenance = {"scraped_at": now, "updated_at": now, "parser_version": parser_version}
    read_back = PerfEconomyRead(unit=key, players=players, rounds=history)
    # What the performance page says needs nothing read: written before the check, the
    # server writes it while the client checks (PostgreSQL's pipeline does not wait for
    # it). A refused check rolls it back with the rest, and is what is said when a row
    # is refused too (SQLite refuses one at once, PostgreSQL at the commit).
    try:
        _write_performance(db, performance, map_id, provenance)
    except Exception:
        check(pages, read_back)
        raise
    teams = check(pages, read_back)
    team_ids, swapped = teams.team_ids, teams.swapped
    rounds = {row["round_number"] for row in history}
    economy_rows, skipped = [], set()
    for entry in economy.rounds:
        if entry.round_number not in rounds:
            skipped.add(entry.round_number)
            continue
        economy_rows.append({
            "round_number": entry.round_number, "team_id": team_ids[entry.team_name],
            "equipment_value": entry.equipment_value, "buy_type": entry.buy_type,
            "side": entry.side, "won": int(bool(entry.won)),
        })
    db.run(f"DELETE FROM economy {where}", map_id)
    db.insert("economy", economy_rows, same={**map_id, **provenance, "source_url": economy.url})

    db.run(
        f"UPDATE maps SET perf_economy_at = :now, updated_at = :now{stamp.assignments} {where}",
        {"now": now, **map_id, **stamp.params},
    )
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


def _write_performance(db: Sql, performance: PerformancePage, map_id: Row, provenance: Row) -> None:
    """The players' performance columns and the kill matrices."""
    db.update(
        "player_stats",
        [{"player_id": p.player_id, "kpr": p.kpr, "dpr": p.dpr, "impact": p.impact, "mk_rating": p.mk_rating}
         for p in performance.players],
        key=("match_id", "map_number", "player_id"), same={**map_id, "updated_at": provenance["updated_at"]},
    )
    db.run("DELETE FROM kill_matrix WHERE match_id = :match_id AND map_number = :map_number", map_id)
    db.insert(
        "kill_matrix",
        [
            {"matrix_type": cell.matrix_type, "player1_id": cell.player1_id, "player2_id": cell.player2_id,
             "player1_kills": cell.player1_kills, "player2_kills": cell.player2_kills}
            for cell in performance.kill_matrix
        ],
        same={**map_id, **provenance, "source_url": performance.url},
    )


#: What the writer checks the pages against, read with the map's row: its round history
#: and scoreboard.
_OF_MAP = "(match_id, map_number) = (SELECT match_id, map_number FROM maps WHERE mapstatsid = :id)"
READS = (
    f"SELECT round_number, winner_team_id, winner_side FROM round_history WHERE {_OF_MAP}",
    f"SELECT player_id, team_id, kills FROM player_stats WHERE {_OF_MAP}",
)
#: The scoreboard columns this stage answers for (the scoreboard's stage, the rest).
PERFORMANCE = ("kpr", "dpr", "impact", "mk_rating")
#: What a re-read compares: the players' performance, the economy, the kill matrices.
CORRECTED = (
    CorrectedTable("player_stats", ("match_id", "map_number", "player_id"), ("match_id", "map_number"),
                   only=PERFORMANCE),
    CorrectedTable("economy", ("match_id", "map_number", "round_number", "team_id"), ("match_id", "map_number")),
    CorrectedTable("kill_matrix", ("match_id", "map_number", "matrix_type", "player1_id", "player2_id"),
                   ("match_id", "map_number")),
)

_ASKED = asked_for("perf_economy", "mapstatsid")

ROWS = UnitTable(
    table="maps",
    key="mapstatsid",
    attempts="perf_attempts",
    done="perf_economy_at",
    attempts_version="perf_attempts_version",
    version="perf_economy_version",
    # Scoreboard stored, performance/economy not yet (a map whose players have kpr is done).
    # A re-read waits for the scoreboard's own re-read (the page it is checked against).
    # Both want the scoreboard: PostgreSQL takes a test both sides of an OR share out of
    # it and probed player_stats for every map, so the cheap columns come first, alone.
    pending=(
        f"u.mapstatsid IS NOT NULL AND (u.perf_economy_at IS NULL OR {_ASKED}) AND {HAS_SCOREBOARD} "
        "AND ((u.perf_economy_at IS NULL AND NOT EXISTS (SELECT 1 FROM player_stats p "
        "WHERE p.match_id = u.match_id AND p.map_number = u.map_number AND p.kpr IS NOT NULL)) "
        f"OR ({_ASKED} AND NOT {asked_for('map_stats', 'mapstatsid')}))"
    ),
    select=map_select(fetch_anew("perf_economy", "mapstatsid", "perf_attempts", "perf_economy_at")),
    called="maps",
    corrected=CORRECTED,
    reads=READS,
)

COUNTS = (
    ("maps with performance and economy", "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL"),
    ("players with scoreboard", "SELECT count(*) FROM player_stats"),
    ("players with performance", "SELECT count(*) FROM player_stats WHERE kpr IS NOT NULL"),
    ("round history rows", "SELECT count(*) FROM round_history"),
    ("economy rows", "SELECT count(*) FROM economy"),
    ("kill matrix rows", "SELECT count(*) FROM kill_matrix"),
)

EXPORTS = (
    ExportedTable("economy", ("match_id", "map_number", "round_number", "team_id"), OF_MAP),
    ExportedTable("kill_matrix", ("match_id", "map_number", "matrix_type", "player1_id", "player2_id"), OF_MAP),
)
