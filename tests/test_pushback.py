"""When the site pushes back: refusals retried with backoff, Retry-After honoured."""

from __future__ import annotations

from tests.crawl import run_crawl
from tests.seed import seed_scoreboard
from tests.server import Answer
from tests.test_perf_economy import CF_CHALLENGE, CF_HEADERS, assert_matches_truth, pending


def test_a_challenge_then_the_page_commits_the_map_whole(server, database, crawl_settings):
    seed_scoreboard(database, 206389)
    server.script("performance", 206389, Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS), Answer())

    result = run_crawl("perf_economy", crawl_settings)

    assert server.requests[("performance", 206389)] == 2
    assert result.stat("hltv/refused/cloudflare_challenge") == 1
    assert result.stat("hltv/maps/committed") == 1
    assert result.stat("hltv/maps/fetch_failed") == 0
    assert_matches_truth(database, 206389)
    assert pending(database) == set()


def test_refusals_slow_the_site_down(server, database, crawl_settings):
    seed_scoreboard(database, 206389)
    server.script("performance", 206389, Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS))
    settings = {**crawl_settings, "HLTV_REFUSAL_RETRIES": 3, "DOWNLOAD_DELAY_JITTER": 0,
                "HLTV_BACKOFF_START_DELAY": 0.1, "HLTV_BACKOFF_MAX_DELAY": 1.0}

    result = run_crawl("perf_economy", settings)

    times = server.request_times[("performance", 206389)]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(times) == 4  # the first try and three retries
    # the delay doubles from 0.1 s: each retry waits at least as long as the last
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39
    assert result.stat("hltv/download_delay") == 0.8
    assert result.stat("hltv/maps/fetch_failed") == 1
    assert pending(database) == {206389}


def test_429_with_retry_after_is_honoured_then_committed(server, database, crawl_settings):
    seed_scoreboard(database, 206389)
    server.script("economy", 206389, Answer(status=429, body=b"slow down", headers={"Retry-After": "1"}), Answer())
    settings = {**crawl_settings, "HLTV_BACKOFF_MAX_DELAY": 5.0}

    result = run_crawl("perf_economy", settings)

    first, second = server.request_times[("economy", 206389)]
    assert second - first >= 0.95
    assert result.stat("retry/reason_count/429 Unknown Status") == 1
    assert result.stat("hltv/maps/committed") == 1
    assert_matches_truth(database, 206389)
