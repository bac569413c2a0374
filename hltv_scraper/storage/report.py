"""The queries behind ``scrapy report``: how complete the dataset is, what failed, and one map.

Every query groups or picks in the database and returns a handful of rows, whatever the
size of the dataset. Dates are grouped by UTC day (integer division of the match's
milliseconds, the same on SQLite and PostgreSQL); the report folds days into months.
Failures are grouped by the one rule ``scrapy summary`` uses, ``Database.failure_groups``
(ids and quoted names folded out; each group with its distinct units and one real reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage.export import ROUNDS_STATEMENT
from hltv_scraper.storage.map_stats import ROWS as MAP_STATS
from hltv_scraper.storage.perf_economy import ROWS as PERF_ECONOMY

if TYPE_CHECKING:
    from hltv_scraper.storage._sql import Row, Sql

DISCOVERED, SCOREBOARD, COMPLETE, FAILED = "discovered", "scoreboard", "complete", "failed"
#: A map's stage, furthest first: stored whole; given up on (a stage failed
#: HLTV_MAX_ATTEMPTS times under this parser version); scoreboard stored; known with a mapstatsid, nothing stored.
STAGES = (DISCOVERED, SCOREBOARD, COMPLETE, FAILED)
_STAGE = f"""CASE
    WHEN mp.perf_economy_at IS NOT NULL THEN '{COMPLETE}'
    WHEN NOT {MAP_STATS.attempts_left("mp")} OR NOT {PERF_ECONOMY.attempts_left("mp")} THEN '{FAILED}'
    WHEN mp.mapstats_at IS NOT NULL THEN '{SCOREBOARD}'
    ELSE '{DISCOVERED}' END"""
_DAY_MS = 86_400_000


def maps_by_day_and_stage(db: Sql, *, max_attempts: int, parser_version: str) -> list[Row]:
    """``day`` (days since the epoch, UTC, of the match's date; None when it has none),
    ``stage``, ``maps``: maps with a stats page (unplayed and forfeited maps have none).
    A map failed under an older parser version than ``parser_version`` (the parsers'
    own) is pending again, as the crawls see it."""
    return db.all(
        f"""SELECT COALESCE(m.date_unix_ms, m.completed_unix_ms) / {_DAY_MS} AS day,
                   {_STAGE} AS stage, count(*) AS maps
            FROM maps mp JOIN matches m ON m.match_id = mp.match_id
            WHERE mp.mapstatsid IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2""",
        {"max_attempts": max_attempts, "parser_version": parser_version},
    )


def count_failures(db: Sql) -> int:
    return db.value("SELECT count(*) FROM failures")


def maps_by_rating_version(db: Sql) -> list[Row]:
    """``rating_version`` (None: not known yet), ``maps``: maps with a scoreboard."""
    return db.all(
        """SELECT rating_version, count(*) AS maps FROM maps
           WHERE mapstats_at IS NOT NULL GROUP BY rating_version ORDER BY count(*) DESC, 1"""
    )


def latest_complete_map(db: Sql) -> int | None:
    """The mapstatsid of the complete map played last."""
    return db.value(
        """SELECT mp.mapstatsid FROM maps mp JOIN matches m ON m.match_id = mp.match_id
           WHERE mp.perf_economy_at IS NOT NULL
           ORDER BY COALESCE(m.date_unix_ms, m.completed_unix_ms, 0) DESC, mp.mapstatsid DESC
           LIMIT 1"""
    )


def map_details(db: Sql, mapstatsid: int) -> Row | None:
    return db.one(
        """SELECT mp.match_id, mp.map_number, mp.mapstatsid, mp.map_name, mp.team1_rounds,
                  mp.team2_rounds, mp.rating_version, mp.mapstats_at, mp.perf_economy_at,
                  m.date, m.event_name, m.team1_id, m.team1_name, m.team2_id, m.team2_name,
                  m.team1_score, m.team2_score, m.best_of, m.stage, m.is_lan
           FROM maps mp JOIN matches m ON m.match_id = mp.match_id
           WHERE mp.mapstatsid = :mapstatsid""",
        {"mapstatsid": mapstatsid},
    )


def map_rounds(db: Sql, match_id: int, map_number: int) -> list[Row]:
    """Every round of the map's round history (overtime included) in its context, as the
    export's ``rounds`` view has it: half, pistol flag, regulation length, each team's
    side, the score before it, its winner and how it ended."""
    return db.all(
        f"""SELECT r.round_number, r.half, r.is_pistol, r.regulation_rounds, r.team1_side, r.team2_side,
                   r.team1_score_before, r.team2_score_before, r.winner_team_id, r.winner_side, r.win_type
            FROM ({ROUNDS_STATEMENT}) r
            WHERE r.match_id = :match_id AND r.map_number = :map_number ORDER BY r.round_number""",
        {"match_id": match_id, "map_number": map_number},
    )


def match_maps(db: Sql, match_id: int) -> list[Row]:
    """The maps of the map's match, in order: the series around it."""
    return db.all(
        """SELECT map_number, map_name, mapstatsid, team1_rounds, team2_rounds, played, is_forfeit,
                  perf_economy_at FROM maps WHERE match_id = :match_id ORDER BY map_number""",
        {"match_id": match_id},
    )


def match_vetoes(db: Sql, match_id: int) -> list[Row]:
    return db.all(
        """SELECT step, team_id, team_name, action, map_name FROM vetoes
           WHERE match_id = :match_id ORDER BY step""",
        {"match_id": match_id},
    )


def map_economy(db: Sql, match_id: int, map_number: int) -> list[Row]:
    """Each team's equipment value per round the economy page shows (MR12 overtime: none)."""
    return db.all(
        """SELECT round_number, team_id, equipment_value, buy_type, side, won FROM economy
           WHERE match_id = :match_id AND map_number = :map_number
           ORDER BY round_number, team_id""",
        {"match_id": match_id, "map_number": map_number},
    )


def map_players(db: Sql, match_id: int, map_number: int) -> list[Row]:
    """The map's scoreboard: each player's kills, deaths, headshots, ADR, KAST, opening
    kills and deaths, multi-kills, clutches and rating."""
    return db.all(
        """SELECT player_id, player_name, team_id, kills, deaths, hs_kills, adr, kast, opening_kills,
                  opening_deaths, multi_kills, clutch_wins, rating FROM player_stats
           WHERE match_id = :match_id AND map_number = :map_number
           ORDER BY team_id, rating DESC, player_id""",
        {"match_id": match_id, "map_number": map_number},
    )


def map_kill_matrix(db: Sql, match_id: int, map_number: int, matrix_type: str = "all") -> list[Row]:
    """The kill matrix: ``player1_id`` (row player) killed ``player2_id``
    ``player1_kills`` times and was killed by them ``player2_kills`` times."""
    return db.all(
        """SELECT player1_id, player2_id, player1_kills, player2_kills FROM kill_matrix
           WHERE match_id = :match_id AND map_number = :map_number AND matrix_type = :matrix_type""",
        {"match_id": match_id, "map_number": map_number, "matrix_type": matrix_type},
    )
