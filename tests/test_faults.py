"""Faults: a map is stored whole or not at all, whatever happens to the crawl.

SIGKILL at any moment, Ctrl-C, two crawls on one database, a corrupt archive entry,
a database that cannot be written. After each, every map is either complete (all its
performance, economy and kill matrix data, as the truth files say) or untouched, and
the database is sound.

The crawls that are killed run as real ``scrapy crawl`` subprocesses against the
local fixture server. Pages are the fixture pages cut down to their content section
(the same data in ~100 KB instead of ~2-6 MB), so a trial takes about a second.
"""

from __future__ import annotations

import gzip
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from sqlalchemy.exc import IntegrityError

from hltv_scraper.items import PerfEconomyPages
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from hltv_scraper.storage._schema import in_transaction
from tests.support.crawl import run_crawl
from tests.support.pages import ARCHIVE_DIR, MAPSTATSIDS, load_expected, page_bytes
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import _ROUTE, FixtureServer
from tests.support.truth import assert_matches_truth, assert_untouched, pending, snapshot
from tests.support.faults import Crawl, PAGES, SlowServer, serve_small_pages, small_page

def settings_for(server: FixtureServer, tmp: Path, **extra) -> dict:
    return {
        "HLTV_DB_PATH": str(tmp / "hltv.sqlite3"),
        "HLTV_BASE_URL": server.base_url,
        "HLTV_ARCHIVE_DIR": str(tmp / "archive"),
        **extra,
    }


def seed(database: Path, maps) -> dict[int, dict]:
    for mapstatsid in maps:
        seed_scoreboard(database, mapstatsid)
    return {mapstatsid: snapshot(database, mapstatsid) for mapstatsid in maps}


def assert_sound(database: Path) -> None:
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    assert rows(database, "PRAGMA foreign_key_check") == []


def complete_maps(database: Path, before: dict[int, dict]) -> set[int]:
    """The maps stored whole; fails if any map is neither whole nor untouched."""
    assert_sound(database)
    done = set()
    for mapstatsid, snapshot_before in before.items():
        if rows(database, "SELECT perf_economy_at IS NOT NULL FROM maps WHERE mapstatsid = ?", mapstatsid) == [(1,)]:
            assert_matches_truth(database, mapstatsid)
            done.add(mapstatsid)
        else:
            assert_untouched(snapshot_before, snapshot(database, mapstatsid))
    return done


def assert_archive_whole(archive: Path) -> None:
    """Every entry the archive counts (its .json exists) has a whole body."""
    for meta in archive.glob("*/*.json"):
        body = meta.with_suffix("").with_suffix(".html.gz")
        assert body.exists(), meta
        page, mapstatsid = meta.parent.name, int(meta.name.split(".")[0])
        assert gzip.decompress(body.read_bytes()) == small_page(page, mapstatsid), body


# -- SIGKILL -------------------------------------------------------------------------

#: The page requests at which a crawl is killed: before the first, then through the
#: crawl's twenty (two pages a map) to its last.
KILL_AT = (0, 1, 4, 9, 14, 20)


class KillServer(FixtureServer):
    """Kills the crawl (SIGKILL) when its ``kill_at``-th page request arrives, before
    answering it: a moment the crawl's own progress defines, not the machine's speed."""

    def __init__(self) -> None:
        super().__init__()
        self.crawl: Crawl | None = None
        self.kill_at = 0
        self.served = 0

    def _handle(self, handler) -> None:
        if _ROUTE.match(handler.path):
            with self._lock:
                self.served += 1
                kill = self.crawl is not None and self.served == self.kill_at
            if kill:
                self.crawl.process.send_signal(signal.SIGKILL)
        super()._handle(handler)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_each_map_whole_or_untouched(tmp_path):
    """Crawls killed with SIGKILL at different moments, from before the first
    request to the last commit; each time every map is whole or untouched, the archive
    holds no half entry, and a rerun on the same host (which frees the dead crawl's
    leases at once) completes exactly the rest."""
    maps = MAPSTATSIDS
    server = KillServer().start()
    try:
        serve_small_pages(server, maps)
        # Maps one or two at a time, so commits spread over the whole crawl.
        extra = {"HLTV_MAPS_IN_FLIGHT": 2, "CONCURRENT_REQUESTS": 2}
        outcomes = []
        for trial, kill_at in enumerate(KILL_AT):
            work = tmp_path / f"trial{trial}"
            database = work / "hltv.sqlite3"
            before = seed(database, maps)
            settings = settings_for(server, work, **extra)
            server.served, server.kill_at = 0, kill_at
            crawl = Crawl(settings=settings)
            server.crawl = crawl
            if kill_at == 0:
                crawl.wait_for("Spider opened")
                crawl.process.send_signal(signal.SIGKILL)
            assert crawl.finish() == -signal.SIGKILL, crawl.log[-3000:]
            server.crawl = None

            done = complete_maps(database, before)
            assert_archive_whole(work / "archive")
            assert pending(database) == set(maps) - done
            outcomes.append((kill_at, len(done)))

            rerun = run_crawl("perf_economy", settings)
            assert rerun.error is None
            assert rerun.stat("hltv/maps/committed") == len(maps) - len(done)
            assert complete_maps(database, before) == set(maps)
    finally:
        server.stop()
    print(f"crawls killed at (page request, maps stored whole): {outcomes}")
    # the kills did land in the middle of crawls, not only before or after them
    assert any(0 < whole < len(maps) for _, whole in outcomes), outcomes


# -- SIGINT --------------------------------------------------------------------------


class CtrlCServer(FixtureServer):
    """Presses Ctrl-C on the crawl at the worst moment: once a map has both its pages,
    while the first page of another map is on its way (its partner not yet asked for)."""

    def __init__(self) -> None:
        super().__init__()
        self.crawl: Crawl | None = None
        self.pressed = threading.Event()
        self._served: dict[int, set[str]] = {}

    def _handle(self, handler) -> None:
        match = _ROUTE.match(handler.path)
        if match and not self.pressed.is_set():
            page, mapstatsid = match.group(1) or "mapstats", int(match.group(2))
            with self._lock:
                first_page = not self._served.get(mapstatsid)
                some_map_whole = any(len(pages) == 2 for pages in self._served.values())
                self._served.setdefault(mapstatsid, set()).add(page)
                press = first_page and some_map_whole and self.crawl is not None
                if press:
                    self.pressed.set()
            if press:
                self.crawl.process.send_signal(signal.SIGINT)
                time.sleep(0.3)  # this page arrives during the graceful shutdown
        super()._handle(handler)


@pytest.mark.slow
def test_ctrl_c_commits_whole_maps_drops_halves_and_says_so(tmp_path):
    maps = MAPSTATSIDS
    server = CtrlCServer().start()
    try:
        serve_small_pages(server, maps)
        database = tmp_path / "hltv.sqlite3"
        before = seed(database, maps)
        # One request at a time: the partner of the page in flight waits in the scheduler.
        crawl = Crawl(settings=settings_for(server, tmp_path, CONCURRENT_REQUESTS=1))
        server.crawl = crawl
        code = crawl.finish(timeout=60)
    finally:
        server.stop()

    assert server.pressed.is_set()
    assert "Received SIGINT, shutting down gracefully" in crawl.log
    assert code == 1, crawl.log[-3000:]  # interrupted: a scheduler must not take it for done
    summary = re.search(
        r"perf_economy finished \(shutdown\): (\d+) maps requested, (\d+) committed, (\d+) failed, "
        r"(\d+) left pending by fetch failures, (\d+) incomplete units dropped",
        crawl.log,
    )
    assert summary, crawl.log[-3000:]
    requested, committed, failed, fetch_failed, dropped = map(int, summary.groups())
    print(summary.group(0))
    done = complete_maps(database, before)
    assert committed == len(done) >= 1
    assert failed == fetch_failed == 0
    assert dropped == 1, crawl.log[-3000:]  # the map whose first page was in flight
    assert f"Dropped {dropped} maps whose pages did not all arrive" in crawl.log
    assert requested >= committed + dropped
    assert pending(database) == set(maps) - done
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]
    assert " ERROR: " not in crawl.log


# -- two crawls at once ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("named", [False, True], ids=["pending-maps", "named-maps-redone"])
def test_two_crawls_on_one_database_commit_each_map_once_and_whole(tmp_path, named):
    """Both crawls start together on the same pending maps. Without ``-a mapstatsid``
    each map is claimed and committed by one crawl only; with it (maps redone on
    purpose) both fetch every map and commit it unless the other crawl's live lease
    holds it; a second commit replaces the first whole: no duplicate, no mix."""
    maps = MAPSTATSIDS
    # Slow pages keep both crawls' maps in flight together.
    server = SlowServer({"performance": 0.1, "economy": 0.1}).start()
    try:
        serve_small_pages(server, maps)
        database = tmp_path / "hltv.sqlite3"
        seed(database, maps)
        args = ("-a", f"mapstatsid={','.join(map(str, maps))}") if named else ()
        crawls = [
            Crawl(*args, settings=settings_for(server, tmp_path / f"crawl{n}", HLTV_DB_PATH=database))
            for n in range(2)
        ]
        codes = [crawl.finish() for crawl in crawls]
    finally:
        server.stop()

    for crawl, code in zip(crawls, codes):
        assert code == 0, crawl.log[-3000:]
        assert "locked" not in crawl.log
        assert " ERROR: " not in crawl.log, crawl.log[-3000:]
        assert crawl.stat("hltv/maps/failed") == 0
        # every map a crawl requested was committed by it or found stored by the other
        assert crawl.stat("hltv/maps/requested") == (
            crawl.stat("hltv/maps/committed") + crawl.stat("hltv/maps/already_stored")
        )
    committed = sum(crawl.stat("hltv/maps/committed") for crawl in crawls)
    overlap = sum(crawl.stat("hltv/maps/already_stored") for crawl in crawls)
    if named:
        # Each crawl redoes every map, unless the other one's live lease holds it then:
        # a map is left to the crawl that claimed it last.
        assert committed + overlap == 2 * len(maps) and committed >= len(maps)
    else:
        assert committed == len(maps)
    print(f"commits: {[c.stat('hltv/maps/committed') for c in crawls]}, maps found already "
          f"stored: {[c.stat('hltv/maps/already_stored') for c in crawls]}")
    assert_sound(database)
    for mapstatsid in maps:
        assert_matches_truth(database, mapstatsid)
    # no duplicate or stray row: exactly what one whole write of each map gives
    truths = [load_expected(mapstatsid) for mapstatsid in maps]
    assert rows(database, "SELECT count(*) FROM kill_matrix") == [(sum(len(t["kill_matrix"]) for t in truths),)]
    assert rows(database, "SELECT count(*) FROM economy") == [(sum(len(t["economy"]) for t in truths),)]
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]


# -- a corrupt archive entry -----------------------------------------------------------


def archive_of(tmp: Path, maps) -> Path:
    archive = tmp / "archive"
    for page in PAGES:
        (archive / page).mkdir(parents=True)
        for mapstatsid in maps:
            for suffix in (".html.gz", ".json"):
                shutil.copyfile(ARCHIVE_DIR / page / f"{mapstatsid}{suffix}", archive / page / f"{mapstatsid}{suffix}")
    return archive


def corrupt(archive: Path, page: str, mapstatsid: int, how: str) -> None:
    if how == "truncated-gzip":
        body = archive / page / f"{mapstatsid}.html.gz"
        body.write_bytes(body.read_bytes()[: body.stat().st_size // 2])
    elif how == "garbage-gzip":
        (archive / page / f"{mapstatsid}.html.gz").write_bytes(b"\x1f\x8b\x08\x00 not gzip at all")
    else:  # a meta file cut short
        meta = archive / page / f"{mapstatsid}.json"
        meta.write_text(meta.read_text()[:20])


@pytest.mark.slow
@pytest.mark.parametrize("how", ["truncated-gzip", "garbage-gzip", "truncated-meta"])
def test_a_corrupt_archive_entry_in_replay_is_a_fetch_failure_and_the_crawl_goes_on(tmp_path, database, how):
    maps = (188093, 206389, 173424)
    broken = 206389
    archive = archive_of(tmp_path, maps)
    corrupt(archive, "economy", broken, how)
    before = seed(database, maps)

    result = run_crawl("perf_economy", {
        "HLTV_DB_PATH": str(database), "HLTV_ARCHIVE_DIR": str(archive), "HLTV_REPLAY": True,
        "HLTV_MAX_FETCH_FAILURES": 1,  # a corrupt entry is a gap in the archive, not the site refusing us
    })

    assert result.error is None
    assert result.close_reason == "finished"
    assert result.stat("hltv/maps/committed") == 2
    assert result.stat("hltv/maps/fetch_failed") == 1
    assert result.stat("hltv/pages/fetch_failed/economy") == 1
    assert result.stat("log_count/ERROR") == 0
    assert_untouched(before[broken], snapshot(database, broken))
    assert pending(database) == {broken}
    for mapstatsid in set(maps) - {broken}:
        assert_matches_truth(database, mapstatsid)


@pytest.mark.slow
def test_a_corrupt_archive_entry_is_fetched_again_from_the_site(server, database, crawl_settings):
    """Outside replay the archive is a cache: a corrupt entry is a miss, not a page
    that can never be fetched again."""
    archive = Path(crawl_settings["HLTV_ARCHIVE_DIR"])
    archive_of(archive.parent, (206389,))
    corrupt(archive, "economy", 206389, "truncated-gzip")
    seed(database, (206389,))

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == 1
    assert server.requests[("economy", 206389)] == 1
    assert_matches_truth(database, 206389)
    # and the archive holds the page whole again
    assert gzip.decompress((archive / "economy" / "206389.html.gz").read_bytes()) == page_bytes("economy-206389")


# -- a database that cannot be written ---------------------------------------------------


def unwritable(monkeypatch, how: str) -> None:
    """Every connection the project opens refuses writes: the disk is full (no page
    may be added) or the database is read-only."""
    import hltv_scraper.storage.database as database

    connect = database.connect

    def refusing(url):
        connection = connect(url)
        if how == "disk-full":
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
            connection.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        else:
            connection.exec_driver_sql("PRAGMA query_only = ON")
        return connection

    monkeypatch.setattr(database, "connect", refusing)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["disk-full", "read-only"])
def test_a_database_that_cannot_be_written_stops_the_crawl_with_nothing_half_written(
    server, database, crawl_settings, monkeypatch, caplog, how
):
    maps = MAPSTATSIDS
    before = seed(database, maps)
    unwritable(monkeypatch, how)
    message = "database or disk is full" if how == "disk-full" else "readonly database"

    with caplog.at_level("INFO"):
        result = run_crawl("perf_economy", {**crawl_settings, "HLTV_MAPS_IN_FLIGHT": 1, "CONCURRENT_REQUESTS": 2})

    monkeypatch.undo()
    assert result.close_reason == "hltv_database_error"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and message in errors[0] and str(database) in errors[0], errors
    # it stopped at the first map it could not write, instead of fetching them all
    assert result.stat("hltv/maps/requested") < len(maps)
    assert result.stat("hltv/maps/committed") == 0
    assert complete_maps(database, before) == set()
    assert pending(database) == set(maps)


@pytest.mark.slow
def test_a_read_only_database_file_is_a_clear_error_for_scrapy_crawl(server, database, crawl_settings):
    """The file itself read-only (immutable: root may not write it either)."""
    before = seed(database, (206389, 188093))
    Database.open(database).close()
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(database)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        crawl = Crawl(settings=crawl_settings)
        code = crawl.finish()
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)

    assert code == 1, crawl.log[-3000:]  # a brake stopped it
    assert re.search(r"ERROR: Cannot write to the database .*readonly database", crawl.log), crawl.log[-3000:]
    assert "perf_economy finished (hltv_database_error)" in crawl.log
    assert complete_maps(database, before) == set()


def test_the_database_refuses_a_number_too_large_for_it_as_a_validation_failure(database):
    """SQLite integers stop at 2**63 - 1: a page showing more is a page that did not say
    what we believed, never a crash that leaves the map pending forever."""
    from hltv_scraper.parsers.economy import parse_economy
    from hltv_scraper.parsers.performance import parse_performance
    from hltv_scraper.storage import ValidationError
    from tests.support.pages import load_page

    before = seed(database, (206389,))[206389]
    pages = PerfEconomyPages(
        performance=parse_performance(load_page("performance-206389")),
        economy=parse_economy(load_page("economy-206389")),
    )
    pages.performance.kill_matrix[-1].player1_kills = 2**63
    db = Database.open(database)
    try:
        with pytest.raises(ValidationError):
            db.save(STAGES["perf_economy"], 206389, pages, parser_version="test", check=STAGES["perf_economy"].check)
    finally:
        db.close()
    assert_untouched(before, snapshot(database, 206389))


def test_a_commit_that_fails_leaves_no_transaction_open(database):
    """A COMMIT can fail with the transaction still open (SQLite leaves it so for a
    deferred constraint; a full disk may too): it must be rolled back, or the next
    map's commit would write this one's rows with it."""
    db = Database.open(database)
    try:
        db.sql.run("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT
        with pytest.raises(IntegrityError):
            with db.transaction() as sql:
                sql.run(
                    "INSERT INTO maps (match_id, map_number, mapstatsid, scraped_at, updated_at) "
                    "VALUES (404, 1, 404, 'now', 'now')"  # a match that does not exist
                )
        assert not in_transaction(db.connection)
        db.sql.run("PRAGMA defer_foreign_keys = OFF")
        assert db.add_maps([(1, 1, 11)]) == (1, 0)  # the next write works, alone
    finally:
        db.close()
    assert rows(database, "SELECT mapstatsid FROM maps") == [(11,)]
