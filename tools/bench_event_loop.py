"""What a crawl's database calls cost Scrapy's event loop while another crawl writes.

Database calls run on the event loop: while one waits for SQLite's write lock, held by
another crawl committing a map, no page is parsed, no request leaves, no lease is
renewed. This measures that wait: an offline re-parse (``HLTV_REPLAY=1``, no delay, so
it commits as fast as it can) writes into one SQLite file, and meanwhile this process
makes the calls a crawl makes on the event loop (renewing the leases of 16 maps in
flight, claiming, the progress line's counts), timing each.

    .venv/bin/python tools/bench_event_loop.py [--maps 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hltv_scraper.stages import STAGES  # noqa: E402
from hltv_scraper.storage import Database  # noqa: E402
from tools import _bench_data as data  # noqa: E402

STAGE = STAGES["perf_economy"]

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hltv-loop-") as folder:
        work = Path(folder)
        copies = data.plan(options.maps)
        database = work / "hltv.sqlite3"
        data.seed(database, copies)
        data.build_archive(work / "archive", copies)
        writer = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "perf_economy",
             "-s", f"HLTV_DB_PATH={database}", "-s", f"HLTV_ARCHIVE_DIR={work / 'archive'}",
             "-s", "HLTV_REPLAY=1", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
             "-s", "HLTV_WORKER_ID=writer", "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        timings: dict[str, list[float]] = {"renew 16 leases": [], "claim 16 units": [], "progress counts": []}
        try:
            with Database.open(database) as db:
                mine = [copy.mapstatsid for copy in copies[-16:]]
                db.claim_named(STAGE, mine, worker="me", lease_seconds=600)
                time.sleep(2)  # the writer is committing by now
                end = time.monotonic() + options.seconds
                while time.monotonic() < end and writer.poll() is None:
                    timings["renew 16 leases"].append(_timed(
                        lambda: db.renew(STAGE, mine, worker="me", lease_seconds=600)))
                    timings["claim 16 units"].append(_timed(lambda: db.release_all(
                        STAGE, worker="me2") or db.claim(
                        STAGE, worker="me2", lease_seconds=600, max_attempts=3, limit=16)))
                    timings["progress counts"].append(_timed(lambda: db.pending_counts(STAGES.values(), max_attempts=3)))
                    time.sleep(0.05)
                committed = db.summary(STAGES.values())["maps with performance and economy"]
        finally:
            writer.terminate()
            writer.wait()
    print(f"while another crawl commits maps as fast as it can ({options.maps} maps, committed so far: {committed}):")
    for name, values in timings.items():
        values.sort()
        if not values:
            continue
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"  {name:<16} {len(values):>5} calls  median {statistics.median(values) * 1000:7.1f} ms  "
              f"p99 {p99 * 1000:7.1f} ms  max {values[-1] * 1000:7.1f} ms")


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
