"""When the site pushes back: refusals retried with backoff, Retry-After honoured."""

from __future__ import annotations

import pytest
from scrapy.utils.project import get_project_settings

from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import Answer, FixtureServer
from tests.support.slots import SLOT_PROBE
from tests.support.truth import CF_CHALLENGE, CF_HEADERS, assert_matches_truth, pending


@pytest.fixture
def crawl_settings(crawl_settings: dict) -> dict:
    """Plain HTTP pinned: these sites answer with challenges no browser could clear,
    and the tests are of how the plain path takes refusals (auto mode: test_auto.py)."""
    return {**crawl_settings, "HLTV_BROWSER": "0"}


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
                "HLTV_BACKOFF_START_DELAY": 0.1, "HLTV_BACKOFF_MAX_DELAY": 1.0, "EXTENSIONS": probed()}

    result = run_crawl("perf_economy", settings)

    assert server.requests[("performance", 206389)] == 4  # the first try and three retries
    # what the downloader was told to wait before sending each: the site's delay, from
    # 0 doubling from 0.1 s at each refusal (Scrapy spaces the sends by it; the arrivals
    # at a server on a busy machine may bunch up, so they are not what is checked)
    tries = [(seen.retry_times, seen.delay) for seen in result.stats["probe/slots"] if "/performance/" in seen.path]
    assert tries == [(0, 0.0), (1, 0.1), (2, 0.2), (3, 0.4)]
    assert result.stat("hltv/download_delay") == 0.8
    assert result.stat("hltv/maps/fetch_failed") == 1
    assert pending(database) == {206389}


@pytest.mark.slow
def test_429_with_retry_after_is_honoured_then_committed(server, database, crawl_settings):
    seed_scoreboard(database, 206389)
    server.script("economy", 206389, Answer(status=429, body=b"slow down", headers={"Retry-After": "1"}), Answer())
    settings = {**crawl_settings, "HLTV_BACKOFF_MAX_DELAY": 5.0, "EXTENSIONS": probed()}

    result = run_crawl("perf_economy", settings)

    assert server.requests[("economy", 206389)] == 2
    # the retry was sent after at least the second the site asked for, jitter included
    (retry,) = [s for s in result.stats["probe/slots"] if "/economy/" in s.path and s.retry_times == 1]
    assert retry.delay * (1 - retry.jitter) >= 1.0
    assert result.stat("retry/reason_count/429 Unknown Status") == 1
    assert result.stat("hltv/maps/committed") == 1
    assert_matches_truth(database, 206389)


def probed() -> dict:
    """The project's extensions and the slot probe."""
    return {**get_project_settings().getdict("EXTENSIONS"), **SLOT_PROBE}


def default_pacing() -> dict:
    """The project's own pacing, which the test crawls' fast settings override."""
    project = get_project_settings()
    names = ("DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY_JITTER")
    return {name: project[name] for name in names}


@pytest.mark.slow
def test_the_default_pacing_is_one_request_at_a_time_3_to_5_s_apart(server, database, crawl_settings):
    seed_scoreboard(database, 206389)

    result = run_crawl("perf_economy", {**crawl_settings, **default_pacing(), "EXTENSIONS": probed()})

    assert result.stat("hltv/maps/committed") == 1
    seen = result.stats["probe/slots"]
    assert len(seen) == 2 and {s.slot for s in seen} == {"127.0.0.1"}
    assert all(s.concurrency == 1 and s.jitter == 0.25 for s in seen)
    # DOWNLOAD_DELAY 4 s +- 25 %: never less than 3 s apart, AutoThrottle never below it
    assert all(4.0 <= s.delay <= 5.0 for s in seen), seen
    assert min(s.delay * (1 - s.jitter) for s in seen) >= 3.0


def test_with_proxies_each_address_gets_one_request_at_a_time(server, database, crawl_settings, tmp_path):
    seed_scoreboard(database, 206389)
    proxies = [FixtureServer().start(), FixtureServer().start()]
    listing = tmp_path / "proxies.txt"
    listing.write_text("".join(f"http://{p.address}\n" for p in proxies))
    try:
        result = run_crawl("perf_economy", {
            **crawl_settings, **default_pacing(), "EXTENSIONS": probed(), "HLTV_PROXIES": str(listing),
        })
    finally:
        for proxy in proxies:
            proxy.stop()

    assert result.stat("hltv/maps/committed") == 1
    seen = result.stats["probe/slots"]
    assert {s.slot for s in seen} == {p.address for p in proxies}  # a slot per proxy
    assert all(s.concurrency == 1 and s.delay >= 4.0 and s.jitter == 0.25 for s in seen), seen
