"""HLTV restyles a page: the layout brake stops the crawl, no map pays an attempt for it,
and a new parser version gives maps that ran out of attempts under an older one another go."""

from __future__ import annotations

import pytest

from hltv_scraper.parsers import _page, current_parser_version
from tests.support.crawl import run_crawl
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import Answer
from tests.support.truth import ALL_MAPS, assert_matches_truth, pending
from tests.support.pages import restyled_performance

pytestmark = pytest.mark.both_backends

NEW_VERSION = "99.0.0-test"


@pytest.mark.slow
def test_a_restyled_page_stops_the_crawl_costs_no_attempt_and_a_new_version_retries(
    server, database, crawl_settings, monkeypatch, tmp_path
):
    old_version = current_parser_version()
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
        server.script("performance", mapstatsid, Answer(body=restyled_performance(mapstatsid)))
    settings = {**crawl_settings, "HLTV_MAX_PARSE_FAILURES": 3, "HLTV_MAPS_IN_FLIGHT": 2,
                "CONCURRENT_REQUESTS": 2}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "hltv_layout_changed"
    assert result.stat("hltv/maps/requested") < len(ALL_MAPS)  # it stopped early
    assert result.stat("hltv/maps/committed") == 0
    message = result.stats["hltv/stopped_because"]
    assert "performance page" in message and "player cards" in message  # which page, which piece
    # no map lost an attempt, and each failure is on record with its parser version
    assert rows(database, "SELECT DISTINCT perf_attempts FROM maps") == [(0,)]
    failures = rows(database, "SELECT DISTINCT page, parser_version FROM failures")
    assert failures == [("performance", old_version)]
    assert rows(database, "SELECT count(DISTINCT unit_id) FROM failures")[0][0] >= 3
    assert pending(database) == set(ALL_MAPS)
    assert rows(database, "SELECT count(*) FROM economy") == [(0,)]

    # maps that ran out of attempts under this version are no longer pending ...
    rows(database, "UPDATE maps SET perf_attempts = 3, perf_attempts_version = ?", old_version)
    assert pending(database) == set()

    # ... until the parser version changes
    monkeypatch.setattr(_page, "PARSER_VERSION", NEW_VERSION)
    assert pending(database) == set(ALL_MAPS)

    # A fixed parser stores them: stood in for by the site serving the old layout again
    # (into a fresh archive: the first crawl archived the restyled pages). One map still
    # failing starts its count again at 1.
    still_broken = ALL_MAPS[0]
    for mapstatsid in ALL_MAPS[1:]:
        server.script("performance", mapstatsid, Answer())
    again = run_crawl("perf_economy", {**crawl_settings, "HLTV_ARCHIVE_DIR": str(tmp_path / "archive-2")})

    assert again.close_reason == "finished"
    assert again.stat("hltv/maps/committed") == len(ALL_MAPS) - 1
    for mapstatsid in ALL_MAPS[1:]:
        assert_matches_truth_but_attempts(database, mapstatsid, old_version)
    assert rows(database, "SELECT perf_attempts, perf_attempts_version FROM maps WHERE mapstatsid = ?",
                still_broken) == [(1, NEW_VERSION)]
    assert rows(database, "SELECT DISTINCT perf_economy_version FROM maps WHERE perf_economy_at IS NOT NULL") == [
        (NEW_VERSION,)
    ]
    assert pending(database) == {still_broken}


def assert_matches_truth_but_attempts(database, mapstatsid: int, old_version: str) -> None:
    """The stored map is the truth; its attempts under the old version stay on record."""
    assert rows(database, "SELECT perf_attempts, perf_attempts_version FROM maps WHERE mapstatsid = ?",
                mapstatsid) == [(3, old_version)]
    rows(database, "UPDATE maps SET perf_attempts = 0 WHERE mapstatsid = ?", mapstatsid)  # what the truth says
    assert_matches_truth(database, mapstatsid)
