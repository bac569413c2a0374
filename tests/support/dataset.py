"""The demo dataset for export and report tests, built the way `make demo` builds it.

The four stages replayed from ``fixtures/archive`` in-process, from the first results
page (as ``scrapy collect --pages 1``): matches with their veto, lineups and unplayed
maps, and ten complete maps. Reading the database back for comparisons goes through
plain SQL, not the code under test.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hltv_scraper.storage import Database
from tests.support.crawl import database_settings
from tests.support.crawl import run_crawl
from tests.support.pages import ARCHIVE_DIR, MAPSTATSIDS, load_expected
from tests.support.seed import rows

#: The columns that are the crawls' bookkeeping, not data: not exported.
OPERATIONAL = {"lease_worker", "lease_expires", "match_attempts", "perf_attempts", "mapstats_attempts",
               "match_attempts_version", "perf_attempts_version", "mapstats_attempts_version",
               "ranking_attempts", "ranking_attempts_version"}
FLAGS = {"is_lan", "is_forfeit", "played", "won"}
#: The tables the export writes, in its order (the registry's stages, each its tables).
KEYS = {
    "matches": ["match_id"],
    "vetoes": ["match_id", "step"],
    "lineups": ["match_id", "team_id", "player_id"],
    "maps": ["match_id", "map_number"],
    "player_stats": ["match_id", "map_number", "player_id"],
    "round_history": ["match_id", "map_number", "round_number"],
    "economy": ["match_id", "map_number", "round_number", "team_id"],
    "kill_matrix": ["match_id", "map_number", "matrix_type", "player1_id", "player2_id"],
    "ranking_snapshots": ["ranking_date"],
    "team_rankings": ["ranking_date", "team_id"],
    "team_ranking_players": ["ranking_date", "team_id", "position"],
}
#: Tables of the world ranking: every stored snapshot is exported, whatever the matches.
SNAPSHOT_TABLES = ("ranking_snapshots", "team_rankings", "team_ranking_players")
MAP_TABLES = ("maps", "player_stats", "round_history", "economy", "kill_matrix")
MATCH_TABLES = ("matches", "vetoes", "lineups")
#: What the export writes besides the tables, in order: the views of maps, then the
#: view of matches' teams.
MAP_VIEWS = ("player_maps", "economy_rounds", "rounds", "kill_pairs")
VIEWS = (*MAP_VIEWS, "match_ranks")


def demo_maps() -> list[tuple[int, int, int]]:
    """``(match_id, map_number, mapstatsid)`` of the demo's complete maps, by mapstatsid."""
    return [
        (truth["match"]["match_id"], truth["match"]["map_number"], mapstatsid)
        for mapstatsid in MAPSTATSIDS
        for truth in [load_expected(mapstatsid)]
    ]


def build_demo_database(database: Path | str) -> None:
    settings = {**database_settings(database), "HLTV_REPLAY": 1, "HLTV_ARCHIVE_DIR": str(ARCHIVE_DIR)}
    for spider, arguments in (("results", {"pages": "1"}), ("matches", {}), ("map_stats", {}), ("perf_economy", {})):
        result = run_crawl(spider, settings, **arguments)
        assert result.close_reason == "finished", (spider, result.stats)
    (complete,), = rows(database, "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL")
    assert complete == len(MAPSTATSIDS)


def copy_sqlite(source: Path, target: Path) -> Path:
    """A copy of a SQLite database (WAL included) that a test may change."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def table_rows(database: Path | str, table: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The exported columns of ``table`` and all its rows in key order, values as their
    meaning: flags as booleans, times as UTC datetimes."""
    db = Database.open(database)
    try:
        result = db.sql.result(f"SELECT * FROM {table} ORDER BY {', '.join(KEYS[table])}")
        names = [n for n in result.keys() if n not in OPERATIONAL]
        rows = [{n: meaning(n, row[n]) for n in names} for row in result.mappings()]
    finally:
        db.close()
    return names, rows


def meaning(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in FLAGS:
        assert value in (0, 1), (name, value)
        return value == 1
    if name == "date":
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    if name.endswith("_at"):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    return value
