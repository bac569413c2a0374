"""The project's commands, run as a user runs them: `scrapy <command>` in the project folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hltv_scraper.storage import Database
from hltv_scraper.storage._schema import migrations, schema_version
from tests.support.crawl import database_settings
from tests.support.schema import sqlite_at_version
from tests.support.seed import rows

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.both_backends


def scrapy(*args: str, database: Path | str) -> subprocess.CompletedProcess:
    settings = [item for name, value in database_settings(database).items() for item in ("-s", f"{name}={value}")]
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args, *settings],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_initdb_creates_and_is_safe_to_repeat(database):
    first = scrapy("initdb", database=database)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial.sql" in first.stdout
    again = scrapy("initdb", database=database)
    assert again.returncode == 0 and "already up to date" in again.stdout
    db = Database.open(database)
    try:
        assert schema_version(db.connection) == len(migrations())
    finally:
        db.close()


@pytest.mark.slow
def test_addmaps_one_map_and_a_csv(database, tmp_path):
    single = scrapy("addmaps", "--match-id", "2389951", "--map-number", "1", "--mapstatsid", "219128", database=database)
    assert single.returncode == 0, single.stderr
    assert "1 maps added" in single.stdout
    csv = tmp_path / "maps.csv"
    csv.write_text("match_id,map_number,mapstatsid\n2389951,1,219128\n2389951,2,219131\n")
    many = scrapy("addmaps", "--csv", str(csv), database=database)
    assert many.returncode == 0, many.stderr
    assert "1 maps added, 1 already known" in many.stdout
    assert rows(database, "SELECT match_id, map_number, mapstatsid FROM maps ORDER BY 3") == [
        (2389951, 1, 219128), (2389951, 2, 219131)]


@pytest.mark.slow
def test_a_bad_csv_imports_nothing_and_names_its_lines(database, tmp_path):
    assert scrapy("addmaps", "--match-id", "1", "--map-number", "1", "--mapstatsid", "1", database=database).returncode == 0
    csv = tmp_path / "maps.csv"
    csv.write_text(
        "match_id,map_number,mapstatsid\n"
        "2389951,1,219128\n"
        "2389951,two,219131\n"   # line 3: not a number
        "2389952,1,219128\n"     # line 4: mapstatsid already on line 2
        "2389953,1,\n"           # line 5: empty
    )
    result = scrapy("addmaps", "--csv", str(csv), database=database)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for line in ("line 3", "line 4", "line 5"):
        assert line in output
    assert "line 2:" not in output
    assert rows(database, "SELECT mapstatsid FROM maps") == [(1,)]


@pytest.mark.slow
def test_addmaps_without_a_full_map_is_a_usage_error(database):
    result = scrapy("addmaps", "--match-id", "1", database=database)
    assert result.returncode != 0
    assert "--map-number" in result.stdout + result.stderr


def test_a_command_says_it_migrates_an_older_database_before_it_does(tmp_path):
    """A command has no log of its own: its word that it migrates (which can take a
    minute) goes to standard error, once, and not on the next run."""
    shipped = migrations("sqlite")
    database = sqlite_at_version(tmp_path / "older.sqlite3", len(shipped) - 1)  # one migration behind
    first = scrapy("summary", database=database)
    assert first.returncode == 0, first.stderr
    assert f"Migrating the database: {shipped[-1][1]}" in first.stderr.splitlines()
    again = scrapy("summary", database=database)
    assert again.returncode == 0 and "Migrating" not in again.stderr
