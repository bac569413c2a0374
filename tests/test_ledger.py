"""The unit ledger: every unit a crawl claimed lands in one bucket of its closing line;
validation failures feed the layout brake; the progress line counts the chain rarely and
says whose leases a crawl waits for."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from hltv_scraper.parsers import current_parser_version
from hltv_scraper.extensions import Progress
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.crawl import run_crawl
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import Answer, page_bytes
from tests.support.pages import restyled_performance
from tests.support.truth import ALL_MAPS, assert_matches_truth

BUCKETS = ("committed", "already_stored", "failed", "not_written", "fetch_failed", "dropped_incomplete", "not_reached")
CLOSING = re.compile(
    r"perf_economy finished \((\w+)\): (\d+) maps requested, (\d+) committed, (\d+) failed, (\d+) left pending "
    r"by fetch failures, (\d+) incomplete units dropped, (\d+) already stored, (\d+) not written, "
    r"(\d+) not reached \(of (\d+) claimed\)"
)
#: Maps of different matches from 164779's: its economy page names neither of their teams.
OTHER_MATCHES = [188093, 206389, 219128]


def buckets(result, units: str = "maps") -> dict[str, int]:
    return {bucket: result.stat(f"hltv/{units}/{bucket}") for bucket in BUCKETS}


def closing_line(caplog) -> dict[str, int | str]:
    found = [m for m in map(CLOSING.search, caplog.messages) if m]
    assert found, caplog.messages[-5:]
    reason, *numbers = found[-1].groups()
    names = ("requested", "committed", "failed", "fetch_failed", "dropped_incomplete", "already_stored",
             "not_written", "not_reached", "claimed")
    return {"reason": reason, **dict(zip(names, map(int, numbers)))}


# -- counts that add up ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.both_backends
def test_every_claimed_map_is_in_one_bucket_of_the_closing_line(server, database, crawl_settings, caplog):
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
    server.script("economy", ALL_MAPS[0], Answer(status=404))  # left pending by a fetch failure
    server.script("performance", ALL_MAPS[1], Answer(body=restyled_performance(ALL_MAPS[1])))  # failed
    caplog.set_level(logging.INFO)

    result = run_crawl("perf_economy", crawl_settings)

    counted = buckets(result)
    assert counted["committed"] == len(ALL_MAPS) - 2
    assert counted["fetch_failed"] == 1 and counted["failed"] == 1
    assert sum(counted.values()) == result.stat("hltv/maps/claimed") == len(ALL_MAPS)
    line = closing_line(caplog)
    assert line["claimed"] == len(ALL_MAPS)
    assert sum(line[bucket] for bucket in BUCKETS) == line["claimed"]


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_crawl_stopped_by_a_brake_accounts_for_the_maps_it_never_reached(server, database, crawl_settings, caplog):
    """Eight maps named at once are all claimed; the layout brake stops the crawl after
    two: the rest were never reached, and the buckets still add up to eight."""
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
        server.script("performance", mapstatsid, Answer(body=restyled_performance(mapstatsid)))
    settings = {**crawl_settings, "HLTV_MAX_PARSE_FAILURES": 2, "HLTV_MAPS_IN_FLIGHT": 2, "CONCURRENT_REQUESTS": 2}
    caplog.set_level(logging.INFO)

    result = run_crawl("perf_economy", settings, mapstatsid=",".join(map(str, ALL_MAPS)))

    assert result.close_reason == "hltv_layout_changed"
    counted = buckets(result)
    assert result.stat("hltv/maps/claimed") == len(ALL_MAPS)
    assert counted["not_reached"] >= 1
    assert sum(counted.values()) == len(ALL_MAPS), counted
    line = closing_line(caplog)
    assert line["reason"] == "hltv_layout_changed"
    assert sum(line[bucket] for bucket in BUCKETS) == line["claimed"] == len(ALL_MAPS)


def test_log_lines_name_a_map_by_its_mapstatsid(server, database, crawl_settings, caplog):
    seed_scoreboard(database, 219128)
    server.script("economy", 219128, Answer(status=404))
    caplog.set_level(logging.INFO)

    run_crawl("perf_economy", crawl_settings)

    assert "Could not fetch the economy page of map 219128: http_404" in caplog.messages


# -- validation failures feed the layout brake -----------------------------------------


@pytest.mark.slow
@pytest.mark.both_backends
def test_maps_that_all_fail_a_cross_page_check_stop_the_crawl_and_lose_no_attempt(server, database, crawl_settings):
    for mapstatsid in OTHER_MATCHES:
        seed_scoreboard(database, mapstatsid)
        server.script("economy", mapstatsid, Answer(body=page_bytes("economy-164779")))
    settings = {**crawl_settings, "HLTV_MAX_PARSE_FAILURES": 2, "HLTV_MAPS_IN_FLIGHT": 1, "CONCURRENT_REQUESTS": 1}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "hltv_layout_changed"
    assert "economy page" in result.stats["hltv/stopped_because"]
    assert result.stat("hltv/maps/failed") == 2 and result.stat("hltv/maps/committed") == 0
    # on record, but no attempt counted: a check every map fails is the site's, not theirs
    assert rows(database, "SELECT count(DISTINCT mapstatsid) FROM failures WHERE page = 'economy'") == [(2,)]
    assert rows(database, "SELECT DISTINCT perf_attempts FROM maps") == [(0,)]


@pytest.mark.slow
def test_one_map_failing_a_check_still_costs_it_an_attempt(server, database, crawl_settings):
    for mapstatsid in OTHER_MATCHES:
        seed_scoreboard(database, mapstatsid)
    server.script("economy", OTHER_MATCHES[1], Answer(body=page_bytes("economy-164779")))
    settings = {**crawl_settings, "HLTV_MAX_PARSE_FAILURES": 2, "HLTV_MAPS_IN_FLIGHT": 1, "CONCURRENT_REQUESTS": 1}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "finished"
    assert result.stat("hltv/maps/failed") == 1
    assert rows(database, "SELECT perf_attempts FROM maps WHERE mapstatsid = ?", OTHER_MATCHES[1]) == [(1,)]
    assert_matches_truth(database, OTHER_MATCHES[0])


# -- the progress line ---------------------------------------------------------------------


class _Ledger:
    """What the progress line reads of a crawl's ledger: its database, config, stage,
    parser version."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.parser_version = current_parser_version()
        self.config = type("Config", (), {"max_attempts": 3})()
        self.stage = STAGES["perf_economy"]


def test_the_progress_line_counts_the_chain_in_the_database_only_now_and_then(tmp_path, monkeypatch):
    for mapstatsid in ALL_MAPS[:3]:
        seed_scoreboard(tmp_path / "hltv.sqlite3", mapstatsid)
    db = Database.open(tmp_path / "hltv.sqlite3")
    statements: list[str] = []
    run = db.sql._execute  # every statement passes here: count them, run them

    def counted(method, statement, params):
        statements.append(statement)
        return run(method, statement, params)

    db.sql._execute = counted
    progress = Progress.__new__(Progress)
    progress._chain, progress._chain_read_at, progress._committed_then = None, float("-inf"), 0
    clock = [1000.0]
    import hltv_scraper.extensions as extensions

    monkeypatch.setattr(extensions.time, "monotonic", lambda: clock[0])
    try:
        lines = []
        for interval in range(10):  # ten minutes of 60 s intervals
            clock[0] = 1000.0 + 60 * interval
            lines.append(progress.chain_left(_Ledger(db), committed=min(interval, 3)))
        counted_at_first = len(statements)
        clock[0] = 1000.0 + 60 * 10
        refreshed = progress.chain_left(_Ledger(db), committed=3)
    finally:
        db.close()

    assert counted_at_first == 1  # one combined count, at the first interval only
    assert len(statements) == 2  # and again after ten minutes
    assert lines[0].endswith("3 maps for performance/economy")
    # in between, the stage's own count falls by what this crawl committed
    assert lines[1].endswith("2 maps for performance/economy")
    assert lines[9].endswith("0 maps for performance/economy")
    assert refreshed.endswith("3 maps for performance/economy")  # nothing was committed really


@pytest.mark.slow
def test_a_crawl_waiting_for_a_dead_crawls_leases_says_so(server, database, crawl_settings, caplog):
    maps = ALL_MAPS[:2]
    for mapstatsid in maps:
        seed_scoreboard(database, mapstatsid)
    db = Database.open(database)
    try:  # a crawl that died elsewhere holding both maps, for ten minutes
        held = db.claim(STAGES["perf_economy"], worker="dead-worker", lease_seconds=600, max_attempts=3, limit=10)
    finally:
        db.close()
    assert [unit.id for unit in held] == maps
    caplog.set_level(logging.INFO)
    outcome: list = []
    crawling = threading.Thread(
        target=lambda: outcome.append(run_crawl("perf_economy", {**crawl_settings, "LOGSTATS_INTERVAL": 0.2})))
    crawling.start()

    # the test keeps the leases' clock: once the crawl says whom it waits for, they run out
    deadline = time.monotonic() + 60
    while not any("waiting for" in m for m in caplog.messages):
        assert time.monotonic() < deadline and crawling.is_alive(), caplog.messages[-10:]
        time.sleep(0.02)
    rows(database, "UPDATE maps SET lease_expires = lease_expires - 601 WHERE lease_worker = 'dead-worker'")
    crawling.join(timeout=60)

    (result,) = outcome
    assert result.stat("hltv/maps/committed") == 2
    waiting = [m for m in caplog.messages if "waiting for" in m]
    said = re.search(r"waiting for 2 leases held by worker dead-worker \(they expire in (\d+) s\)", waiting[0])
    assert said and 590 <= int(said[1]) <= 600, waiting[0]


# -- one connection ----------------------------------------------------------------------


def test_a_crawl_uses_one_database_connection(server, database, crawl_settings, monkeypatch):
    opened = []
    real = Database.open.__func__

    def counting(cls, *args, **kwargs):
        opened.append(args)
        return real(cls, *args, **kwargs)

    seed_scoreboard(database, 219128)
    monkeypatch.setattr(Database, "open", classmethod(counting))

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == 1
    assert len(opened) == 1

