"""Putting what the map stats stage would have stored into a test database.

Rows come from the truth files (not from the code under test), so the core job's
tests stand on known values.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hltv_scraper.storage import Database
from tests.pages import load_expected

NOW = "2026-01-01T00:00:00+00:00"
SCOREBOARD_COLUMNS = (
    "player_name team_id kills deaths assists flash_assists hs_kills kd_diff adr kast "
    "fk_diff opening_kills opening_deaths multi_kills clutch_wins traded_deaths "
    "round_swing rating rating_version"
).split()


expected = load_expected


def seed_scoreboard(db_path: Path, mapstatsid: int, *, match_overrides: dict | None = None,
                    rounds: int | None = None) -> dict:
    """Store the match, map, scoreboard and round history of a fixture map.

    ``match_overrides`` changes the match record (e.g. swapped or respelled team
    names); ``rounds`` keeps only the first N rounds of the round history.
    """
    truth = expected(mapstatsid)
    match = {**truth["match"], **(match_overrides or {})}
    db = Database.open(db_path)
    try:
        c = db.connection
        c.execute("BEGIN")
        c.execute(
            "INSERT OR IGNORE INTO matches (match_id, event_id, event_name, team1_id, team1_name, "
            "team2_id, team2_name, best_of, date_unix_ms, scraped_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (match["match_id"], match["event_id"], match["event_name"], match["team1_id"],
             match["team1_name"], match["team2_id"], match["team2_name"], match["best_of"],
             match["date_unix_ms"], NOW, NOW),
        )
        key = (match["match_id"], match["map_number"])
        c.execute(
            "INSERT INTO maps (match_id, map_number, mapstatsid, map_name, team1_rounds, "
            "team2_rounds, mapstats_at, scraped_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, mapstatsid, match["map_name"], match["team1_rounds"], match["team2_rounds"],
             NOW, NOW, NOW),
        )
        for player in truth["players"]:
            c.execute(
                f"INSERT INTO player_stats (match_id, map_number, player_id, "
                f"{', '.join(SCOREBOARD_COLUMNS)}, scraped_at, updated_at) VALUES "
                f"(?, ?, ?, {', '.join('?' * len(SCOREBOARD_COLUMNS))}, ?, ?)",
                (*key, player["player_id"], *(player[col] for col in SCOREBOARD_COLUMNS), NOW, NOW),
            )
        for entry in truth["rounds"][: rounds or None]:
            c.execute(
                "INSERT INTO round_history (match_id, map_number, round_number, winner_side, "
                "win_type, winner_team_id, scraped_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, entry["round_number"], entry["winner_side"], entry["win_type"],
                 entry["winner_team_id"], NOW, NOW),
            )
        c.execute("COMMIT")
    finally:
        db.close()
    return truth


def rows(db_path: Path, sql: str, *params: object) -> list[tuple]:
    connection = sqlite3.connect(db_path)
    try:
        result = [tuple(r) for r in connection.execute(sql, params).fetchall()]
        connection.commit()
        return result
    finally:
        connection.close()
