"""`make bench`, progress: what the progress line's pending counts cost a long crawl.

Every ``LOGSTATS_INTERVAL`` (60 s) the progress line says how many match pages, map
stats pages and maps the chain still has to do. Counted in the database, that is a scan
of the unit tables. On a database of ``maps`` complete maps (their match page, map
stats and performance/economy stored, ten players each), this times one database count
(the median of three) and the progress line's own cost over an hour of 60 s intervals, on SQLite and
PostgreSQL. The bound is 0.6 s per interval.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hltv_scraper.extensions import Progress
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.stages import STAGES, tracked
from hltv_scraper.storage import Database

INTERVAL = 60.0
HOUR_OF_INTERVALS = 60
NOW = "2026-01-01T00:00:00+00:00"


def seed_complete(database: Path | str, maps: int) -> None:
    """``maps`` complete maps, one match each, ten players with performance each."""
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            numbers = (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :maps) "
                if db.dialect == "sqlite"
                else "WITH n(i) AS (SELECT generate_series(1, :maps)) "
            )
            sql.run(
                numbers + "INSERT INTO matches (match_id, team1_id, team1_name, team2_id, team2_name, "
                "match_page_at, scraped_at, updated_at) SELECT i, 1, 'a', 2, 'b', :now, :now, :now FROM n",
                {"maps": maps, "now": NOW},
            )
            sql.run(
                "INSERT INTO maps (match_id, map_number, mapstatsid, team1_rounds, team2_rounds, "
                "mapstats_at, perf_economy_at, scraped_at, updated_at) "
                "SELECT match_id, 1, match_id, 13, 11, :now, :now, :now, :now FROM matches",
                {"now": NOW},
            )
            sql.run(
                "INSERT INTO player_stats (match_id, map_number, player_id, team_id, kills, kpr, "
                "scraped_at, updated_at) SELECT m.match_id, 1, p.player, 1 + p.player % 2, 18, 0.75, "
                ":now, :now FROM maps m CROSS JOIN (SELECT 1 AS player UNION ALL SELECT 2 UNION ALL "
                "SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 "
                "UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10) p",
                {"now": NOW},
            )
        if db.dialect == "sqlite":
            db.sql.run("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            db.sql.run("ANALYZE")
    finally:
        db.close()


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def bench_progress(location: Path | str, maps: int) -> dict[str, Any]:
    if isinstance(location, Path):
        location.parent.mkdir(parents=True, exist_ok=True)
    seed_complete(location, maps)
    db = Database.open(location)
    try:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            counts = db.pending_counts(tracked(), max_attempts=3, parser_version=current_parser_version())
            runs.append(time.perf_counter() - started)
        one_count = statistics.median(runs)
        # The progress line over an hour of intervals, its clock stood in for.
        import hltv_scraper.extensions as extensions

        clock, real = _Clock(), extensions.time.monotonic
        extensions.time.monotonic = clock
        try:
            progress = Progress.__new__(Progress)
            progress._chain, progress._chain_read_at, progress._committed_then = None, float("-inf"), 0
            ledger = SimpleNamespace(
                db=db, config=SimpleNamespace(max_attempts=3), stage=STAGES["perf_economy"],
                parser_version=current_parser_version(),
            )
            spent = []
            for interval in range(HOUR_OF_INTERVALS):
                clock.now = interval * INTERVAL
                started = time.perf_counter()
                line = progress.chain_left(ledger, committed=interval)
                assert line.startswith("left: "), line  # counted, not given up on
                spent.append(time.perf_counter() - started)
        finally:
            extensions.time.monotonic = real
    finally:
        db.close()
    return {
        "database": "SQLite" if isinstance(location, Path) else "PostgreSQL",
        "maps": maps,
        "pending": counts,
        "one_database_count_s": round(one_count, 3),
        "worst_interval_s": round(max(spent), 3),
        "mean_interval_s": round(sum(spent) / len(spent), 4),
    }


def print_progress(results: list[dict[str, Any]]) -> None:
    print(f"\n7. Progress line: pending counts on {results[0]['maps']:,} complete maps "
          f"(bound: 0.6 s per {INTERVAL:.0f} s interval)")
    for r in results:
        print(f"   {r['database']:<10} one database count {r['one_database_count_s']:.3f} s; "
              f"per interval: worst {r['worst_interval_s']:.3f} s, mean {r['mean_interval_s']:.4f} s")
