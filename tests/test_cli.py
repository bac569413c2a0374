"""`scrapy crawl` as a user runs it: a subprocess on the production path (asyncio
reactor, Scrapy's HTTP/1.1 handler), its exit code, its closing summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.seed import rows, seed_scoreboard
from tests.support.truth import assert_matches_truth

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def crawl(*args: str, settings: dict) -> subprocess.CompletedProcess:
    options = [item for name, value in settings.items() for item in ("-s", f"{name}={value}")]
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", *args, *options,
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )


def test_scrapy_crawl_commits_and_says_so(server, database, crawl_settings):
    seed_scoreboard(database, 206389)
    seed_scoreboard(database, 188093)

    result = crawl("perf_economy", settings=crawl_settings)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "perf_economy finished (finished): 2 maps requested, 2 committed, 0 failed" in result.stderr
    assert "'hltv/maps/committed': 2" in result.stderr
    assert_matches_truth(database, 206389)
    assert_matches_truth(database, 188093)


def test_an_unknown_mapstatsid_is_a_clear_error(server, database, crawl_settings):
    seed_scoreboard(database, 188093)

    result = crawl("perf_economy", "-a", "mapstatsid=188093,4242", settings=crawl_settings)

    assert result.returncode != 0
    assert "mapstatsid 4242 not in the database" in result.stderr
    assert rows(database, "SELECT count(*) FROM player_stats WHERE kpr IS NOT NULL") == [(0,)]
    assert sum(server.requests.values()) == 0


@pytest.mark.parametrize("argument", ["limit=0", "limit=many", "mapstatsid=12,x"])
def test_bad_spider_arguments_are_refused(database, crawl_settings, argument):
    result = crawl("perf_economy", "-a", argument, settings=crawl_settings)

    assert result.returncode != 0
    assert argument.split("=")[0] in result.stderr


@pytest.mark.parametrize(
    ("spider", "argument", "says"),
    [
        ("perf_economy", "limit=abc", "-a limit= takes a whole number, got 'abc'"),
        ("results", "since=2026-13-45", "-a since= takes a day as YYYY-MM-DD, got '2026-13-45'"),
        ("map_stats", "reparse=yes", "-a reparse= takes only 'stale'"),
        ("perf_economy", "lmit=5", "-a lmit= is not an argument of perf_economy"),
        ("results", "limit=5", "-a limit= is not an argument of results"),
    ],
)
def test_a_bad_argument_says_so_and_creates_no_database(tmp_path, spider, argument, says):
    database = tmp_path / "new" / "hltv.sqlite3"

    result = crawl(spider, "-a", argument, settings={"HLTV_DB_PATH": database,
                                                     "HLTV_BASE_URL": "http://127.0.0.1:9"})

    assert result.returncode != 0
    assert says in result.stderr, result.stderr[-2000:]
    assert not database.exists() and not database.parent.exists()
