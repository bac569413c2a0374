"""Discovery end to end: from an empty database through results, matches and both map
stages, against a local server; the results stage's stop rules; refused and broken
results and match pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import UsageError

from tests.support.crawl import database_settings
from tests.support.crawl import run_crawl
from tests.support.discovery import (
    PUBLIC_MATCHES,
    assert_match_matches_truth,
    match_truth,
    results_entries,
    results_page,
)
from tests.support.pages import MAPSTATSIDS, mutated
from tests.support.seed import rows
from tests.support.server import Answer, CHALLENGE_HEADERS, FixtureServer
from tests.support.truth import assert_scoreboard_matches_truth
from tests.support.truth import CF_CHALLENGE, assert_matches_truth


@pytest.fixture
def crawl_settings(crawl_settings: dict) -> dict:
    """Plain HTTP pinned: these sites answer with challenges no browser could clear,
    and the tests are of how the plain path takes refusals (auto mode: test_auto.py)."""
    return {**crawl_settings, "HLTV_BROWSER": "0"}

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ("results", "matches", "map_stats", "perf_economy")


def serve_listing(server: FixtureServer, pages: int = 2) -> None:
    """The bundled results page at offset 0, then older pages (their matches have no
    match page), the last one without a next link."""
    for n in range(1, pages):
        server.script("results", 100 * n, Answer(body=results_page(100 * n, days_back=1000 * n, last=n == pages - 1)))


def collect(settings: dict, *, fetching_nothing: tuple[str, ...] = (), **results_args: str) -> dict[str, object]:
    """The four stages in order, in this process, as `scrapy collect` runs them; those in
    ``fetching_nothing`` ask only for pages the site does not have."""
    outcomes = {}
    for name in CHAIN:
        result = run_crawl(name, settings, **(results_args if name == "results" else {}))
        assert result.error is None, result.error
        outcomes[name] = result
        expected = "hltv_nothing_fetched" if name in fetching_nothing else "finished"
        assert result.close_reason == expected, (name, result.close_reason)
    return outcomes


def snapshot(database) -> dict[str, list[tuple]]:
    """Every table's rows, without the moving timestamps."""
    tables = {
        "matches": "match_id, team1_id, team1_name, team2_id, team2_name, team1_score, team2_score, "
                   "stars, format, completed_unix_ms, match_page_at, match_attempts, updated_at",
        "maps": "match_id, map_number, mapstatsid, map_name, team1_rounds, team2_rounds, played, "
                "is_forfeit, mapstats_at, perf_economy_at",
        "vetoes": "match_id, step, team_id, action, map_name, updated_at",
        "lineups": "match_id, team_id, player_id, updated_at",
        "player_stats": "match_id, map_number, player_id, kills, kpr, updated_at",
        "round_history": "match_id, map_number, round_number, winner_team_id, updated_at",
        "economy": "match_id, map_number, round_number, team_id, equipment_value, updated_at",
        "kill_matrix": "match_id, map_number, matrix_type, player1_id, player2_id, updated_at",
        "failures": "stage, unit_id, page, reason",
    }
    return {table: rows(database, f"SELECT {columns} FROM {table} ORDER BY 1, 2, 3") for table, columns in tables.items()}


@pytest.mark.slow
@pytest.mark.both_backends
def test_from_an_empty_database_to_every_public_map_and_a_rerun_reads_one_page(server, database, crawl_settings):
    serve_listing(server)

    first = collect(crawl_settings)

    for mapstatsid in MAPSTATSIDS:
        assert_scoreboard_matches_truth(database, mapstatsid)
        assert_matches_truth(database, mapstatsid)
    for match_id in PUBLIC_MATCHES:
        assert_match_matches_truth(database, match_id)
    # every regular entry of both listing pages is a match, with what the listing says
    listed = results_entries(0) + results_entries(100)
    assert rows(database, "SELECT count(*) FROM matches") == [(len(listed),)]
    first_page = {e["match_id"]: (e["match_id"], e["stars"], e["map_text"], e["entry_unix_ms"]) for e in results_entries(0)}
    stored = rows(database, "SELECT match_id, stars, format, completed_unix_ms FROM matches ORDER BY 1")
    assert [row for row in stored if row[0] in first_page] == sorted(first_page.values())
    # nothing was fetched twice; requests per complete map, all stages together
    assert set(server.requests.values()) == {1}, server.requests
    requests = sum(server.requests.values())
    complete = len(MAPSTATSIDS)
    assert rows(database, "SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL") == [(complete,)]
    by_page = {page: sum(n for (p, _), n in server.requests.items() if p == page) for page in ("results", "match", "mapstats", "performance", "economy")}
    print(f"requests per complete map: {requests / complete:.2f} ({by_page}, {complete} maps)")
    assert by_page == {"results": 2, "match": len(listed), "mapstats": complete, "performance": complete, "economy": complete}
    unfetched = len(listed) - len(PUBLIC_MATCHES)  # the listing's other matches have no page here
    assert first["matches"].stat("hltv/matches/fetch_failed") == unfetched
    before = snapshot(database)
    server.requests.clear()

    # the matches stage asks again only for the pages that are not there: it did not finish
    again = collect(crawl_settings, fetching_nothing=("matches",))

    # one results page (every match on it known), and the match pages that failed before
    assert server.requests[("results", 0)] == 1 and server.requests[("results", 100)] == 0
    assert again["results"].stats["hltv/results_pages/stopped_because"].startswith("every match on it is already known")
    assert sum(n for (page, _), n in server.requests.items() if page == "match") == unfetched
    assert sum(server.requests.values()) == 1 + unfetched
    after = snapshot(database)
    for table in before:
        assert after[table] == before[table], (table, set(after[table]) ^ set(before[table]))


@pytest.mark.slow
@pytest.mark.both_backends
def test_scrapy_collect_runs_the_chain_and_prints_the_summary(server, database, crawl_settings):
    serve_listing(server)
    options = [item for name, value in {**crawl_settings, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": 0}.items()
               for item in ("-s", f"{name}={value}")]

    done = subprocess.run([sys.executable, "-m", "scrapy", "collect", *options], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    assert ("Stages: results (finished), matches (finished), map_stats (finished), perf_economy (finished), "
            "rankings (finished)") in done.stdout
    assert "maps with performance and economy" in done.stdout and "pending: matches" in done.stdout
    for name in CHAIN:
        assert f"{name} finished (finished)" in done.stderr
    for mapstatsid in MAPSTATSIDS:
        assert_matches_truth(database, mapstatsid)
    if not str(database).startswith("postgresql"):
        assert str(database) in done.stdout


@pytest.mark.slow
def test_a_stage_the_site_stops_ends_the_chain(server, database, crawl_settings):
    server.script("results", 0, Answer(status=403, body=CF_CHALLENGE, headers=CHALLENGE_HEADERS))
    options = [item for name, value in {**crawl_settings, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": 0,
                                        "HLTV_BACKOFF_START_DELAY": 0.01, "HLTV_BACKOFF_MAX_DELAY": 0.05}.items()
               for item in ("-s", f"{name}={value}")]

    done = subprocess.run([sys.executable, "-m", "scrapy", "collect", *options], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    assert "Stages: results (hltv_fetch_failures)" in done.stdout
    assert "the chain stops here" in done.stderr
    assert "matches finished" not in done.stderr
    assert rows(database, "SELECT count(*) FROM matches") == [(0,)]


# -- the results stage's stop rules ----------------------------------------------------


def results_requests(server: FixtureServer) -> list[int]:
    return sorted(offset for (page, offset), n in server.requests.items() if page == "results" for _ in range(n))


def stored_match_ids(database) -> set[int]:
    return {match_id for (match_id,) in rows(database, "SELECT match_id FROM matches")}


@pytest.mark.slow
def test_the_listing_is_read_to_its_last_page(server, database, crawl_settings):
    serve_listing(server, pages=3)

    result = run_crawl("results", crawl_settings)

    assert results_requests(server) == [0, 100, 200]
    assert result.stats["hltv/results_pages/stopped_because"] == "the last page of the listing"
    expected = {e["match_id"] for offset in (0, 100, 200) for e in results_entries(offset)}
    assert stored_match_ids(database) == expected
    assert result.stat("hltv/results_pages/committed") == 3


@pytest.mark.slow
def test_pages_limits_the_pages_read(server, database, crawl_settings):
    serve_listing(server, pages=3)

    run_crawl("results", crawl_settings, pages="2")

    assert results_requests(server) == [0, 100]
    assert stored_match_ids(database) == {e["match_id"] for o in (0, 100) for e in results_entries(o)}


@pytest.mark.slow
def test_since_stores_newer_entries_and_stops_at_a_page_all_older(server, database, crawl_settings):
    serve_listing(server, pages=3)  # page 100 is 1000 days older than page 0: all before 2024

    result = run_crawl("results", crawl_settings, since="2024-04-12")

    assert results_requests(server) == [0, 100]
    assert result.stats["hltv/results_pages/stopped_because"] == "every entry is older than -a since"
    cutoff = 1712880000000  # 2024-04-12 00:00 UTC
    newer = {e["match_id"] for e in results_entries(0) if e["entry_unix_ms"] >= cutoff}
    assert newer and stored_match_ids(database) == newer
    assert result.stat("hltv/results_pages/entries_outside_dates") == 2 * len(results_entries(0)) - len(newer)


@pytest.mark.slow
def test_until_skips_newer_entries_and_reads_on(server, database, crawl_settings):
    serve_listing(server, pages=2)

    run_crawl("results", crawl_settings, until="2024-04-12")

    assert results_requests(server) == [0, 100]
    end = 1712880000000 + 86_400_000  # the end of 2024-04-12 UTC
    kept = {e["match_id"] for o in (0, 100) for e in results_entries(o) if e["entry_unix_ms"] - (o // 100) * 1000 * 86_400_000 < end}
    assert kept and stored_match_ids(database) == kept
    assert max(e["entry_unix_ms"] for e in results_entries(0)) >= end  # some were skipped


@pytest.mark.slow
def test_a_page_of_known_matches_stops_the_next_run_unless_full(server, database, crawl_settings):
    serve_listing(server, pages=3)
    run_crawl("results", crawl_settings)
    server.requests.clear()

    result = run_crawl("results", crawl_settings)

    assert results_requests(server) == [0]
    assert result.stats["hltv/results_pages/stopped_because"].startswith("every match on it is already known")
    server.requests.clear()

    run_crawl("results", crawl_settings, full="1")

    assert results_requests(server) == [0, 100, 200]


@pytest.mark.slow
def test_offset_starts_further_down_the_listing(server, database, crawl_settings):
    serve_listing(server, pages=3)

    run_crawl("results", crawl_settings, offset="100")

    assert results_requests(server) == [100, 200]


@pytest.mark.parametrize("argument", [{"since": "yesterday"}, {"until": "2024-13-01"}, {"offset": "-100"},
                                      {"pages": "0"}, {"full": "maybe"}, {"since": "2025-01-02", "until": "2025-01-01"}])
def test_bad_results_arguments_are_refused_before_any_request(server, database, crawl_settings, argument):
    result = run_crawl("results", crawl_settings, **argument)

    assert isinstance(result.error, UsageError)
    assert next(iter(argument)) in str(result.error)
    assert sum(server.requests.values()) == 0


# -- refused and broken pages ------------------------------------------------------------


@pytest.mark.slow
def test_a_refused_results_page_stops_the_crawl_and_writes_nothing_of_it(server, database, crawl_settings):
    serve_listing(server, pages=3)
    server.script("results", 100, Answer(status=403, body=CF_CHALLENGE, headers=CHALLENGE_HEADERS))

    result = run_crawl("results", crawl_settings)

    assert result.close_reason == "hltv_fetch_failures"
    assert 200 not in results_requests(server)
    assert stored_match_ids(database) == {e["match_id"] for e in results_entries(0)}
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]


@pytest.mark.slow
def test_a_broken_results_page_stops_the_crawl_as_a_layout_change(server, database, crawl_settings):
    serve_listing(server, pages=3)
    broken = results_page(100, days_back=1000).replace(b'href="/matches/', b'href="/no-such-link/')
    server.script("results", 100, Answer(body=broken))

    result = run_crawl("results", crawl_settings)

    assert result.close_reason == "hltv_layout_changed"
    assert 200 not in results_requests(server)
    assert stored_match_ids(database) == {e["match_id"] for e in results_entries(0)}
    (stage, unit_id, page, reason), = rows(database, "SELECT stage, unit_id, page, reason FROM failures")
    assert (stage, unit_id, page) == ("results", 100, "results") and "match" in reason


@pytest.mark.slow
def test_a_results_page_that_cannot_be_stored_stops_the_walk(server, database, crawl_settings, monkeypatch):
    """Its matches are not in the database: a later run stopping at a page of known
    matches above it would never come back for them."""
    from hltv_scraper.storage import results as _results

    serve_listing(server, pages=3)
    second_page = {e["match_id"] for e in results_entries(100)}
    known = _results.known_match_ids

    def failing_on_the_second_page(db, ids):  # the writer's first step
        if set(ids) & second_page:
            raise TypeError("a bug in the writer")
        return known(db, ids)

    monkeypatch.setattr(_results, "known_match_ids", failing_on_the_second_page)

    result = run_crawl("results", crawl_settings)

    assert results_requests(server) == [0, 100]
    assert result.stats["hltv/results_pages/stopped_because"] == "a page was not stored"
    assert stored_match_ids(database) == {e["match_id"] for e in results_entries(0)}
    assert rows(database, "SELECT stage, unit_id FROM failures") == [("results", 100)]


def add_matches(database, *match_ids: int) -> None:
    from hltv_scraper.storage import Database

    db = Database.open(database)
    try:
        db.add_matches([(match_id, None) for match_id in match_ids])
    finally:
        db.close()


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_refused_match_page_leaves_the_match_pending_and_untouched(server, database, crawl_settings):
    add_matches(database, 2389951, 2367432)
    server.script("match", 2389951, Answer(status=403, body=CF_CHALLENGE, headers=CHALLENGE_HEADERS))

    result = run_crawl("matches", crawl_settings)

    assert result.stat("hltv/matches/fetch_failed") == 1 and result.stat("hltv/matches/committed") == 1
    assert rows(database, "SELECT match_attempts, match_page_at, team1_id FROM matches WHERE match_id = 2389951") == [(0, None, None)]
    assert rows(database, "SELECT count(*) FROM maps WHERE match_id = 2389951") == [(0,)]
    assert rows(database, "SELECT count(*) FROM vetoes WHERE match_id = 2389951") == [(0,)]
    assert_match_matches_truth(database, 2367432)


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_broken_match_page_counts_an_attempt_and_writes_nothing_else(server, database, crawl_settings):
    add_matches(database, 2389951, 2367432)
    broken = mutated("match-2389951", ('href="/team/', 'href="/squad/'))
    server.script("match", 2389951, Answer(body=broken.body))

    result = run_crawl("matches", {**crawl_settings, "HLTV_MAX_ATTEMPTS": 1})

    assert result.stat("hltv/matches/failed") == 1 and result.stat("hltv/matches/committed") == 1
    assert rows(database, "SELECT match_attempts, match_page_at, team1_id FROM matches WHERE match_id = 2389951") == [(1, None, None)]
    for table in ("maps", "vetoes", "lineups"):
        assert rows(database, f"SELECT count(*) FROM {table} WHERE match_id = 2389951") == [(0,)]
    (stage, unit_id, page, reason), = rows(database, "SELECT stage, unit_id, page, reason FROM failures")
    assert (stage, unit_id, page) == ("matches", 2389951, "match") and "team" in reason
    # HLTV_MAX_ATTEMPTS=1 spent: not requested again
    server.requests.clear()
    again = run_crawl("matches", {**crawl_settings, "HLTV_MAX_ATTEMPTS": 1})
    assert again.stat("hltv/matches/requested") == 0 and sum(server.requests.values()) == 0


@pytest.mark.slow
@pytest.mark.both_backends
def test_the_match_page_order_wins_over_a_map_stats_page_stored_first(server, database, crawl_settings):
    """A map stored from its stats page while the match record had the teams the other
    way round: the match page's order wins, the map row's team columns follow."""
    truth = match_truth(2377467)
    from hltv_scraper.storage import Database

    db = Database.open(database)
    try:
        db.add_maps([(2377467, 1, 188093)])
    finally:
        db.close()
    rows(database, "UPDATE matches SET team1_id = ?, team1_name = ?, team2_id = ?, team2_name = ? WHERE match_id = 2377467",
         truth["team2_id"], truth["team2_name"], truth["team1_id"], truth["team1_name"])
    run_crawl("map_stats", crawl_settings)
    assert rows(database, "SELECT team1_rounds, team2_rounds FROM maps WHERE match_id = 2377467") == [
        (truth["maps"][0]["team2_rounds"], truth["maps"][0]["team1_rounds"])
    ]

    result = run_crawl("matches", crawl_settings, match_id="2377467")

    assert result.stat("hltv/matches/committed") == 1
    assert_match_matches_truth(database, 2377467)
    assert_scoreboard_matches_truth(database, 188093)


@pytest.mark.slow
def test_a_map_the_match_page_places_elsewhere_fails_the_match(server, database, crawl_settings):
    from hltv_scraper.storage import Database

    db = Database.open(database)
    try:
        db.add_maps([(2389951, 2, 219128)])  # the page says 219128 is map 1
    finally:
        db.close()

    result = run_crawl("matches", crawl_settings)

    assert result.stat("hltv/matches/failed") == 1
    (reason,), = rows(database, "SELECT reason FROM failures")
    assert "219128" in reason and "map 2" in reason
    assert rows(database, "SELECT count(*) FROM vetoes") == [(0,)]


@pytest.mark.slow
def test_addmatches_then_matches_finds_the_maps(server, database, crawl_settings, tmp_path):
    csv = tmp_path / "matches.csv"
    csv.write_text("match_id,slug\n2384993,paper-tigers-vs-grey-tide\n2380434,\n")
    settings = [item for name, value in database_settings(database).items() for item in ("-s", f"{name}={value}")]
    added = subprocess.run([sys.executable, "-m", "scrapy", "addmatches", "--csv", str(csv), *settings],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    assert "2 matches added, 0 already known" in added.stdout

    run_crawl("matches", crawl_settings)

    assert_match_matches_truth(database, 2384993)
    assert_match_matches_truth(database, 2380434)  # deleted by forfeit: stored, no map
    # maps with a stats page are pending for map stats; the others never will be
    assert rows(database, "SELECT mapstatsid FROM maps WHERE mapstatsid IS NOT NULL ORDER BY 1") == [(206389,), (206391,)]
    requested = [key for key in server.requests if key[0] == "match"]
    assert sorted(requested) == [("match", 2380434), ("match", 2384993)]
    run_crawl("map_stats", crawl_settings)
    assert {key for key in server.requests if key[0] == "mapstats"} == {("mapstats", 206389), ("mapstats", 206391)}


@pytest.mark.slow
def test_addmatches_refuses_a_bad_csv_whole(database, tmp_path):
    csv = tmp_path / "matches.csv"
    csv.write_text("match_id,slug\n2384993,ok\nnot-a-number,x\n2380434,bad slug!\n2384993,other\n")
    settings = [item for name, value in database_settings(database).items() for item in ("-s", f"{name}={value}")]

    done = subprocess.run([sys.executable, "-m", "scrapy", "addmatches", "--csv", str(csv), *settings],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert "nothing imported, 3 bad rows" in done.stderr
    for line in ("line 3", "line 4", "line 5"):
        assert line in done.stderr
    assert not Path(database).exists() or rows(database, "SELECT count(*) FROM matches") == [(0,)]
