"""The demo dataset for export and report tests, built the way `make demo` builds it.

``scrapy addmaps --csv fixtures/demo-maps.csv``, then the match page of each match (so
vetoes, lineups and unplayed maps are there too), then ``map_stats`` and
``perf_economy`` crawls replayed from ``fixtures/archive``, in-process. Reading the
database back for comparisons goes through plain SQL, not the code under test.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hltv_scraper.parsers import PARSER_VERSION
from hltv_scraper.parsers.match import parse_match
from hltv_scraper.storage import Database
from tests.conftest import database_settings
from tests.crawl import run_crawl
from tests.pages import ARCHIVE_DIR, FIXTURES, load_page

DEMO_MAPS = FIXTURES / "demo-maps.csv"
#: The columns that are the crawls' bookkeeping, not data: not exported.
OPERATIONAL = {"lease_worker", "lease_expires", "match_attempts", "perf_attempts", "mapstats_attempts"}
FLAGS = {"is_lan", "is_forfeit", "played", "won"}
KEYS = {
    "matches": ["match_id"],
    "maps": ["match_id", "map_number"],
    "player_stats": ["match_id", "map_number", "player_id"],
    "round_history": ["match_id", "map_number", "round_number"],
    "economy": ["match_id", "map_number", "round_number", "team_id"],
    "kill_matrix": ["match_id", "map_number", "matrix_type", "player1_id", "player2_id"],
    "vetoes": ["match_id", "step"],
    "lineups": ["match_id", "team_id", "player_id"],
}
MAP_TABLES = ("maps", "player_stats", "round_history", "economy", "kill_matrix")
MATCH_TABLES = ("matches", "vetoes", "lineups")


def demo_maps() -> list[tuple[int, int, int]]:
    with DEMO_MAPS.open(newline="") as handle:
        return [(int(r["match_id"]), int(r["map_number"]), int(r["mapstatsid"])) for r in csv.DictReader(handle)]


def build_demo_database(database: Path | str) -> None:
    maps = demo_maps()
    db = Database.open(database)
    try:
        db.add_maps(maps)
        for match_id in sorted({match_id for match_id, _, _ in maps}):
            page = parse_match(load_page(f"match-{match_id}"))
            page.unit_id = match_id
            db.save("matches", match_id, {"match": page}, parser_version=PARSER_VERSION)
    finally:
        db.close()
    settings = {**database_settings(database), "HLTV_REPLAY": 1, "HLTV_ARCHIVE_DIR": str(ARCHIVE_DIR)}
    for spider in ("map_stats", "perf_economy"):
        result = run_crawl(spider, settings)
        assert result.stat("hltv/maps/committed") == len(maps), (spider, result.stats)


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
        result = db.sql.run(f"SELECT * FROM {table} ORDER BY {', '.join(KEYS[table])}")
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
