"""The bench's tools still run: nothing else calls them, and twice a change of the
storage API left them failing at their first call. Small sizes, and what is asserted is
what the code decided (round trips counted on the wire, maps committed), never a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / tool), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_the_commit_section_counts_round_trips_on_the_wire(tmp_path):
    figures = tmp_path / "bench-results.json"
    run("bench.py", "--only", "sqlite", "--sqlite-maps", "20", "--json", str(figures))
    results = json.loads(figures.read_text())
    assert results["sqlite"]["maps"] == results["postgresql"]["maps"] == 20
    assert results["postgresql"]["round_trips"] == {"claim": 3.0, "renewal": 1.0, "commit": 2.0}


@pytest.mark.slow
def test_the_event_loop_bench_times_each_call_while_another_crawl_commits():
    out = run("bench_event_loop.py", "--maps", "40", "--seconds", "1").stdout
    for call in ("renew 16 leases", "claim 16 units", "progress counts"):
        assert call in out
