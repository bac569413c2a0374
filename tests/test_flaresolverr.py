"""``HLTV_FLARESOLVERR_URL``: challenges solved by a FlareSolverr service (a local
stand-in speaking its v1 API), its solution handed to the plain path."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from tests.support.crawl import run_crawl
from tests.support.flaresolverr_standin import USER_AGENT, FlareSolverrStandIn
from tests.support.seed import seed_scoreboard
from tests.support.server import ClearanceGate, FixtureServer
from tests.support.truth import assert_matches_truth, pending

MAPS = (206389, 162345, 219131)


@pytest.fixture
def server(gated_server: FixtureServer) -> FixtureServer:
    return gated_server  # the site is behind Cloudflare


@pytest.fixture
def flaresolverr() -> Iterator[FlareSolverrStandIn]:
    standin = FlareSolverrStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def settings(crawl_settings, database, flaresolverr) -> dict:
    for mapstatsid in MAPS:
        seed_scoreboard(database, mapstatsid)
    return {**crawl_settings, "HLTV_FLARESOLVERR_URL": flaresolverr.url,
            "CONCURRENT_REQUESTS": 1, "HLTV_MAPS_IN_FLIGHT": 1}


def cmds(standin: FlareSolverrStandIn) -> list[str]:
    return [command["cmd"] for command in standin.commands]


@pytest.mark.slow
def test_a_challenged_page_comes_from_flaresolverr_then_the_plain_path_goes_on(server, gate, database, flaresolverr, settings):
    result = run_crawl("perf_economy", settings)

    assert result.error is None
    assert result.stat("hltv/maps/committed") == len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert pending(database) == set()
    assert result.stat("hltv/clearance/solved/flaresolverr") == 1
    assert result.stat("hltv/pages/fetched/flaresolverr") == 1  # its solution was the page
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS) - 1
    assert cmds(flaresolverr) == ["sessions.create", "request.get", "sessions.destroy"]
    assert flaresolverr.sessions == {}
    # after the handoff, every plain request had FlareSolverr's User-Agent and cookie
    assert gate.challenges == 2  # ours, and the stand-in's browser's
    cleared = [h for h in server.request_headers if "cf_clearance=" in h.get("cookie", "")]
    assert len(cleared) == 1 + (2 * len(MAPS) - 1)
    assert {h["user-agent"] for h in cleared} == {USER_AGENT}


@pytest.mark.slow
def test_an_interstitial_with_the_clearance_is_retried_plain(server, database, flaresolverr, settings):
    # what FlareSolverr 3.3.21 answered for this challenge: the page it first saw, and the cookie
    flaresolverr.interstitial = True

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert result.stat("hltv/clearance/solved/flaresolverr") == 1
    assert result.stat("hltv/pages/fetched/flaresolverr") == 0
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)


@pytest.mark.slow
def test_flaresolverr_down_is_a_fetch_failure_with_its_reason(server, database, settings, caplog):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"

    result = run_crawl("perf_economy", {**settings, "HLTV_FLARESOLVERR_URL": url})

    assert result.error is None
    assert result.close_reason == "hltv_nothing_fetched"  # no page came: the crawl did not finish
    assert result.stat("hltv/maps/committed") == 0
    assert result.stat("hltv/maps/fetch_failed") == len(MAPS)
    # reported, not crashed: the one error is the line saying nothing was stored
    assert result.stat("log_count/ERROR") == 1
    assert result.stats["hltv/stopped_because"].startswith("nothing was stored")
    assert f"flaresolverr_unreachable: no answer from {url}" in caplog.text
    assert pending(database) == set(MAPS)


def test_a_flaresolverr_error_is_a_fetch_failure_with_its_message(server, database, flaresolverr, settings, caplog):
    flaresolverr.fail_with = "Error: Error solving the challenge. Timeout after 60.0 seconds."
    caplog.set_level(logging.WARNING)

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == 0
    assert result.stat("hltv/maps/fetch_failed") == len(MAPS)
    assert result.stat("hltv/clearance/failed/flaresolverr") >= len(MAPS)
    assert "flaresolverr_error: request.get: Error: Error solving the challenge. Timeout after 60.0 seconds." in caplog.text
    assert result.close_reason == "hltv_nothing_fetched"
    assert result.stat("log_count/ERROR") == 1  # the line saying nothing was stored
    assert pending(database) == set(MAPS)


@pytest.mark.slow
def test_each_proxy_gets_its_own_flaresolverr_session_and_clearance(database, flaresolverr, settings, tmp_path):
    # two addresses, each a site of its own behind its own Cloudflare
    gates = [ClearanceGate(), ClearanceGate()]
    proxies = [FixtureServer(gate=g, proxy_auth="me:pw" if i else None).start() for i, g in enumerate(gates)]
    listing = tmp_path / "proxies.txt"
    listing.write_text(f"http://{proxies[0].address}\nhttp://me:pw@{proxies[1].address}\n")
    try:
        result = run_crawl("perf_economy", {**settings, "HLTV_PROXIES": str(listing)})
    finally:
        for proxy in proxies:
            proxy.stop()

    assert result.stat("hltv/maps/committed") == len(MAPS)
    assert result.stat("hltv/clearance/solved/flaresolverr") == 2  # one clearance each
    created = [c for c in flaresolverr.commands if c["cmd"] == "sessions.create"]
    assert sorted(c["proxy"]["url"] for c in created) == sorted(f"http://{p.address}" for p in proxies)
    assert [c["proxy"].get("username") for c in created if c["proxy"]["url"].endswith(proxies[1].address)] == ["me"]
    assert cmds(flaresolverr).count("sessions.destroy") == 2
    assert all(g.passed > 0 for g in gates)


@pytest.mark.slow
def test_pages_wait_for_the_clearance_instead_of_meeting_the_same_challenge(server, gate, database, flaresolverr, settings):
    # six pages may be in flight at once: only the first meets the challenge, the others
    # wait for how it went, then for the solve (the old code: six challenges, one solve)
    settings = {**settings, "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "HLTV_MAPS_IN_FLIGHT": 4}

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == len(MAPS)
    assert result.stat("hltv/clearance/solved/flaresolverr") == 1
    assert result.stat("hltv/clearance/challenged") == 1
    assert gate.challenges == 2  # ours, and the stand-in's browser's
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS) - 1
