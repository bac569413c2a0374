"""`scrapy requeue`: failed units pending again by hand, chosen by stage, reason and id."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.crawl import database_settings
from tests.support.seed import rows

ROOT = Path(__file__).resolve().parent.parent
NO_SCOREBOARD = "mapstats: no scoreboard (table.stats-table)"


def fail(db: Database, stage: str, unit_id: int, reason: str, times: int = 1) -> None:
    page = "match" if stage == "matches" else "mapstats"
    for _ in range(times):
        db.record_failure(STAGES[stage], unit_id, failures=[(page, reason, None)], parser_version="1.0")


def attempts(database) -> dict[int, int]:
    return dict(rows(database, "SELECT mapstatsid, mapstats_attempts FROM maps"))


@pytest.fixture
def failed(database):
    """Maps 11, 12, 13 of match 1 and 21 of match 2; every map but 13 has failed."""
    db = Database.open(database)
    try:
        db.add_maps([(1, 1, 11), (1, 2, 12), (1, 3, 13), (2, 1, 21)])
        fail(db, "map_stats", 11, NO_SCOREBOARD, times=3)
        fail(db, "map_stats", 12, NO_SCOREBOARD, times=2)
        # attempts come a crawl apart, not within the second
        db.sql.run("UPDATE failures SET failed_at = '2025-01-01T00:00:00+00:00'")
        fail(db, "map_stats", 12, "mapstats: player 5 has deaths 99 in a 17-round map")  # its latest
        fail(db, "map_stats", 21, NO_SCOREBOARD)
        yield db
    finally:
        db.close()


@pytest.mark.both_backends
def test_requeue_by_the_latest_reason_by_id_and_by_match(failed, database):
    db = failed
    assert attempts(database) == {11: 3, 12: 3, 13: 0, 21: 1}
    assert db.count_pending(STAGES["map_stats"], max_attempts=3, parser_version="1.0") == 2

    assert db.requeue(STAGES["map_stats"], reason="No Scoreboard") == [11, 21]  # 12 failed otherwise last
    assert attempts(database) == {11: 0, 12: 3, 13: 0, 21: 0}
    assert rows(database, "SELECT mapstats_attempts_version FROM maps WHERE mapstatsid = 11") == [(None,)]
    assert db.requeue(STAGES["map_stats"], reason="no scoreboard") == []  # nothing failed is left
    assert db.requeue(STAGES["map_stats"], reason="%") == []  # a literal %, not a wildcard
    assert db.requeue(STAGES["map_stats"], reason="17-round") == [12]

    fail(db, "map_stats", 11, NO_SCOREBOARD)
    fail(db, "map_stats", 21, NO_SCOREBOARD)
    assert db.requeue(STAGES["map_stats"], match_ids=[2]) == [21]
    assert db.requeue(STAGES["map_stats"], unit_ids=[12, 11]) == [11]
    assert db.count_pending(STAGES["map_stats"], max_attempts=1, parser_version="1.0") == 4


@pytest.mark.both_backends
def test_ids_not_in_the_database_requeue_nothing(failed, database):
    db = failed
    with pytest.raises(KeyError) as missing:
        db.requeue(STAGES["map_stats"], unit_ids=[11, 999, 998])
    assert missing.value.args == ("mapstatsid", [999, 998])
    with pytest.raises(KeyError):
        db.requeue(STAGES["map_stats"], match_ids=[1, 3])
    assert attempts(database) == {11: 3, 12: 3, 13: 0, 21: 1}


def test_requeue_a_failed_match(database):
    db = Database.open(database)
    try:
        db.add_matches([(7, None), (8, None)])
        fail(db, "matches", 7, "match: no .teamsBox", times=2)
        assert db.requeue(STAGES["matches"], unit_ids=[8]) == []  # never failed
        assert db.requeue(STAGES["matches"]) == [7]
    finally:
        db.close()
    assert rows(database, "SELECT match_id, match_attempts FROM matches ORDER BY 1") == [(7, 0), (8, 0)]


def scrapy(*args: str, database) -> subprocess.CompletedProcess:
    settings = [item for name, value in database_settings(database).items() for item in ("-s", f"{name}={value}")]
    return subprocess.run([sys.executable, "-m", "scrapy", *args, *settings],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_scrapy_requeue_says_what_it_did_and_refuses_what_it_cannot_do(failed, database):
    done = scrapy("requeue", "--stage", "map_stats", "--reason", "scoreboard", "--mapstatsid", "11", "12,21",
                  database=database)
    assert done.returncode == 0, done.stderr
    assert "2 failed maps pending again for map_stats: 11, 21" in done.stdout
    assert attempts(database) == {11: 0, 12: 3, 13: 0, 21: 0}

    for arguments, error in [
        (("--stage", "results"), "--stage must be one of matches, map_stats, perf_economy"),
        (("--stage", "map_stats", "--mapstatsid", "12", "404"), "mapstatsid 404 not in the database"),
        (("--stage", "matches", "--mapstatsid", "12"), "name them with --match-id"),
    ]:
        refused = scrapy("requeue", *arguments, database=database)
        assert refused.returncode != 0
        assert error in refused.stderr, refused.stderr
    assert attempts(database) == {11: 0, 12: 3, 13: 0, 21: 0}
