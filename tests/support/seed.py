"""Putting what the map stats stage would have stored into a test database, and reading it.

Rows come from the truth files (not from the code under test), so the core job's
tests stand on known values. A database is named by its location: a SQLite file's
path or a ``postgresql://`` URL (see the ``database`` fixture).
"""

from __future__ import annotations

import re
from pathlib import Path

from hltv_scraper.storage import Database
from tests.support.pages import load_expected

NOW = "2026-01-01T00:00:00+00:00"
SCOREBOARD_COLUMNS = (
    "player_name team_id kills deaths assists flash_assists hs_kills kd_diff adr kast "
    "fk_diff opening_kills opening_deaths multi_kills clutch_wins traded_deaths "
    "round_swing rating rating_version"
).split()


expected = load_expected


def seed_scoreboard(database: Path | str, mapstatsid: int, *, match_overrides: dict | None = None,
                    rounds: int | None = None) -> dict:
    """Store the match, map, scoreboard and round history of a fixture map.

    ``match_overrides`` changes the match record (e.g. swapped or respelled team
    names); ``rounds`` keeps only the first N rounds of the round history.
    """
    truth = expected(mapstatsid)
    match = {**truth["match"], **(match_overrides or {})}
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            sql.run(
                "INSERT INTO matches (match_id, event_id, event_name, team1_id, team1_name, "
                "team2_id, team2_name, best_of, date_unix_ms, scraped_at, updated_at) VALUES "
                "(:match_id, :event_id, :event_name, :team1_id, :team1_name, :team2_id, "
                ":team2_name, :best_of, :date_unix_ms, :now, :now) ON CONFLICT (match_id) DO NOTHING",
                {**match, "now": NOW},
            )
            key = {"match_id": match["match_id"], "map_number": match["map_number"]}
            sql.run(
                "INSERT INTO maps (match_id, map_number, mapstatsid, map_name, team1_rounds, "
                "team2_rounds, played, is_forfeit, mapstats_at, scraped_at, updated_at) VALUES "
                "(:match_id, :map_number, :mapstatsid, :map_name, :team1_rounds, :team2_rounds, "
                "1, 0, :now, :now, :now)",
                {**key, "mapstatsid": mapstatsid, "map_name": match["map_name"],
                 "team1_rounds": match["team1_rounds"], "team2_rounds": match["team2_rounds"], "now": NOW},
            )
            sql.many(
                f"INSERT INTO player_stats (match_id, map_number, player_id, "
                f"{', '.join(SCOREBOARD_COLUMNS)}, scraped_at, updated_at) VALUES "
                f"(:match_id, :map_number, :player_id, {', '.join(':' + c for c in SCOREBOARD_COLUMNS)}, :now, :now)",
                [{**key, "player_id": p["player_id"], **{c: p[c] for c in SCOREBOARD_COLUMNS}, "now": NOW}
                 for p in truth["players"]],
            )
            sql.many(
                "INSERT INTO round_history (match_id, map_number, round_number, winner_side, "
                "win_type, winner_team_id, scraped_at, updated_at) VALUES (:match_id, :map_number, "
                ":round_number, :winner_side, :win_type, :winner_team_id, :now, :now)",
                [{**key, **{k: r[k] for k in ("round_number", "winner_side", "win_type", "winner_team_id")},
                  "now": NOW} for r in truth["rounds"][: rounds or None]],
            )
    finally:
        db.close()
    return truth


_PLACEHOLDER = re.compile(r"\?")


def rows(database: Path | str, statement: str, *params: object) -> list[tuple]:
    """Run one statement (``?`` placeholders) and return its rows as tuples."""
    numbered = iter(range(len(params)))
    named = _PLACEHOLDER.sub(lambda _: f":p{next(numbered)}", statement)
    db = Database.open(database)
    try:
        result = db.sql.result(named, {f"p{n}": value for n, value in enumerate(params)})
        return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        db.close()


def is_postgres(database: Path | str) -> bool:
    return str(database).startswith("postgresql")
