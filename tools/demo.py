"""`make demo`: the whole chain on the bundled data, offline, from an empty database.

`scrapy collect --pages 1` replays results -> matches -> map_stats -> perf_economy from
the archive in fixtures/archive (the first results page, the match pages and the map
pages they lead to), then prints the summary; then the dataset in people's hands: its
export (Parquet) and the HTML report. Each step is the real command a user would type.
The listing names matches whose pages are not bundled: they stay pending, as a match
the site would not serve does.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="data/demo", help="where the demo database goes")
    args = parser.parse_args()
    workdir = (ROOT / args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    settings = [
        "-s", f"HLTV_DB_PATH={(workdir / 'hltv.sqlite3').relative_to(ROOT)}",
        "-s", "HLTV_ARCHIVE_DIR=fixtures/archive",
        "-s", "HLTV_REPLAY=1",
    ]
    # The whole chain, then the dataset in people's hands: files to load in pandas or
    # DuckDB, a page to open.
    export_dir, report = workdir / "export", workdir / "report.html"
    steps = [
        ["collect", "--pages", "1"],
        ["export", "--format", "parquet", "--out", str(export_dir.relative_to(ROOT))],
        ["report", "--out", str(report.relative_to(ROOT))],
    ]
    scrapy = [sys.executable, "-m", "scrapy"]
    for step in steps:
        print(f"\n$ scrapy {' '.join(step)}", flush=True)
        done = subprocess.run(
            scrapy + step + settings, cwd=ROOT, check=False, capture_output=True, text=True
        )
        print(done.stdout, end="")
        # A crawl's log is long: show its warnings, errors and closing summary.
        for line in done.stderr.splitlines():
            if any(mark in line for mark in (" ERROR: ", " CRITICAL: ", " finished (")):
                print(line)
        if done.returncode != 0:
            print(done.stderr[-3000:])
            print(f"demo: `scrapy {' '.join(step)}` failed with exit code {done.returncode}")
            return done.returncode
    print(f"\nThe dataset: {export_dir.relative_to(ROOT)}/ (player_maps.parquet and one file per table)")
    print(f"The report:  {report.relative_to(ROOT)} (open it in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
