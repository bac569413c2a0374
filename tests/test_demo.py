"""`make demo` (tools/demo.py) as a new user runs it: it ends with the dataset exported
and the report written, and says where they are."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from parsel import Selector

from tools.demo import SYNTHETIC

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_demo_ends_with_the_export_and_the_report():
    workdir = Path("data") / f"demo-test-{os.getpid()}"  # the demo's paths are inside the project
    try:
        done = subprocess.run(
            [sys.executable, "tools/demo.py", "--workdir", str(workdir)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stdout[-3000:]
        lines = done.stdout.splitlines()
        assert (f"The dataset: {workdir}/export/ (player_maps.parquet and one file per table and view;"
                f" all of them in {workdir}/export/hltv.duckdb)") in lines
        assert f"The report:  {workdir}/report.html (open it in a browser)" in lines
        player_maps = pq.read_table(ROOT / workdir / "export" / "player_maps.parquet")
        assert player_maps.num_rows == 10 * 10  # ten players on each of the ten maps
        with duckdb.connect(str(ROOT / workdir / "export" / "hltv.duckdb"), read_only=True) as analyst:
            assert analyst.execute("SELECT count(*) FROM kill_pairs").fetchall() == [(2 * 750,)]  # both directions
        report = Selector(text=(ROOT / workdir / "report.html").read_text("utf-8"))
        assert report.css("#chart-economy") and report.css("#chart-kill-matrix")

        # it tells the truth: what the data is, why matches stay pending
        assert lines[0] == SYNTHETIC
        assert ("15 matches stay pending by design: the bundled results page lists them, but their "
                "pages are not bundled, and a replay counts a page missing from the archive as a "
                "fetch failure (the logs' \"left pending by fetch failures\"). A live crawl would "
                "fetch them.") in lines
        # the commands it echoes are the ones it ran, ready to copy: the crawl replays the
        # bundled archive (copied, it stays offline), and the others run as shown
        echoed = [line[2:] for line in lines if line.startswith("$ ")]
        assert [shlex.split(line)[1] for line in echoed] == ["collect", "export", "export", "report"]
        collect = shlex.split(echoed[0])
        assert collect[1:4] == ["collect", "--pages", "1"]
        assert {"HLTV_REPLAY=1", "HLTV_ARCHIVE_DIR=fixtures/archive", f"HLTV_DB_PATH={workdir}/hltv.sqlite3"} <= set(collect)
        (ROOT / workdir / "report.html").unlink()
        copied = subprocess.run(echoed[-1], shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert copied.returncode == 0, copied.stderr[-2000:]
        assert (ROOT / workdir / "report.html").is_file()
    finally:
        shutil.rmtree(ROOT / workdir, ignore_errors=True)
