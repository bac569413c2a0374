"""Unreachable is not refused: a site (or proxy) that nothing answers at stops the crawl
as ``hltv_site_unreachable``, soon, with the address and the error; no Cloudflare advice."""

from __future__ import annotations

import logging
import socket

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.utils.project import get_project_settings
from twisted.internet import error

from hltv_scraper.brakes import CLOSE_REASON_UNREACHABLE, fetch_verdict
from hltv_scraper.config import HltvConfig
from hltv_scraper.fetch.errors import unreachable_reason
from hltv_scraper.stages import STAGES
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.truth import ALL_MAPS, pending

MAPS = ALL_MAPS[:6]


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def nowhere(crawl_settings, database) -> tuple[dict, str]:
    for mapstatsid in MAPS:
        seed_scoreboard(database, mapstatsid)
    address = f"127.0.0.1:{closed_port()}"
    # the project's one request at a time per address, with a delay short for a test
    # and long enough for the crawl's decisions to keep up with the failures
    return {**crawl_settings, "HLTV_BASE_URL": f"http://{address}", "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "DOWNLOAD_DELAY": 0.3, "DOWNLOAD_DELAY_JITTER": 0}, address


@pytest.mark.slow
def test_a_site_nothing_answers_at_stops_the_crawl_as_unreachable(nowhere, database, caplog):
    settings, address = nowhere
    caplog.set_level(logging.WARNING)

    result = run_crawl("perf_economy", settings)

    assert result.error is None
    assert result.close_reason == CLOSE_REASON_UNREACHABLE
    max_unreachable = HltvConfig().max_unreachable
    # two pages a map, each sent once (not retried); then, but for what was already on
    # its way, nothing more is sent
    sent = result.stat("hltv/unreachable")
    assert 2 * max_unreachable <= sent <= 2 * max_unreachable + 2, sent  # +2: a busy machine
    # the pages still waiting for their turn were not sent: their maps stay pending too
    assert result.stat("hltv/maps/fetch_failed") >= max_unreachable
    assert result.stat("retry/count") == 0
    assert not [k for k in result.stats if k.startswith("hltv/refused/")]
    message = result.stats["hltv/stopped_because"]
    assert f"the last with unreachable: connection refused ({address})" in message
    assert "refusing" not in message and "Cloudflare" not in message
    assert f"unreachable: connection refused ({address})" in caplog.text
    assert pending(database) == set(MAPS)  # nothing lost an attempt


def test_the_results_listing_stops_at_its_first_unreachable_page(nowhere):
    settings, address = nowhere

    result = run_crawl("results", settings, pages="1")

    assert result.close_reason == CLOSE_REASON_UNREACHABLE
    assert result.stat("downloader/request_count") == 1
    assert address in result.stats["hltv/stopped_because"]


def test_at_the_default_settings_a_crawl_that_reaches_nothing_stops_within_a_minute():
    # what the crawl above decided (each unreachable page tried once, the stop after
    # HLTV_MAX_UNREACHABLE units in a row), at the project's own pacing: refused
    # connections and failed lookups cost no time, only the delay between requests
    project = get_project_settings()
    longest_wait = project.getfloat("DOWNLOAD_DELAY") * (1 + project.getfloat("DOWNLOAD_DELAY_JITTER"))
    assert project.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    most_pages = max(len(stage.pages) for stage in STAGES.values())
    requests = HltvConfig().max_unreachable * most_pages
    assert requests * longest_wait < 60, (requests, longest_wait)
    # and a connect that times out is given up after DOWNLOAD_TIMEOUT, not Scrapy's 180 s
    assert project.getfloat("DOWNLOAD_TIMEOUT") <= 30


@pytest.mark.parametrize(("exc", "what"), [
    (DownloadConnectionRefusedError("Connection was refused by other side: 111"), "connection refused"),
    (error.ConnectionRefusedError(), "connection refused"),
    (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: hltv.invalid."), "no such host (DNS lookup failed)"),
    (error.DNSLookupError(), "no such host (DNS lookup failed)"),
    (error.TCPTimedOutError(), "connect timed out"),
    (DownloadTimeoutError("User timeout caused connection failure."), "connect timed out"),
])
def test_what_counts_as_unreachable(exc, what):
    assert unreachable_reason(exc, "hltv.org:443") == f"unreachable: {what} (hltv.org:443)"


@pytest.mark.parametrize("exc", [
    DownloadTimeoutError("Getting https://www.hltv.org/stats/matches/mapstatsid/1/x took longer than 30.0 seconds."),
    error.ConnectionLost(),
    ValueError("a bug"),
])
def test_a_slow_page_or_a_lost_connection_is_not_unreachable(exc):
    assert unreachable_reason(exc, "hltv.org:443") is None


def test_the_verdict_on_a_units_fetch_failures():
    gone = "unreachable: connection refused (h:1)"
    assert fetch_verdict([gone, gone]) == (False, gone)
    assert fetch_verdict(["cloudflare_challenge", gone]) == (True, None)  # the site answered
    assert fetch_verdict(["flaresolverr_unreachable: no answer from http://x/v1"]) == (True, None)
    assert fetch_verdict(["not_in_archive"]) == (False, None)


def test_with_proxies_that_are_all_unreachable_the_crawl_stops_naming_them(server, database, crawl_settings, tmp_path):
    for mapstatsid in MAPS:
        seed_scoreboard(database, mapstatsid)
    addresses = [f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"]
    listing = tmp_path / "proxies.txt"
    listing.write_text("".join(f"http://{a}\n" for a in addresses))

    result = run_crawl("perf_economy", {**crawl_settings, "HLTV_PROXIES": str(listing)})

    assert result.close_reason == CLOSE_REASON_UNREACHABLE
    assert result.stat("hltv/proxies/benched") == 2
    message = result.stats["hltv/stopped_because"]
    assert all(f"unreachable: connection refused ({a})" in message for a in addresses), message
    assert sum(server.requests.values()) == 0
    assert pending(database) == set(MAPS)
