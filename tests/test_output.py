"""A full disk or a closed pipe: one line and exit 1, or a quiet end; never a traceback.

The full disk is real: a tmpfs of 64 KiB mounted for the test (the suite runs as root;
where mounting is not allowed the file tests are skipped), and ``/dev/full`` for the
standard output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 KiB file system: the demo's export does not fit in it."""
    disk = tmp_path / "small"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def scrapy(*args: str, database: Path, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([SCRAPY, *args, "-s", f"HLTV_DB_PATH={database}"], cwd=ROOT, stdout=stdout,
                          stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("file_format", "file"), [
    ("csv", r"\w+\.csv"), ("jsonl", r"\w+\.jsonl"), ("parquet", r"\w+\.parquet"), ("duckdb", r"hltv\.duckdb"),
])
def test_an_export_onto_a_full_disk_is_one_line_and_leaves_nothing(demo_sqlite, small_disk, file_format, file):
    out = small_disk / "export"
    done = scrapy("export", "--out", str(out), "--format", file_format, database=demo_sqlite)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.splitlines()[-1]
    assert re.fullmatch(f"scrapy export: cannot write {re.escape(str(out))}/{file}: no space left on device", last)
    assert list(small_disk.iterdir()) == []  # no partial file, not even the folder it made


def test_a_report_onto_a_full_disk_is_one_line_and_leaves_nothing(demo_sqlite, small_disk):
    filler = small_disk / "filler"
    with filler.open("wb", buffering=0) as handle:  # fill the disk, then free less than the report takes
        try:
            while True:
                handle.write(b"x" * 4096)
        except OSError:
            pass
    os.truncate(filler, filler.stat().st_size - 8192)
    out = small_disk / "report.html"
    done = scrapy("report", "--out", str(out), database=demo_sqlite)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == f"scrapy report: cannot write {out}: no space left on device"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_summary_into_a_full_disk_is_one_line(demo_sqlite):
    with open("/dev/full", "w") as full:
        done = scrapy("summary", database=demo_sqlite, stdout=full)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr.splitlines()[-1] == "scrapy summary: cannot write the standard output: no space left on device"


@pytest.mark.parametrize("command", [["summary"], ["export", "--format", "csv", "--out", "{out}"]])
def test_output_into_a_closed_pipe_ends_quietly(demo_sqlite, tmp_path, command):
    args = [arg.format(out=tmp_path / "export") for arg in command]
    # the reader takes one line and leaves, as `| head -1` does
    reader = subprocess.Popen([SCRAPY, *args, "-s", f"HLTV_DB_PATH={demo_sqlite}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    first = reader.stdout.readline()
    reader.stdout.close()
    errors = reader.stderr.read()
    assert reader.wait(timeout=60) == 0, errors
    assert first.startswith(("Database ", "Exported "))
    assert errors.splitlines() == [f"Database: {demo_sqlite}; archive: {ROOT / 'data' / 'archive'}"]
    if command[0] == "export":
        assert (tmp_path / "export" / "player_maps.csv").is_file()  # the export itself is whole
