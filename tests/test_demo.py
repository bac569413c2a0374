"""`make demo` (tools/demo.py) as a new user runs it: it ends with the dataset exported
and the report written, and says where they are."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from parsel import Selector

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
        assert f"The dataset: {workdir}/export/ (player_maps.parquet and one file per table)" in lines
        assert f"The report:  {workdir}/report.html (open it in a browser)" in lines
        player_maps = pq.read_table(ROOT / workdir / "export" / "player_maps.parquet")
        assert player_maps.num_rows == 10 * 10  # ten players on each of the ten maps
        report = Selector(text=(ROOT / workdir / "report.html").read_text("utf-8"))
        assert report.css("#chart-economy") and report.css("#chart-kill-matrix")
    finally:
        shutil.rmtree(ROOT / workdir, ignore_errors=True)
