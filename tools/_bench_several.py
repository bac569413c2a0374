"""Benchmarks of several crawls sharing one database (``make bench`` sections 5 and 6).

5. several    maps per second with 1, 2 and 4 ``scrapy crawl perf_economy`` processes
              against a local server that answers each page after 200 ms, on
              PostgreSQL and on SQLite: leased work should make k crawls ~k times faster.
6. processes  an offline re-parse (``HLTV_REPLAY=1``) of the same archive by 1 process
              and by 2 processes sharing one SQLite file, on this machine's cores.

A crawl's time is its own ``elapsed_time_seconds`` (spider opened to closed): process
start-up is left out, as it is a constant that a days-long crawl does not feel.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.postgres import PostgresServer
from tests.support.server import Answer
from tests.support.faults import SlowServer, small_page
from tools import _bench_data as data

ROOT = Path(__file__).resolve().parent.parent
SLOW_MAPS = 80
SLOW_DELAY = 0.2
_ELAPSED = re.compile(r"'elapsed_time_seconds': ([\d.]+)")
_COMMITTED = re.compile(r"'hltv/maps/committed': (\d+)")


def _crawls(count: int, settings: dict[str, Any]) -> tuple[float, list[int]]:
    """Run ``count`` crawls at once; the longest crawl's time and each one's commits."""
    processes = []
    for n in range(count):
        options = {**settings, "HLTV_WORKER_ID": f"bench{n}"}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "perf_economy",
             *[item for name, value in options.items() for item in ("-s", f"{name}={value}")]],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        ))
    logs = [process.communicate()[1] for process in processes]
    for process, log in zip(processes, logs):
        if process.returncode != 0 or not _ELAPSED.search(log):
            raise SystemExit(f"a benchmark crawl failed ({process.returncode}):\n{log[-3000:]}")
    elapsed = max(float(_ELAPSED.findall(log)[-1]) for log in logs)
    return elapsed, [int((_COMMITTED.findall(log) or ["0"])[-1]) for log in logs]


def bench_several(work: Path, postgres: PostgresServer) -> dict[str, Any]:
    copies = data.plan(SLOW_MAPS)
    server = SlowServer({"performance": SLOW_DELAY, "economy": SLOW_DELAY}).start()
    runs = []
    try:
        for copy in copies:
            for page in ("performance", "economy"):
                server.script(page, copy.mapstatsid, Answer(body=small_page(page, copy.source)))
        for backend in ("postgresql", "sqlite"):
            for count in (1, 2, 4):
                location = postgres.new_database() if backend == "postgresql" else work / f"{count}.sqlite3"
                data.seed(location, copies)
                database = {"HLTV_DB_URL": location} if backend == "postgresql" else {"HLTV_DB_PATH": location}
                seconds, commits = _crawls(count, {
                    **database, "HLTV_BASE_URL": server.base_url, "HLTV_ARCHIVE": 0,
                    "HLTV_MAPS_IN_FLIGHT": 2, "CONCURRENT_REQUESTS": 2, "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "DOWNLOAD_DELAY": 0,
                    "AUTOTHROTTLE_ENABLED": 0, "LOG_LEVEL": "INFO", "LOGSTATS_INTERVAL": 0,
                })
                runs.append({"backend": backend, "crawls": count, "seconds": round(seconds, 2),
                             "maps_per_second": round(SLOW_MAPS / seconds, 2), "commits": commits})
    finally:
        server.stop()
    for run in runs:
        alone = next(r for r in runs if r["backend"] == run["backend"] and r["crawls"] == 1)
        run["speedup"] = round(run["maps_per_second"] / alone["maps_per_second"], 2)
    return {"maps": SLOW_MAPS, "page_delay_seconds": SLOW_DELAY, "concurrent_requests_per_crawl": 2,
            "runs": runs}


def print_several(r: dict[str, Any]) -> None:
    print(f"\n5. Several crawls on one database: {r['maps']} maps, pages answered after "
          f"{r['page_delay_seconds'] * 1000:.0f} ms, {r['concurrent_requests_per_crawl']} requests at "
          "a time per crawl")
    rows = [("database", "crawls", "time", "maps/s", "vs one crawl", "maps committed by each")]
    for run in r["runs"]:
        rows.append((run["backend"], str(run["crawls"]), f"{run['seconds']:.1f} s",
                     f"{run['maps_per_second']:.1f}", f"{run['speedup']:.2f}x",
                     " + ".join(map(str, run["commits"]))))
    table(rows)


def bench_processes(work: Path, count: int) -> dict[str, Any]:
    copies = data.plan(count)
    archive = work / "archive"
    data.build_archive(archive, copies)
    runs = {}
    for processes in (1, 2):
        db = work / f"{processes}.sqlite3"
        data.seed(db, copies)
        started = time.perf_counter()
        seconds, commits = _crawls(processes, {
            "HLTV_DB_PATH": db, "HLTV_ARCHIVE_DIR": archive, "HLTV_REPLAY": 1,
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": 0, "CONCURRENT_REQUESTS": 32,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "HLTV_MAPS_IN_FLIGHT": 32,
            "LOG_LEVEL": "INFO", "LOGSTATS_INTERVAL": 0,
        })
        runs[processes] = {"seconds": round(seconds, 2), "wall_seconds": round(time.perf_counter() - started, 2),
                           "maps_per_second": round(count / seconds, 2), "commits": commits}
    return {"maps": count, "runs": runs,
            "speedup": round(runs[2]["maps_per_second"] / runs[1]["maps_per_second"], 2)}


def print_processes(r: dict[str, Any]) -> None:
    print(f"\n6. Offline re-parse from the archive (HLTV_REPLAY=1), {r['maps']} maps, one SQLite file")
    rows = [("processes", "time", "maps/s", "maps committed by each")]
    for processes, run in r["runs"].items():
        rows.append((str(processes), f"{run['seconds']:.1f} s", f"{run['maps_per_second']:.1f}",
                     " + ".join(map(str, run["commits"]))))
    table(rows)
    print(f"   2 processes against 1: {r['speedup']:.2f}x")


def table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("   " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("   " + "  ".join("-" * width for width in widths))
    sys.stdout.flush()
