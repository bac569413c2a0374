"""End to end: `perf_economy` crawls through the Scrapy engine against a local server."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from hltv_scraper.items import PerfEconomyPages
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import perf_economy as _perf_economy
from hltv_scraper.validation import check_perf_economy
from tests.support.crawl import run_crawl
from tests.support.seed import expected, rows, seed_scoreboard
from tests.support.server import Answer, page_bytes
from tests.support.truth import ACCESS_DENIED, ALL_MAPS, CF_CHALLENGE, CF_HEADERS, assert_matches_truth, assert_untouched, pending, snapshot, without_database


@pytest.fixture
def crawl_settings(crawl_settings: dict) -> dict:
    """Plain HTTP pinned: these sites answer with challenges no browser could clear,
    and the tests are of how the plain path takes refusals (auto mode: test_auto.py)."""
    return {**crawl_settings, "HLTV_BROWSER": "0"}

pytestmark = pytest.mark.both_backends

@pytest.mark.slow
def test_crawl_stores_every_map_whole_and_a_rerun_changes_nothing(server, database, crawl_settings):
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
    scoreboard_before = {m: snapshot(database, m)["players"] for m in ALL_MAPS}

    result = run_crawl("perf_economy", crawl_settings)

    assert result.error is None
    assert result.stat("hltv/maps/committed") == len(ALL_MAPS)
    assert result.stat("log_count/ERROR") == 0
    for mapstatsid in ALL_MAPS:
        assert_matches_truth(database, mapstatsid)
        # the scoreboard stage's values (and their scraped_at) are exactly as they were
        after = snapshot(database, mapstatsid)["players"]
        assert [row[:-4] for row in after] == [row[:-4] for row in scoreboard_before[mapstatsid]]
    assert pending(database) == set()
    first = {m: snapshot(database, m) for m in ALL_MAPS}
    requests_after_first = sum(server.requests.values())
    assert requests_after_first == 2 * len(ALL_MAPS)

    again = run_crawl("perf_economy", crawl_settings)

    assert again.stat("hltv/maps/requested") == 0
    assert sum(server.requests.values()) == requests_after_first
    assert {m: snapshot(database, m) for m in ALL_MAPS} == first


@pytest.mark.slow
def test_economy_team_ids_resolve_when_the_match_record_names_differ(server, database, crawl_settings):
    truth = expected(173424)["match"]
    # the match record lists the teams the other way round, spelled differently
    seed_scoreboard(database, 173424, match_overrides={
        "team1_id": truth["team2_id"], "team1_name": "  COPPERHEAD ",
        "team2_id": truth["team1_id"], "team2_name": "Smoke and Mirrors",
    })
    seed_scoreboard(database, 188093)

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == 2, (result.error, result.stats)
    assert_matches_truth(database, 173424)
    assert_matches_truth(database, 188093)


def test_economy_rounds_missing_from_round_history_are_counted_not_stored(server, database, crawl_settings):
    seed_scoreboard(database, 219131, rounds=18)  # the page's economy chart has 21 rounds

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == 1
    assert result.stat("hltv/economy/rounds_skipped") == 3
    stored = rows(database, "SELECT DISTINCT round_number FROM economy ORDER BY 1")
    assert stored == [(n,) for n in range(1, 19)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "answer"),
    [
        pytest.param("economy", Answer(status=500, body=b"oops"), id="server-error-after-retries"),
        pytest.param("performance", Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS), id="cf-challenge-403"),
        pytest.param("performance", Answer(status=503, body=CF_CHALLENGE, headers={"Server": "cloudflare"}), id="cf-challenge-503"),
        pytest.param("economy", Answer(status=403, body=ACCESS_DENIED), id="access-denied-403"),
        pytest.param("economy", Answer(status=200, body=ACCESS_DENIED), id="access-denied-200"),
        pytest.param("performance", Answer(body=page_bytes("special-performance-truncated-no-charts-performance-164779")), id="cut-before-charts"),
        pytest.param("performance", Answer(body=page_bytes("economy-219128")), id="another-page"),
    ],
)
def test_a_fetch_failure_leaves_the_map_untouched_and_pending(server, database, crawl_settings, page, answer):
    for mapstatsid in (164779, 188093):
        seed_scoreboard(database, mapstatsid)
    before = snapshot(database, 164779)
    server.script(page, 164779, answer)

    result = run_crawl("perf_economy", crawl_settings)

    assert_untouched(before, snapshot(database, 164779))
    assert pending(database) == {164779}
    assert_matches_truth(database, 188093)
    assert result.stat("hltv/maps/fetch_failed") == 1
    assert result.stat("hltv/maps/failed") == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mapstatsid", "page", "special"),
    [
        (164779, "performance", "special-performance-truncated-mid-chart-performance-164779"),
        (219128, "economy", "special-economy-malformed-truncated-economy-219128"),
    ],
)
def test_a_parse_failure_counts_an_attempt_and_writes_nothing_else(server, database, crawl_settings, mapstatsid, page, special):
    other = 188093
    for m in (mapstatsid, other):
        seed_scoreboard(database, m)
    before = snapshot(database, mapstatsid)
    server.script(page, mapstatsid, Answer(body=page_bytes(special)))
    settings = {**crawl_settings, "HLTV_MAX_ATTEMPTS": 2}

    result = run_crawl("perf_economy", settings)

    after = snapshot(database, mapstatsid)
    assert after["map"] == [(1, 0)]
    assert after["players"] == before["players"]  # no kpr, scoreboard untouched
    assert after["economy"] == [] and after["kill_matrix"] == []
    assert after["failures"] == [(page,)]
    (reason, version), = rows(database, "SELECT reason, parser_version FROM failures")
    assert reason and version
    assert_matches_truth(database, other)
    assert result.stat("hltv/maps/failed") == 1

    # one more failure reaches HLTV_MAX_ATTEMPTS=2: the map is no longer requested
    run_crawl("perf_economy", settings)
    assert snapshot(database, mapstatsid)["map"] == [(2, 0)]
    requests = server.requests[(page, mapstatsid)]
    third = run_crawl("perf_economy", settings)
    assert third.stat("hltv/maps/requested") == 0
    assert server.requests[(page, mapstatsid)] == requests


@pytest.mark.slow
def test_a_writer_that_crashes_writes_nothing_and_counts_an_attempt(server, database, crawl_settings, monkeypatch):
    seed_scoreboard(database, 188093)
    before = snapshot(database, 188093)

    def crash(**_: object) -> None:  # the writer's last step, after every statement
        raise TypeError("a bug in a writer")

    monkeypatch.setattr(_perf_economy, "SaveResult", crash)

    result = run_crawl("perf_economy", crawl_settings)

    after = snapshot(database, 188093)
    assert after["map"] == [(1, 0)]
    assert after["players"] == before["players"]
    assert after["economy"] == [] and after["kill_matrix"] == []
    assert rows(database, "SELECT page, reason FROM failures") == [
        ("performance", "storage error: TypeError('a bug in a writer')")]
    assert rows(database, "SELECT lease_worker FROM maps") == [(None,)]
    assert result.stat("hltv/maps/failed") == 1


def test_players_that_differ_from_the_scoreboard_fail_validation(server, database, crawl_settings):
    truth = seed_scoreboard(database, 188093)
    stranger = truth["players"][0]["player_id"]
    rows(database, "UPDATE player_stats SET player_id = 999999 WHERE player_id = ?", stranger)

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/failed") == 1
    assert rows(database, "SELECT count(*) FROM economy") == [(0,)]
    assert rows(database, "SELECT count(*) FROM player_stats WHERE kpr IS NOT NULL") == [(0,)]
    assert rows(database, "SELECT page FROM failures") == [("performance",)]


def test_no_pending_maps_means_no_requests(server, database, crawl_settings):
    result = run_crawl("perf_economy", crawl_settings)

    assert result.error is None
    assert result.close_reason == "finished"
    assert result.stat("downloader/request_count") == 0
    assert sum(server.requests.values()) == 0


@pytest.mark.slow
def test_the_crawl_stops_after_consecutive_fetch_failures(server, database, crawl_settings):
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
        server.script("performance", mapstatsid, Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS))
    settings = {**crawl_settings, "HLTV_MAX_FETCH_FAILURES": 3, "HLTV_MAPS_IN_FLIGHT": 2, "CONCURRENT_REQUESTS": 2}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "hltv_fetch_failures"
    assert result.stat("hltv/maps/requested") < len(ALL_MAPS)
    assert result.stat("hltv/maps/committed") == 0
    assert pending(database) == set(ALL_MAPS)
    assert rows(database, "SELECT count(*) FROM economy") == [(0,)]


@pytest.mark.slow
def test_mapstatsid_and_limit_arguments(server, database, crawl_settings):
    for mapstatsid in (164779, 188093, 219131):
        seed_scoreboard(database, mapstatsid)

    limited = run_crawl("perf_economy", crawl_settings, limit="1")
    assert limited.stat("hltv/maps/committed") == 1
    assert pending(database) == {188093, 219131}

    # an explicit id is processed even when done already
    chosen = run_crawl("perf_economy", crawl_settings, mapstatsid="164779,219131")
    assert chosen.stat("hltv/maps/committed") == 2
    assert pending(database) == {188093}
    assert_matches_truth(database, 164779)

    unknown = run_crawl("perf_economy", crawl_settings, mapstatsid="164779,123")
    assert "123" in str(unknown.error)
    assert unknown.stat("hltv/maps/requested") == 0


@pytest.mark.slow
def test_replay_serves_a_recorded_crawl_without_the_network(server, database, crawl_settings, tmp_path):
    maps = (162345, 206389, 173424)
    for mapstatsid in maps:
        seed_scoreboard(database, mapstatsid)
    server.script("economy", 162345, Answer(gzip=True))  # archived decoded all the same
    run_crawl("perf_economy", crawl_settings)
    recorded = {m: snapshot(database, m) for m in maps}
    archive = Path(crawl_settings["HLTV_ARCHIVE_DIR"])
    assert (archive / "performance" / "162345.html.gz").exists()
    (archive / "economy" / "173424.json").unlink()  # a gap in the archive
    server.stop()

    replay_db = tmp_path / "replay.sqlite3"
    for mapstatsid in maps:
        seed_scoreboard(replay_db, mapstatsid)
    result = run_crawl("perf_economy", {
        **without_database(crawl_settings), "HLTV_DB_PATH": str(replay_db), "HLTV_REPLAY": True,
        "HLTV_BASE_URL": "https://www.hltv.org",
    })

    assert result.stat("hltv/maps/committed") == 2, (result.error, result.stats)
    assert result.stat("hltv/pages/fetch_failed/economy") == 1
    assert result.stat("downloader/response_count") == result.stat("httpcache/hit")
    for mapstatsid in (162345, 206389):
        assert snapshot(replay_db, mapstatsid) == recorded[mapstatsid]
    assert pending(replay_db) == {173424}


@pytest.mark.slow
def test_refusals_never_enter_the_archive(server, database, crawl_settings):
    seed_scoreboard(database, 173424)
    server.script("performance", 173424, Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS))

    run_crawl("perf_economy", crawl_settings)

    archive = Path(crawl_settings["HLTV_ARCHIVE_DIR"])
    assert (archive / "economy" / "173424.html.gz").exists()
    assert not (archive / "performance" / "173424.html.gz").exists()


def test_the_archive_keeps_no_cookie_the_site_sets(server, database, crawl_settings):
    seed_scoreboard(database, 206389)
    cookie = "cf_clearance=s3cr3t-clearance-value; Path=/; HttpOnly"
    for page in ("performance", "economy"):
        server.script(page, 206389, Answer(headers={"Set-Cookie": cookie, "X-Kept": "yes"}))

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == 1
    archive = Path(crawl_settings["HLTV_ARCHIVE_DIR"])
    metas = list(archive.rglob("*.json"))
    assert len(metas) == 2
    for meta in metas:
        headers = json.loads(meta.read_text())["headers"]
        assert "X-Kept" in headers  # the other headers stay
        assert "s3cr3t" not in meta.read_text() and not any(k.lower() == "set-cookie" for k in headers)


def test_an_archived_cookie_is_cleaned_when_the_entry_is_read(tmp_path):
    from scrapy.http import Request
    from scrapy.settings import Settings

    from hltv_scraper.archive import ArchiveStorage

    storage = ArchiveStorage(Settings({"HLTV_ARCHIVE_DIR": str(tmp_path)}))
    url = "https://www.hltv.org/stats/matches/performance/mapstatsid/206389/x"
    body_path, meta_path = storage.entry_paths(url)
    body_path.parent.mkdir(parents=True)
    body_path.write_bytes(gzip.compress(b"<html>page</html>"))
    meta_path.write_text(json.dumps({"url": url, "status": 200, "headers": {
        "Set-Cookie": ["cf_clearance=old-secret; Path=/"], "Content-Type": ["text/html"],
    }}))  # an entry recorded before cookies were dropped

    response = storage.retrieve_response(None, Request(url))

    assert response.body == b"<html>page</html>" and b"Set-Cookie" not in response.headers
    assert "old-secret" not in meta_path.read_text()
    assert json.loads(meta_path.read_text())["headers"] == {"Content-Type": ["text/html"]}


@pytest.mark.slow
def test_a_map_another_crawl_finished_meanwhile_is_left_as_it_is(server, database, crawl_settings):
    from hltv_scraper.parsers.economy import parse_economy
    from hltv_scraper.parsers.performance import parse_performance
    from hltv_scraper.storage import AlreadyStored, Database
    from tests.support.pages import load_page

    seed_scoreboard(database, 188093)
    pages = PerfEconomyPages(
        performance=parse_performance(load_page("performance-188093")),
        economy=parse_economy(load_page("economy-188093")),
    )
    db = Database.open(database)
    try:
        db.save(STAGES["perf_economy"], 188093, pages, parser_version="first", overwrite=False, check=check_perf_economy)
        with pytest.raises(AlreadyStored):
            db.save(STAGES["perf_economy"], 188093, pages, parser_version="second", overwrite=False,
                    check=check_perf_economy)
        db.save(STAGES["perf_economy"], 188093, pages, parser_version="third", check=check_perf_economy)  # -a mapstatsid=...
    finally:
        db.close()
    assert rows(database, "SELECT DISTINCT parser_version FROM economy") == [("third",)]
    assert_matches_truth(database, 188093)


@pytest.mark.slow
def test_requests_a_middleware_drops_leave_their_maps_pending_and_the_crawl_ends(server, database, crawl_settings):
    # URLLENGTH_LIMIT drops a request without calling its errback: its map must
    # still leave the maps in flight, or the crawl waits for it for ever.
    maps = ALL_MAPS[:5]
    for mapstatsid in maps:
        seed_scoreboard(database, mapstatsid)
    before = {m: snapshot(database, m) for m in maps}
    settings = {**crawl_settings, "URLLENGTH_LIMIT": 30, "HLTV_MAPS_IN_FLIGHT": 2}

    result = run_crawl("perf_economy", settings, timeout=30)

    assert result.close_reason == "hltv_nothing_fetched"  # it ended, and says it stored nothing
    assert result.stat("hltv/maps/requested") == len(maps)
    assert result.stat("hltv/pages/fetch_failed/performance") == len(maps)
    assert result.stat("hltv/pages/fetch_failed/economy") == len(maps)
    assert result.stat("hltv/maps/fetch_failed") == len(maps)
    assert sum(server.requests.values()) == 0
    assert pending(database) == set(maps)
    for mapstatsid in maps:
        assert_untouched(before[mapstatsid], snapshot(database, mapstatsid))

    result = run_crawl("perf_economy", crawl_settings)
    assert result.stat("hltv/maps/committed") == len(maps)
