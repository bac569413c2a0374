"""Proxies (``HLTV_PROXIES``): real `perf_economy` crawls through local forward proxies.

Each proxy is a FixtureServer of its own (an "address" of the crawl): it answers the
absolute-URI requests a proxy receives with the fixture pages, counts them, and can be
scripted to refuse like Cloudflare. The site itself (``HLTV_BASE_URL``) is never
reached directly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from hltv_scraper.config import HltvConfig, mask, read_proxies
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import Answer, FixtureServer
from tests.support.truth import ALL_MAPS, CF_CHALLENGE, CF_HEADERS, assert_matches_truth, pending

CHALLENGE = Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS)
SECRET = "s3cr3t-pa55"


@pytest.fixture
def proxies() -> Iterator[list[FixtureServer]]:
    """Three proxies; the second wants credentials."""
    servers = [FixtureServer().start(), FixtureServer(proxy_auth=f"crawler:{SECRET}").start(),
               FixtureServer().start()]
    yield servers
    for server in servers:
        server.stop()


def proxy_url(server: FixtureServer) -> str:
    if server._proxy_auth:
        return f"http://crawler:{SECRET}@{server.address}"
    return f"http://{server.address}"


def label(server: FixtureServer) -> str:
    return mask(proxy_url(server))


@pytest.fixture
def proxy_settings(proxies, crawl_settings, tmp_path) -> dict:
    listing = tmp_path / "proxies.txt"
    lines = ["# our addresses", ""] + [proxy_url(s) for s in proxies]
    listing.write_text("\n".join(lines) + "\n")
    # plain HTTP: these proxies refuse with a challenge no browser could clear
    return {**crawl_settings, "HLTV_PROXIES": str(listing), "HLTV_BROWSER": "0"}


def seed(database: Path, maps=ALL_MAPS[:6]) -> tuple[int, ...]:
    for mapstatsid in maps:
        seed_scoreboard(database, mapstatsid)
    return tuple(maps)


@pytest.mark.slow
def test_requests_spread_over_the_proxies_and_every_map_is_stored(server, proxies, database, proxy_settings):
    maps = seed(database)

    result = run_crawl("perf_economy", proxy_settings)

    assert result.error is None
    assert result.stat("hltv/maps/committed") == len(maps)
    for mapstatsid in maps:
        assert_matches_truth(database, mapstatsid)
    assert sum(server.requests.values()) == 0  # never the site directly
    served = [sum(p.requests.values()) for p in proxies]
    assert sum(served) == 2 * len(maps)
    assert all(p.proxied == sum(p.requests.values()) for p in proxies)  # as proxies
    assert min(served) >= 2, served  # each carried its share
    assert result.stat("hltv/proxies/active") == 3
    assert [result.stat(f"hltv/proxy/{label(p)}/pages") for p in proxies] == served
    # each proxy is its own download slot
    assert result.stat("hltv/proxies/benched") == 0


@pytest.mark.slow
def test_a_refusing_proxy_is_benched_while_the_others_carry_the_crawl(server, proxies, database, proxy_settings):
    maps = seed(database, ALL_MAPS)
    refusing = proxies[1]
    refusing.script_all(CHALLENGE)
    settings = {**proxy_settings, "HLTV_PROXY_MAX_REFUSALS": 2, "HLTV_REFUSAL_RETRIES": 3,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 1}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "finished"
    assert result.stat("hltv/maps/committed") == len(maps)
    assert result.stat("hltv/maps/fetch_failed") == 0
    for mapstatsid in maps:
        assert_matches_truth(database, mapstatsid)
    assert pending(database) == set()
    assert result.stat(f"hltv/proxy/{label(refusing)}/benched") == 1
    assert result.stat(f"hltv/proxy/{label(refusing)}/pages") == 0
    # benched after two refusals: at most the requests already queued on it followed
    asked = sum(refusing.requests.values())
    assert 2 <= asked <= 3, asked
    others = [p for p in proxies if p is not refusing]
    assert sum(sum(p.requests.values()) for p in others) == 2 * len(maps)
    # its refusals slowed its own slot down, not the others'
    assert result.stat("hltv/refused/cloudflare_challenge") == asked


@pytest.mark.slow
def test_a_benched_proxy_comes_back_after_its_bench(server, proxies, database, proxy_settings, caplog):
    maps = seed(database, ALL_MAPS)
    flaky = proxies[0]
    flaky.script_all(CHALLENGE, Answer())  # refuses once, then serves pages
    settings = {**proxy_settings, "HLTV_PROXY_MAX_REFUSALS": 1, "HLTV_PROXY_BENCH_SECONDS": 0.3,
                "HLTV_REFUSAL_RETRIES": 3, "DOWNLOAD_DELAY": 0.1, "DOWNLOAD_DELAY_JITTER": 0,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    caplog.set_level(logging.INFO, logger="hltv_scraper.fetch.proxies")

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == len(maps)
    assert result.stat(f"hltv/proxy/{label(flaky)}/benched") == 1
    assert f"Proxy {label(flaky)} is back from the bench" in caplog.text
    assert result.stat(f"hltv/proxy/{label(flaky)}/pages") > 0  # it carried pages again


def test_every_proxy_refusing_stops_the_crawl(server, proxies, database, proxy_settings, caplog):
    maps = seed(database, ALL_MAPS)
    for proxy in proxies:
        proxy.script_all(CHALLENGE)
    # the spider's own stop rule is far away: the proxies stop the crawl
    settings = {**proxy_settings, "HLTV_PROXY_MAX_REFUSALS": 2, "HLTV_MAX_FETCH_FAILURES": 1000}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == "hltv_fetch_failures"
    assert "every proxy (3) is benched" in caplog.text
    assert result.stat("hltv/proxies/benched") == 3
    assert result.stat("hltv/maps/committed") == 0
    assert pending(database) == set(maps)
    # each proxy was asked until it was benched, then no more: its two refusals, and
    # at most what the downloader already held for it (CONCURRENT_REQUESTS in all)
    for proxy in proxies:
        assert 2 <= sum(proxy.requests.values()) <= 2 + 8


@pytest.mark.slow
def test_proxy_credentials_never_show(server, proxies, database, proxy_settings, caplog):
    seed(database, ALL_MAPS[:4])
    proxies[1].script("performance", ALL_MAPS[0], CHALLENGE, Answer())  # a warning or two
    caplog.set_level(logging.DEBUG)
    settings = {**proxy_settings, "LOG_LEVEL": "DEBUG", "LOGSTATS_INTERVAL": 0.05,
                "COOKIES_DEBUG": True, "DOWNLOAD_DELAY": 0.05}

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == 4
    # the proxy with credentials was used, and got them (it answers 407 without)
    assert result.stat(f"hltv/proxy/crawler:***@{proxies[1].address}/pages") > 0
    # the progress line has a part per proxy, by its masked name
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[perf_economy] maps: ")]
    assert progress and f"crawler:***@{proxies[1].address} " in progress[-1]
    assert re.search(r"\| proxies: (\S+ \d+ ok/\d+ refused, ){2}\S+ \d+ ok/\d+ refused$", progress[-1]), progress[-1]
    assert SECRET not in caplog.text
    assert SECRET not in repr(result.stats)


@pytest.mark.slow
def test_impersonating_chrome_through_the_proxies(server, proxies, database, proxy_settings):
    maps = seed(database, ALL_MAPS[:3])

    result = run_crawl("perf_economy", {**proxy_settings, "HLTV_IMPERSONATE": "chrome"})

    assert result.stat("hltv/maps/committed") == len(maps)
    for mapstatsid in maps:
        assert_matches_truth(database, mapstatsid)
    assert result.stat("impersonate/request_bytes") > 0
    # curl_cffi sent the credentials to the proxy that wants them (it answers 407 without)
    assert [sum(p.requests.values()) for p in proxies] == [2, 2, 2]
    assert result.stat(f"hltv/proxy/{label(proxies[1])}/pages") == 2
    assert all("Chrome/" in h["user-agent"] for p in proxies for h in p.request_headers)


@pytest.mark.parametrize(("content", "message"), [
    pytest.param("http://a:1\nhttp://user:hunter2@host\n", r"line 2 \('user:\*\*\*@host'\).*no port", id="no-port"),
    pytest.param("socks5://10.0.0.1:1080\n", r"line 1 .*scheme", id="scheme"),
    pytest.param("10.0.0.1:3128\n", r"line 1 .*scheme", id="no-scheme"),
    pytest.param("http://host:port\n", r"line 1 .*port is not a number", id="bad-port"),
    pytest.param("# nothing yet\n\n", "lists no proxy", id="empty"),
])
def test_a_malformed_proxies_file_is_a_clear_error_before_any_request(
    server, database, crawl_settings, tmp_path, content, message
):
    seed(database, ALL_MAPS[:1])
    listing = tmp_path / "proxies.txt"
    listing.write_text(content)

    result = run_crawl("perf_economy", {**crawl_settings, "HLTV_PROXIES": str(listing)})

    assert isinstance(result.error, UsageError)
    assert str(listing) in str(result.error)
    with pytest.raises(UsageError, match=message):
        read_proxies(listing)
    assert "hunter2" not in str(result.error)
    assert result.stat("downloader/request_count") == 0
    assert sum(server.requests.values()) == 0


def test_an_unreadable_proxies_file_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="HLTV_PROXIES: cannot read .*missing.txt"):
        HltvConfig.from_settings(Settings({"HLTV_PROXIES": str(tmp_path / "missing.txt")}))


def test_a_bad_proxy_line_never_shows_its_password(tmp_path):
    listing = tmp_path / "proxies.txt"
    listing.write_text("http://bob:s3cr/et@proxy.example\n")  # a raw "/" in it, and no port
    with pytest.raises(UsageError, match=r"line 1 \('bob:\*\*\*@proxy.example'\)") as error:
        HltvConfig.from_settings(Settings({"HLTV_PROXIES": str(listing)}))
    assert "s3cr" not in str(error.value)


def test_masking_and_browser_contexts(tmp_path):
    from hltv_scraper.fetch.scrapy_settings import _contexts

    assert mask("http://user:p%40ss@10.0.0.1:3128") == "user:***@10.0.0.1:3128"
    assert mask("http://10.0.0.1:3128") == "10.0.0.1:3128"
    assert mask("http://bob:s3cr/et@proxy.example:8080") == "bob:***@proxy.example:8080"
    listing = tmp_path / "proxies.txt"
    listing.write_text("http://user:p%40ss@10.0.0.1:3128\nhttp://10.0.0.2:8080\n")
    contexts = _contexts(HltvConfig.from_settings(Settings({
        "HLTV_PROXIES": str(listing), "HLTV_BROWSER_PROFILE_DIR": str(tmp_path / "profiles"),
    })))
    assert contexts == {
        "hltv user:***@10.0.0.1:3128": {
            "no_viewport": True, "proxy": {"server": "http://10.0.0.1:3128", "username": "user", "password": "p@ss"},
        },
        "hltv 10.0.0.2:8080": {"no_viewport": True, "proxy": {"server": "http://10.0.0.2:8080"}},
    }


@pytest.mark.slow
def test_browser_mode_has_a_context_per_proxy(server, proxies, database, proxy_settings):
    maps = seed(database, (206389,))  # the smallest map: two pages, on two proxies
    settings = {**proxy_settings, "HLTV_BROWSER": "1",
                "PLAYWRIGHT_ABORT_REQUEST": "tests.test_browser.local_only"}

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == len(maps)
    for mapstatsid in maps:
        assert_matches_truth(database, mapstatsid)
    assert sum(server.requests.values()) == 0  # Chromium went through the proxies
    served = [sum(p.requests.values()) for p in proxies]
    assert served == [1, 1, 0]
    assert result.stat("playwright/context_count") == len(proxies)  # one per proxy
    # the proxy with credentials was used with them (it answers 407 without)
    assert served[1] > 0 and result.stat(f"hltv/proxy/{label(proxies[1])}/pages") == served[1], served
