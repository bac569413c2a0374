"""How fast and lean `scrapy export` is on a large database, against the disk's own floor.

    python tools/bench_export.py [--source data/demo/hltv.sqlite3] [--maps 2000,20000]
                                 [--formats parquet,duckdb] [--postgresql]

The large databases are the demo database (`make demo`) copied over and over: copy *n*
of every row gets ``match_id`` and ``mapstatsid`` shifted by *n* times a large offset,
so each copy is a match of its own with the same ten maps' rows. Each export is a
`scrapy export` subprocess; its peak RSS is its own ``VmHWM``, polled from /proc
(``ru_maxrss`` of a child carries the parent's peak over fork and exec).

The floor, measured in the same run just before: the sqlite3 shell dumping the same
eight tables as CSV (one process per table, as fast as SQLite reads and prints). With
``--postgresql`` the same database is loaded into a throwaway local server and exported
from there, against its own floor: ``COPY table TO STDOUT`` of the eight tables.
Each export is reported as a multiple of its floor: the figure that survives a machine
other people share, where every absolute time is inflated alike.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("matches", "maps", "player_stats", "round_history", "economy", "kill_matrix", "vetoes", "lineups")
SHIFTED = {"match_id", "mapstatsid"}
OFFSET = 10_000_000


def build(source: Path, target: Path, maps: int) -> int:
    """``target``: ``source`` with its rows copied until it holds about ``maps`` maps."""
    shutil.copyfile(source, target)
    connection = sqlite3.connect(target, isolation_level=None)
    try:
        per_copy = connection.execute("SELECT count(*) FROM maps").fetchone()[0]
        copies = max(maps // per_copy, 1)
        connection.execute("BEGIN")
        for table in TABLES:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            values = [f"{c} + n * {OFFSET}" if c in SHIFTED else c for c in columns]
            connection.execute(
                f"WITH RECURSIVE copy(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copy WHERE n < {copies - 1}) "
                f"INSERT INTO {table} ({', '.join(columns)}) "
                # a copy at a time, the newest first, as a crawl stores a map at a time
                # from the newest match down: each copy's rows are one run of keys
                f"SELECT {', '.join(values)} FROM copy CROSS JOIN {table} ORDER BY n DESC"
            )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return connection.execute("SELECT count(*) FROM maps").fetchone()[0]
    finally:
        connection.close()


def sqlite_floor(database: Path, work: Path) -> float:
    """Seconds the sqlite3 shell takes to dump the eight tables as CSV files."""
    if shutil.which("sqlite3") is None:
        raise SystemExit("the export bench needs the sqlite3 shell (apt-get install sqlite3)")
    started = time.monotonic()
    for table in TABLES:
        with (work / f"{table}.csv").open("wb") as out:
            subprocess.run(["sqlite3", "-csv", "-header", str(database), f"SELECT * FROM {table}"],
                           stdout=out, check=True)
    seconds = time.monotonic() - started
    for table in TABLES:
        (work / f"{table}.csv").unlink()
    return seconds


def load_postgresql(database: Path, url: str, work: Path) -> None:
    """The SQLite database's rows into the (empty, migrated) PostgreSQL database ``url``,
    through CSV and ``COPY ... FROM STDIN``."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    from hltv_scraper.storage import Database

    Database.open(url).close()  # the schema
    with psycopg.connect(url) as connection:
        for table in TABLES:
            dump = work / f"{table}.csv"
            with dump.open("wb") as out:
                subprocess.run(["sqlite3", "-csv", "-header", str(database), f"SELECT * FROM {table}"],
                               stdout=out, check=True)
            with dump.open("rb") as handle:
                header = handle.readline().decode().strip()
                with connection.cursor().copy(f"COPY {table} ({header}) FROM STDIN (FORMAT csv)") as copy:
                    while block := handle.read(1 << 20):
                        copy.write(block)
            dump.unlink()
        connection.execute("ANALYZE")


def postgresql_floor(url: str) -> float:
    """Seconds ``COPY table TO STDOUT`` of the eight tables takes, read and dropped."""
    import psycopg

    with psycopg.connect(url) as connection:
        started = time.monotonic()
        for table in TABLES:
            with connection.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for _ in copy:
                    pass
        return time.monotonic() - started


def measure(database: Path | str, out: Path, file_format: str) -> tuple[float, float, str]:
    """Seconds, peak RSS in MB and the command's output of one export."""
    location = f"HLTV_DB_URL={database}" if str(database).startswith("postgresql") else f"HLTV_DB_PATH={database}"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "export", "--format", file_format, "--out", str(out),
         "-s", location],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            peak = max(peak, int(fields["VmHWM"].split()[0]))
        except (OSError, KeyError, ValueError):  # exiting
            pass
        time.sleep(0.05)
    output = process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"export failed:\n{output}")
    return time.monotonic() - started, peak / 1024, output


#: each export's time against its floor's, measured in the same run
TARGET_RATIO = {"parquet": 3.0, "duckdb": 4.0}
TARGET_PEAK_RSS_MB = 500
#: below this many maps the command's start-up (~2 s of imports) is most of an export:
#: its multiple of the floor is shown, not held against the target
TARGET_FROM_MAPS = 20_000


def bench_export(
    source: Path, work: Path, sizes: list[int], formats: list[str], postgres: Any = None
) -> list[dict[str, Any]]:
    """Per size: the floor, then one export per format (and, given a PostgreSQL server,
    the same from PostgreSQL against its floor), printed as each ends: maps, rows,
    seconds, the multiple of the floor, peak RSS (MB) and its growth over the smallest
    size's."""
    print(f"{'maps':>8} {'database':>10} {'format':>8} {'rows':>11} {'time':>8} {'floor':>7} "
          f"{'ratio':>14} {'peak RSS':>10}", flush=True)
    results: list[dict[str, Any]] = []
    work.mkdir(parents=True, exist_ok=True)
    for maps in sizes:
        database = work / f"hltv-{maps}.sqlite3"
        stored = build(source, database, maps)
        sources = [("SQLite", database, lambda: sqlite_floor(database, work))]
        if postgres is not None:
            url = postgres.new_database()
            load_postgresql(database, url, work)
            sources.append(("PostgreSQL", url, lambda url=url: postgresql_floor(url)))
        for backend, location, floor in sources:
            for file_format in formats:
                floor_seconds = floor()  # just before each export: the same load on the machine
                out = work / f"export-{maps}-{file_format}"
                seconds, peak, output = measure(location, out, file_format)
                rows = sum(int(line.split()[-2]) for line in output.splitlines() if line.endswith(" rows"))
                ratio = seconds / floor_seconds
                first = next((r["peak_rss_mb"] for r in results
                              if r["format"] == file_format and r["database"] == backend), peak)
                target = TARGET_RATIO.get(file_format) if stored >= TARGET_FROM_MAPS * 0.99 else None
                met = (target is None or ratio <= target) and peak <= TARGET_PEAK_RSS_MB
                results.append({
                    "maps": stored, "database": backend, "format": file_format, "rows": rows,
                    "seconds": round(seconds, 1), "floor_seconds": round(floor_seconds, 1),
                    "ratio": round(ratio, 2), "target_ratio": target, "peak_rss_mb": round(peak, 1),
                    "peak_growth": round(peak / first - 1, 3), "target_met": met,
                })
                growth = f" ({peak / first - 1:+.1%})" if first != peak else ""
                verdict = "" if target is None else f" {'ok' if ratio <= target else '>'} {target:.0f}x"
                print(f"{stored:>8,} {backend:>10} {file_format:>8} {rows:>11,} {seconds:>7.1f}s "
                      f"{floor_seconds:>6.1f}s {ratio:>8.2f}x{verdict:<6} {peak:>7.1f} MB{growth}", flush=True)
                shutil.rmtree(out)
        database.unlink()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="data/demo/hltv.sqlite3", help="the database copied (make demo's)")
    parser.add_argument("--maps", default="2000,20000", help="database sizes, in maps")
    parser.add_argument("--formats", default="parquet,duckdb", help="parquet, csv, jsonl, duckdb")
    parser.add_argument("--postgresql", action="store_true", help="also from a throwaway PostgreSQL server")
    args = parser.parse_args()
    source = ROOT / args.source
    if not source.exists():
        raise SystemExit(f"no {args.source}: run `make demo` first")
    postgres = None
    if args.postgresql:
        sys.path.insert(0, str(ROOT))
        from tests.support.postgres import PostgresServer

        postgres = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-export-") as work:
            bench_export(source, Path(work), [int(n) for n in args.maps.split(",")], args.formats.split(","),
                         postgres)
    finally:
        if postgres is not None:
            postgres.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
