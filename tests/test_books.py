"""The books stay right under faults: a writer that crashes, leases that cross on
PostgreSQL, a lease renewal that fails, a crawl that runs long, a database connection
that drops."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError

from hltv_scraper.items import PerfEconomyPages
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import AlreadyStored, Database
from tests.support.crawl import run_crawl
from tests.support.pages import load_page
from tests.support.seed import rows, seed_scoreboard

MAP = 188093
STAGE = STAGES["perf_economy"]


def perf_economy_pages(mapstatsid: int) -> PerfEconomyPages:
    return PerfEconomyPages(
        performance=parse_performance(load_page(f"performance-{mapstatsid}")),
        economy=parse_economy(load_page(f"economy-{mapstatsid}")),
    )


def wait_for_a_lock_wait(url: str, timeout: float = 10) -> None:
    """Until some session of this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url.replace("postgresql://", "postgresql://", 1), autocommit=True) as watcher:
        while True:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'").fetchone()[0]
            if waiting:
                return
            assert time.monotonic() < deadline, "the save never waited for the row lock"
            time.sleep(0.01)


def _leased_by_a_taken_over_by_b(postgres) -> tuple[str, psycopg.Connection]:
    """A map crawl A leased, and crawl B taking it over (A's lease lapsed) in a
    transaction not yet committed: the database and B's connection."""
    url = postgres.new_database()
    seed_scoreboard(url, MAP)
    with Database.open(url) as db:
        db.claim_named(STAGE, [MAP], worker="a", lease_seconds=600)
    other = psycopg.connect(url)
    other.execute("UPDATE maps SET lease_worker = 'b', lease_expires = "
                  "extract(epoch FROM now()) + 600 WHERE mapstatsid = %s", (MAP,))
    return url, other


def test_a_save_on_postgresql_locks_the_unit_row_and_leaves_a_lease_taken_over(postgres):
    url, other = _leased_by_a_taken_over_by_b(postgres)
    outcome: list[object] = []

    def save() -> None:
        with Database.open(url) as db:
            try:
                outcome.append(db.save(STAGE, MAP, perf_economy_pages(MAP), parser_version="t",
                                       check=STAGE.check, worker="a", overwrite=False))
            except AlreadyStored as exc:
                outcome.append(exc)

    saving = threading.Thread(target=save)
    saving.start()
    wait_for_a_lock_wait(url)  # A's save waits for B's transaction
    other.commit()
    other.close()
    saving.join(timeout=30)

    # A read the row only once B's lease was there: it stored nothing over it
    assert len(outcome) == 1 and isinstance(outcome[0], AlreadyStored), outcome
    assert rows(url, "SELECT lease_worker, perf_economy_at FROM maps WHERE mapstatsid = ?", MAP) == [("b", None)]


def test_a_failure_on_postgresql_locks_the_unit_row_too(postgres):
    url, other = _leased_by_a_taken_over_by_b(postgres)
    counted: list[bool] = []

    def fail() -> None:
        with Database.open(url) as db:
            counted.append(db.record_failure(STAGE, MAP, failures=[("performance", "broken", None)],
                                             parser_version="t", worker="a"))

    failing = threading.Thread(target=fail)
    failing.start()
    wait_for_a_lock_wait(url)
    other.commit()
    other.close()
    failing.join(timeout=30)

    assert counted == [False]  # B holds it: A's failure is not counted on it
    assert rows(url, "SELECT perf_attempts, lease_worker FROM maps WHERE mapstatsid = ?", MAP) == [(0, "b")]
    assert rows(url, "SELECT count(*) FROM failures") == [(0,)]


@pytest.mark.both_backends
def test_a_save_clears_only_its_own_lease(database):
    seed_scoreboard(database, MAP)
    with Database.open(database) as db:
        db.claim_named(STAGE, [MAP], worker="b", lease_seconds=-5)  # B's lease lapsed
        db.save(STAGE, MAP, perf_economy_pages(MAP), parser_version="t",
                check=STAGE.check, worker="a", overwrite=False)
    # stored, and the lease is still B's to give back: not this save's
    assert rows(database, "SELECT lease_worker FROM maps WHERE mapstatsid = ? AND perf_economy_at IS NOT NULL",
                MAP) == [("b",)]
    seed_scoreboard(database, 219128)
    with Database.open(database) as db:
        db.claim_named(STAGE, [219128], worker="a", lease_seconds=60)
        db.save(STAGE, 219128, perf_economy_pages(219128), parser_version="t",
                check=STAGE.check, worker="a", overwrite=False)
    assert rows(database, "SELECT lease_worker, lease_expires FROM maps WHERE mapstatsid = 219128") == [(None, None)]


@pytest.mark.slow
def test_a_writer_that_crashes_on_every_map_stops_the_crawl_as_a_layout_change(
    server, database, crawl_settings, monkeypatch
):
    from tests.support.truth import ALL_MAPS

    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)

    def crashing_check(pages, rows):
        raise KeyError("a team name this code has never seen")

    from hltv_scraper.spiders.stages import PerfEconomySpider

    monkeypatch.setattr(PerfEconomySpider, "stage", replace(STAGE, check=crashing_check))
    settings = {**crawl_settings, "HLTV_MAX_PARSE_FAILURES": 3, "HLTV_MAPS_IN_FLIGHT": 1, "CONCURRENT_REQUESTS": 2}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "hltv_layout_changed"
    assert result.stat("hltv/maps/requested") < len(ALL_MAPS)  # it stopped early
    assert "storage error: KeyError" in result.stats["hltv/stopped_because"]
    # not one map paid an attempt for the writer's bug
    assert rows(database, "SELECT DISTINCT perf_attempts FROM maps") == [(0,)]
    assert rows(database, "SELECT count(*) FROM failures")[0][0] >= 3


@pytest.mark.slow
def test_the_claims_exclusion_list_stays_bounded(server, database, crawl_settings, monkeypatch):
    from hltv_scraper.ledger import sources
    from tests.support.server import Answer
    from tests.support.truth import ALL_MAPS

    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
    failing, held = ALL_MAPS[:6], ALL_MAPS[-1]
    for mapstatsid in failing:
        server.script("performance", mapstatsid, Answer(status=404, body=b"not found"))
    with Database.open(database) as db:  # another crawl holds one map: this one sweeps again for it
        db.claim_named(STAGE, [held], worker="other", lease_seconds=600)
    monkeypatch.setattr(sources, "EXCLUDE_MOST", 2, raising=False)
    excluded: list[int] = []
    claim = Database.claim

    def claim_counting_exclusions(self, stage, **kwargs):  # the real claim, its exclusions counted
        excluded.append(len(kwargs.get("exclude", ())))
        return claim(self, stage, **kwargs)

    monkeypatch.setattr(Database, "claim", claim_counting_exclusions)

    # it waits for the other crawl's lease one lease period of its own, sweeping again
    result = run_crawl("perf_economy", {**crawl_settings, "HLTV_MAPS_IN_FLIGHT": 1, "HLTV_LEASE_SECONDS": 1})

    assert result.close_reason == "finished"
    assert excluded.count(2) >= 2, excluded  # the sweeps again skipped its six failures two at a time
    assert max(excluded) == 2, excluded  # never more than EXCLUDE_MOST
    assert result.stat("hltv/maps/committed") == len(ALL_MAPS) - len(failing) - 1
    assert all(server.requests[("performance", mapstatsid)] == 1 for mapstatsid in failing)


# -- the PostgreSQL server going away ----------------------------------------------------


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of the test's own, to restart or stop under a crawl."""
    from tests.support.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


def crawl_in_thread(name: str, settings: dict) -> tuple[threading.Thread, list]:
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(run_crawl(name, settings)))
    thread.start()
    return thread, outcome


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the crawl never got there"
        time.sleep(0.02)


@pytest.mark.slow
def test_after_a_server_restart_reads_and_transactions_go_on_on_a_new_connection(own_postgres):
    url = own_postgres.new_database()
    seed_scoreboard(url, MAP)
    with Database.open(url) as db:
        own_postgres.restart()
        assert db.leases([STAGE]) == []  # a read, outside any transaction
        assert db.sql.value("SHOW jit") == "off"  # the new connection's settings too
        own_postgres.restart()
        assert [unit.id for unit in db.claim(STAGE, worker="a", lease_seconds=60, max_attempts=3)] == [MAP]
        db.reopen_seconds = 1  # (15 s by default)
        own_postgres.halt()
        try:  # a server that stays away is an error, not a loop
            with pytest.raises(DBAPIError):
                db.leases([STAGE])
        finally:
            own_postgres.resume()


@pytest.mark.slow
def test_a_server_restart_during_a_crawl_opens_the_connection_again_and_loses_no_map(
    own_postgres, server, tmp_path, caplog
):
    from tests.support.server import Answer
    from tests.support.truth import ALL_MAPS

    url = own_postgres.new_database()
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(url, mapstatsid)
    server.script_all(Answer(delay=0.3))
    settings = {"HLTV_DB_URL": url, "HLTV_BASE_URL": server.base_url, "HLTV_ARCHIVE_DIR": str(tmp_path / "a"),
                "HLTV_MAPS_IN_FLIGHT": 2, "CONCURRENT_REQUESTS": 2}

    def committed() -> int:
        return rows(url, "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL")[0][0]

    thread, outcome = crawl_in_thread("perf_economy", settings)
    wait_until(lambda: committed() >= 2)  # a commit count, not a moment
    own_postgres.restart()
    thread.join(timeout=120)

    (result,) = outcome
    assert result.close_reason == "finished", result.stats.get("hltv/stopped_because")
    assert committed() == len(ALL_MAPS)
    assert result.stat("hltv/maps/committed") == len(ALL_MAPS)
    assert any("was lost; opened it again" in message for message in caplog.messages)


@pytest.mark.slow
def test_a_lease_renewal_that_fails_stops_the_crawl_before_the_leases_lapse(own_postgres, server, tmp_path, caplog):
    from tests.support.server import Answer
    from tests.support.truth import ALL_MAPS

    url = own_postgres.new_database()
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(url, mapstatsid)
    server.script_all(Answer(delay=4))  # pages slow to come: the leases need renewing
    settings = {"HLTV_DB_URL": url, "HLTV_BASE_URL": server.base_url, "HLTV_ARCHIVE_DIR": str(tmp_path / "a"),
                "HLTV_LEASE_SECONDS": 3, "HLTV_MAPS_IN_FLIGHT": 2, "CONCURRENT_REQUESTS": 2}

    thread, outcome = crawl_in_thread("perf_economy", settings)
    wait_until(lambda: sum(server.requests.values()) >= 1)
    own_postgres.halt()  # the database is gone and stays gone: no connection can be opened
    try:
        thread.join(timeout=60)
        (result,) = outcome
    finally:
        own_postgres.resume()

    assert result.close_reason == "hltv_database_error"
    # it stopped at the next renewal (every third of the lease), not when a page came in
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors and "The leases of the units in flight could not be renewed; stopping the crawl" in errors[0], errors
