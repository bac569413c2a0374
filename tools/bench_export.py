"""How lean `scrapy export` is on a large database: time and peak RSS by number of maps.

    python tools/bench_export.py [--source data/demo/hltv.sqlite3] [--maps 2000,20000]
                                 [--formats parquet,csv,jsonl,duckdb]

The large databases are the demo database (`make demo`) copied over and over: copy *n*
of every row gets ``match_id`` and ``mapstatsid`` shifted by *n* times a large offset,
so each copy is a match of its own with the same ten maps' rows. Each export is a
`scrapy export` subprocess; its peak RSS is its own ``VmHWM``, polled from /proc
(``ru_maxrss`` of a child carries the parent's peak over fork and exec). `make bench`
runs it through :func:`bench_export` (section ``export``: Parquet and DuckDB at 2,000
and 100,000 maps).
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
                f"SELECT {', '.join(values)} FROM {table} CROSS JOIN copy"
            )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return connection.execute("SELECT count(*) FROM maps").fetchone()[0]
    finally:
        connection.close()


def measure(database: Path, out: Path, file_format: str) -> tuple[float, float, str]:
    """Seconds, peak RSS in MB and the command's output of one export."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "export", "--format", file_format, "--out", str(out),
         "-s", f"HLTV_DB_PATH={database}"],
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


def bench_export(source: Path, work: Path, sizes: list[int], formats: list[str]) -> list[dict[str, Any]]:
    """One export per size and format, printed as it ends: maps, format, rows, seconds,
    peak RSS (MB), and the peak's growth over the smallest size's of that format."""
    print(f"{'maps':>8} {'format':>8} {'rows':>11} {'time':>8} {'peak RSS':>10}", flush=True)
    results: list[dict[str, Any]] = []
    work.mkdir(parents=True, exist_ok=True)
    for maps in sizes:
        database = work / f"hltv-{maps}.sqlite3"
        stored = build(source, database, maps)
        for file_format in formats:
            out = work / f"export-{maps}-{file_format}"
            seconds, peak, output = measure(database, out, file_format)
            rows = sum(int(line.split()[-2]) for line in output.splitlines() if line.endswith(" rows"))
            first = next((r["peak_rss_mb"] for r in results if r["format"] == file_format), peak)
            results.append({"maps": stored, "format": file_format, "rows": rows, "seconds": round(seconds, 1),
                            "peak_rss_mb": round(peak, 1), "peak_growth": round(peak / first - 1, 3)})
            growth = f" ({peak / first - 1:+.1%})" if first != peak else ""
            print(f"{stored:>8,} {file_format:>8} {rows:>11,} {seconds:>7.1f}s {peak:>8.1f} MB{growth}", flush=True)
            shutil.rmtree(out)
        database.unlink()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="data/demo/hltv.sqlite3", help="the database copied (make demo's)")
    parser.add_argument("--maps", default="2000,20000", help="database sizes, in maps")
    parser.add_argument("--formats", default="parquet", help="parquet, csv, jsonl, duckdb")
    args = parser.parse_args()
    source = ROOT / args.source
    if not source.exists():
        raise SystemExit(f"no {args.source}: run `make demo` first")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as work:
        bench_export(source, Path(work), [int(n) for n in args.maps.split(",")], args.formats.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
