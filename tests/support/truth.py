"""What a stored map must be: its truth file, its rows before and after, and the pages that refuse."""

from __future__ import annotations

from pathlib import Path

from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.seed import expected, rows
from tests.support.server import page_bytes


ALL_MAPS = [162345, 164779, 164783, 173424, 188093, 206389, 206391, 219128, 219131, 219135]


SCOREBOARD = (
    "player_id, player_name, team_id, kills, deaths, assists, flash_assists, hs_kills, "
    "kd_diff, adr, kast, fk_diff, opening_kills, opening_deaths, multi_kills, clutch_wins, "
    "traded_deaths, round_swing, rating, rating_version, scraped_at"
)


def snapshot(database: Path, mapstatsid: int) -> dict[str, list[tuple]]:
    """Every stored value of one map, without the moving timestamps."""
    (match_id, map_number), = rows(database, "SELECT match_id, map_number FROM maps WHERE mapstatsid = ?", mapstatsid)
    key = (match_id, map_number)
    return {
        "map": rows(database, "SELECT perf_attempts, perf_economy_at IS NOT NULL FROM maps WHERE match_id = ? AND map_number = ?", *key),
        "players": rows(database, f"SELECT {SCOREBOARD}, kpr, dpr, impact, mk_rating FROM player_stats WHERE match_id = ? AND map_number = ? ORDER BY player_id", *key),
        "economy": rows(database, "SELECT round_number, team_id, equipment_value, buy_type, side, won FROM economy WHERE match_id = ? AND map_number = ? ORDER BY 1, 2", *key),
        "kill_matrix": rows(database, "SELECT matrix_type, player1_id, player2_id, player1_kills, player2_kills FROM kill_matrix WHERE match_id = ? AND map_number = ? ORDER BY 1, 2, 3", *key),
        "failures": rows(database, "SELECT page FROM failures WHERE mapstatsid = ?", mapstatsid),
    }


def without_database(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in ("HLTV_DB_URL", "HLTV_DB_PATH")}


def pending(database: Path) -> set[int]:
    from hltv_scraper.parsers import current_parser_version
    from hltv_scraper.storage import Database

    db = Database.open(database)
    try:
        pending = db.iter_pending(STAGES["perf_economy"], max_attempts=3, parser_version=current_parser_version())
        return {key.id for key in pending}
    finally:
        db.close()


def assert_untouched(before: dict, after: dict) -> None:
    assert after == before
    assert after["map"] == [(0, 0)]
    assert after["economy"] == [] and after["kill_matrix"] == [] and after["failures"] == []


def assert_matches_truth(database: Path, mapstatsid: int) -> None:
    truth = expected(mapstatsid)
    stored = snapshot(database, mapstatsid)
    by_id = {row[0]: row for row in stored["players"]}
    assert set(by_id) == {p["player_id"] for p in truth["players"]}
    for player in truth["players"]:
        row = by_id[player["player_id"]]
        assert row[-4:] == (player["kpr"], player["dpr"], player["impact"], player["mk_rating"]), player["player_name"]
    assert stored["economy"] == sorted(
        (e["round_number"], e["team_id"], e["equipment_value"], e["buy_type"], e["side"], int(e["won"]))
        for e in truth["economy"]
    )
    assert stored["kill_matrix"] == sorted(
        (k["matrix_type"], k["player1_id"], k["player2_id"], k["player1_kills"], k["player2_kills"])
        for k in truth["kill_matrix"]
    )
    assert {row[0] for row in stored["kill_matrix"]} == {"all", "first_kill", "awp"}
    assert stored["map"] == [(0, 1)]


CF_CHALLENGE = page_bytes("special-cf-challenge-performance-173424")


ACCESS_DENIED = page_bytes("special-cf-access-denied-economy-188093")


CF_HEADERS = {"Server": "cloudflare", "cf-mitigated": "challenge"}


SCOREBOARD_COLUMNS = (
    "player_id player_name team_id kills deaths assists flash_assists hs_kills kd_diff adr "
    "kast fk_diff opening_kills opening_deaths multi_kills clutch_wins traded_deaths "
    "round_swing rating rating_version e_kills e_hs_kills e_deaths e_traded_deaths "
    "e_kd_diff e_adr e_kast e_opening_kills e_opening_deaths e_fk_diff"
).split()


MAP_COLUMNS = (
    "map_name team1_rounds team2_rounds team1_ct_rounds team1_t_rounds team2_ct_rounds "
    "team2_t_rounds team1_ot_rounds team2_ot_rounds"
).split()


def add_maps(database, mapstatsids):
    db = Database.open(database)
    try:
        db.add_maps([
            (expected(m)["match"]["match_id"], expected(m)["match"]["map_number"], m) for m in mapstatsids
        ])
    finally:
        db.close()


def assert_scoreboard_matches_truth(database, mapstatsid):
    truth = expected(mapstatsid)
    match = truth["match"]
    key = (match["match_id"], match["map_number"])
    stored = rows(database, f"SELECT {', '.join(SCOREBOARD_COLUMNS)} FROM player_stats WHERE match_id = ? AND map_number = ? ORDER BY player_id", *key)
    wanted = sorted(tuple(p[c] for c in SCOREBOARD_COLUMNS) for p in truth["players"])
    assert stored == wanted
    assert rows(database, f"SELECT {', '.join(MAP_COLUMNS)} FROM maps WHERE mapstatsid = ?", mapstatsid) == [
        tuple(match[c] for c in MAP_COLUMNS)
    ]
    assert rows(database, "SELECT team1_id, team1_name, team2_id, team2_name, event_id, event_name, date_unix_ms FROM matches WHERE match_id = ?", match["match_id"]) == [
        tuple(match[c] for c in ("team1_id", "team1_name", "team2_id", "team2_name", "event_id", "event_name", "date_unix_ms"))
    ]
    assert rows(database, "SELECT round_number, winner_side, win_type, winner_team_id FROM round_history WHERE match_id = ? AND map_number = ? ORDER BY 1", *key) == [
        (r["round_number"], r["winner_side"], r["win_type"], r["winner_team_id"]) for r in truth["rounds"]
    ]
