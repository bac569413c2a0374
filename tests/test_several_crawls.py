"""Several crawls sharing one database: four on PostgreSQL, two on one SQLite file.

Each is a real ``scrapy crawl perf_economy`` process against a local server that answers
every page after ~200 ms (HLTV lets an address fetch slowly). Leased work must hand each
map to one crawl: every map committed exactly once, no page requested twice; a crawl
killed mid-run leaves leases that expire, and the others finish its maps.
"""

from __future__ import annotations

import re
import socket
import signal
import time
from pathlib import Path

import pytest

from tests.support.crawl import database_settings
from tests.support.crawl import run_crawl
from tests.support.pages import load_expected
from hltv_scraper.storage import Database
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import Answer, ClearanceGate
from tests.support.truth import ALL_MAPS
from tests.support.faults import Crawl, SlowServer, small_page
from tools import _bench_data as data

pytestmark = pytest.mark.slow
MAPS = 24
DELAY = 0.2
PAGES = ("performance", "economy")


def serve(copies: list[data.Copy]) -> SlowServer:
    server = SlowServer({page: DELAY for page in PAGES}).start()
    for copy in copies:
        for page in PAGES:
            server.script(page, copy.mapstatsid, Answer(body=small_page(page, copy.source)))
    return server


def settings(server: SlowServer, database, work: Path, **extra) -> dict:
    return {
        **database_settings(database),
        "HLTV_BASE_URL": server.base_url,
        "HLTV_ARCHIVE_DIR": str(work / "archive"),
        "HLTV_MAPS_IN_FLIGHT": 2,
        "CONCURRENT_REQUESTS": 2,
        **extra,
    }


def start_crawls(count: int, crawl_settings: dict, tmp_path: Path, *, named: bool = True) -> list[Crawl]:
    """``count`` crawls, named ``crawl0``... (else each with its default host-pid id)."""
    return [
        Crawl(settings={**crawl_settings, "HLTV_ARCHIVE_DIR": str(tmp_path / f"archive{n}"),
                        **({"HLTV_WORKER_ID": f"crawl{n}"} if named else {})})
        for n in range(count)
    ]


def run_together(count: int, crawl_settings: dict, tmp_path: Path) -> tuple[list[Crawl], float]:
    """The crawls, and the longest one's time from open to close (process start-up, which
    is most of a short test crawl and not what leases change, left out)."""
    crawls = start_crawls(count, crawl_settings, tmp_path)
    for crawl in crawls:
        assert crawl.finish(timeout=180) == 0, crawl.log[-3000:]
    return crawls, max(float(re.findall(r"'elapsed_time_seconds': ([\d.]+)", c.log)[-1]) for c in crawls)


def assert_every_map_whole_once(database, copies: list[data.Copy]) -> None:
    """Every map complete, with exactly its rows, no attempt spent, no failure."""
    truths = {copy.source: load_expected(copy.source) for copy in copies}
    assert rows(database, "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL") == [(len(copies),)]
    assert rows(database, "SELECT count(*) FROM kill_matrix") == [(sum(len(truths[c.source]["kill_matrix"]) for c in copies),)]
    assert rows(database, "SELECT count(*) FROM economy") == [(sum(len(truths[c.source]["economy"]) for c in copies),)]
    assert rows(database, "SELECT count(*) FROM player_stats WHERE kpr IS NULL AND rating_version = '3.0'") == [(0,)]
    assert rows(database, "SELECT max(perf_attempts) FROM maps") == [(0,)]
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]
    assert rows(database, "SELECT count(*) FROM maps WHERE lease_worker IS NOT NULL") == [(0,)]


def wait_for_leases(database, worker: str, *, committed: int, timeout: float = 60) -> int:
    """The number of leases ``worker`` (a LIKE pattern) holds, once it holds some and
    ``committed`` maps are stored: mid-crawl."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (held, stored), = rows(
            database,
            "SELECT (SELECT count(*) FROM maps WHERE lease_worker LIKE ?), "
            "(SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL)",
            worker,
        )
        if held and stored >= committed:
            return held
        time.sleep(0.01)
    raise AssertionError(f"{worker} never held a lease with {committed} maps stored")


@pytest.fixture(params=[("postgresql", 4), ("sqlite", 2)], ids=["postgresql-4", "sqlite-2"])
def shared(request, tmp_path):
    backend, count = request.param
    database = request.getfixturevalue("postgres").new_database() if backend == "postgresql" else tmp_path / "hltv.sqlite3"
    return database, count


def test_crawls_sharing_a_database_commit_each_map_once(shared, tmp_path):
    database, count = shared
    copies = data.plan(MAPS)
    server = serve(copies)
    try:
        data.seed(database, copies)
        crawls, together = run_together(count, settings(server, database, tmp_path), tmp_path)
        requests = dict(server.requests)
        # one crawl alone on the same work, for the comparison (reported, not asserted)
        solo_db = tmp_path / "solo.sqlite3"
        data.seed(solo_db, copies)
        _, alone = run_together(1, settings(server, solo_db, tmp_path / "solo"), tmp_path / "solo")
    finally:
        server.stop()

    committed = [crawl.stat("hltv/maps/committed") for crawl in crawls]
    assert sum(committed) == MAPS, committed
    assert all(crawl.stat("hltv/maps/already_stored") == 0 for crawl in crawls)
    assert all(n > 0 for n in committed), committed  # the work was shared
    assert set(requests.values()) == {1} and len(requests) == 2 * MAPS  # no page twice
    for crawl in crawls:
        assert " ERROR: " not in crawl.log, crawl.log[-3000:]
    assert_every_map_whole_once(database, copies)
    print(f"{count} crawls on one database: {together:.1f} s for {MAPS} maps (commits {committed}); "
          f"one crawl alone: {alone:.1f} s ({together / alone:.2f} of its time)")


def test_a_killed_crawls_maps_are_finished_by_the_others_on_this_host_at_once(shared, tmp_path):
    database, count = shared
    copies = data.plan(MAPS)
    server = serve(copies)
    try:
        data.seed(database, copies)
        # leases far longer than the test: the survivors free the killed crawl's units
        # because its process is gone, not because its leases ran out
        crawls = start_crawls(count, settings(server, database, tmp_path, HLTV_LEASE_SECONDS=600), tmp_path,
                              named=False)
        victim = crawls[0]
        victim_worker = f"{socket.gethostname()}-{victim.process.pid}-%"
        held = wait_for_leases(database, victim_worker, committed=MAPS // 4)  # its maps in flight
        victim.process.send_signal(signal.SIGKILL)
        assert victim.finish() == -signal.SIGKILL
        for crawl in crawls[1:]:
            assert crawl.finish(timeout=180) == 0, crawl.log[-3000:]
    finally:
        server.stop()

    assert held <= 2  # its maps in flight
    survivors = sum(crawl.stat("hltv/maps/committed") for crawl in crawls[1:])
    assert_every_map_whole_once(database, copies)
    # the survivors did every map the killed crawl had not committed
    victim_committed = MAPS - survivors
    assert 0 <= victim_committed < MAPS
    # a page is fetched again only for a map the killed crawl held in flight
    repeated = [key for key, n in server.requests.items() if n > 1]
    assert all(n <= 2 for n in server.requests.values())
    assert len({mapstatsid for _, mapstatsid in repeated}) <= 2  # its maps in flight (2) at most
    print(f"killed crawl held {held} leases; survivors committed {survivors}, "
          f"the killed one {victim_committed}; pages fetched twice: {len(repeated)}")


def test_a_crawl_with_a_failed_unit_ends_while_another_crawl_holds_a_lease(server, database, crawl_settings):
    """The unit whose fetch failed is not claimed again on each sweep while the crawl
    waits for the other crawl's unit: it ends after one lease period of waiting."""
    failing, held = ALL_MAPS[0], ALL_MAPS[1]
    for mapstatsid in (failing, held):
        seed_scoreboard(database, mapstatsid)
    server.script("performance", failing, *[Answer(status=500, body=b"down")] * 10)
    db = Database.open(database)
    try:
        with db.transaction() as sql:  # a live crawl elsewhere, for another hour
            sql.run(f"UPDATE maps SET lease_worker = 'elsewhere', lease_expires = {sql.now_epoch} + 3600 "
                    "WHERE mapstatsid = :m", {"m": held})
    finally:
        db.close()

    result = run_crawl("perf_economy", {**crawl_settings, "HLTV_LEASE_SECONDS": 2}, timeout=60)

    assert result.close_reason == "hltv_nothing_fetched"  # it ended; the one map it asked for failed
    assert result.stat("hltv/maps/fetch_failed") == 1
    assert server.requests[("performance", failing)] == 1 + 1  # one try and the tests' one retry, once
    assert server.requests[("performance", held)] == 0
    assert rows(database, "SELECT mapstatsid, lease_worker FROM maps ORDER BY mapstatsid") == [
        (failing, None), (held, "elsewhere")]


def test_the_units_named_with_a_keep_their_lease_while_the_crawl_runs(server, database, crawl_settings):
    mapstatsid = ALL_MAPS[0]
    seed_scoreboard(database, mapstatsid)
    leases = []

    class Watch(ClearanceGate):
        """Admits every request, and notes who holds the map's lease as its pages arrive."""

        def admits(self, cookies: set[str], user_agent: str) -> bool:
            leases.extend(rows(database, "SELECT lease_worker FROM maps WHERE mapstatsid = ?", mapstatsid))
            return True

    server.gate = Watch()

    result = run_crawl("perf_economy", {**crawl_settings, "HLTV_WORKER_ID": "named-crawl"}, mapstatsid=str(mapstatsid))

    assert result.stat("hltv/maps/committed") == 1
    assert leases == [("named-crawl",), ("named-crawl",)]  # held while both pages were fetched
    assert rows(database, "SELECT lease_worker FROM maps WHERE mapstatsid = ?", mapstatsid) == [(None,)]
