"""Handoff (``HLTV_BROWSER=handoff``): pages over plain HTTP (impersonating Chrome), a
challenge solved once in real Chromium, its cookies and User-Agent handed to the plain
path.

The local site stands behind a :class:`ClearanceGate`: every page is a challenge unless
the request carries a current ``cf_clearance`` cookie AND the User-Agent of the browser
that earned it, as Cloudflare does.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import FixtureServer
from tests.support.truth import assert_matches_truth, pending

MAPS = (206389, 164783, 219131)


@pytest.fixture
def server(gated_server: FixtureServer) -> FixtureServer:
    return gated_server  # the site is behind Cloudflare


@pytest.fixture
def handoff_settings(crawl_settings) -> dict:
    return {
        **crawl_settings,
        "HLTV_BROWSER": "handoff",
        "PLAYWRIGHT_ABORT_REQUEST": "tests.test_browser.local_only",
        # one page at a time: the order of solves and pages is the test's to know
        "CONCURRENT_REQUESTS": 1,
        "HLTV_MAPS_IN_FLIGHT": 1,
    }


def seed(database) -> None:
    for mapstatsid in MAPS:
        seed_scoreboard(database, mapstatsid)


@pytest.mark.slow
def test_one_browser_solve_then_every_page_over_plain_http(server, gate, database, handoff_settings):
    seed(database)

    result = run_crawl("perf_economy", handoff_settings)

    assert result.error is None
    assert result.stat("hltv/maps/committed") == len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert pending(database) == set()
    # the first page was challenged, solved once in Chromium, then fetched plain
    assert result.stat("hltv/clearance/solved/browser") == 1
    assert result.stat("playwright/browser_count") == 1
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)
    assert result.stat("hltv/pages/fetched/browser") == 0
    assert result.stat("hltv/refused/cloudflare_challenge") == 0
    # the site: one challenge for the plain path, one in the browser; every page passed
    assert gate.challenges == 2
    assert gate.passed == 1 + 2 * len(MAPS)  # the browser's reload, then the plain pages
    # the plain path looked like Chrome and sent the browser's exact User-Agent
    assert plain_user_agents(server) == {browser_user_agent(server)}
    # a windowed Chromium, the default: a normal Chrome User-Agent
    assert "Chrome/" in browser_user_agent(server) and "Headless" not in browser_user_agent(server)
    first = server.request_headers[0]  # before the handoff: curl_cffi's own Chrome
    assert "http2-settings" in first and "sec-ch-ua" in first and "cookie" not in first


def plain_user_agents(server: FixtureServer) -> set[str]:
    """User-Agents of the requests curl_cffi sent (its own headers, not the browser's)
    with a clearance cookie."""
    return {h["user-agent"] for h in server.request_headers
            if "http2-settings" in h and "cf_clearance=" in h.get("cookie", "")}


def browser_user_agent(server: FixtureServer) -> str:
    agents = {h["user-agent"] for h in server.request_headers if "http2-settings" not in h}
    assert len(agents) == 1, agents
    return agents.pop()


@pytest.mark.slow
def test_headful_under_xvfb_then_the_display_is_gone(server, gate, database, handoff_settings, caplog, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    caplog.set_level(logging.INFO, logger="hltv_scraper.fetch.xvfb")
    seed_scoreboard(database, MAPS[0])

    result = run_crawl("perf_economy", {**handoff_settings, "HLTV_BROWSER_HEADLESS": "0"})

    assert result.stat("hltv/maps/committed") == 1
    assert_matches_truth(database, MAPS[0])
    assert result.stat("hltv/clearance/solved/browser") == 1
    # a windowed Chromium says so in its User-Agent, and the plain path said it too
    agent = browser_user_agent(server)
    assert "Chrome/" in agent and "Headless" not in agent
    assert plain_user_agents(server) == {agent}
    started = re.search(r"Started Xvfb on display :(\d+) \(pid (\d+)\)", caplog.text)
    assert started, caplog.text
    display, pid = started.groups()
    assert "Stopped Xvfb" in caplog.text
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped
    assert not Path(f"/tmp/.X11-unix/X{display}").exists()
    assert not Path(f"/tmp/.X{display}-lock").exists()


@pytest.mark.slow
def test_a_rotated_clearance_is_solved_again(server, gate, database, handoff_settings):
    seed(database)
    admitted = []

    def rotate_after_two_pages(verdict: bool) -> None:
        admitted.append(verdict)
        if sum(admitted) == 3 and verdict:  # the browser's page, then two plain pages
            gate.rotate()

    gate.on_request = rotate_after_two_pages

    result = run_crawl("perf_economy", {**handoff_settings, "HLTV_BROWSER_IDLE_SECONDS": 0})

    assert result.stat("hltv/maps/committed") == len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert result.stat("hltv/clearance/solved/browser") == 2
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)
    # the browser closed when idle and was launched again for the second solve
    assert result.stat("hltv/browser/closed_idle") >= 1
    assert result.stat("playwright/browser_count") == 2


@pytest.mark.slow
def test_no_challenge_no_browser(database, handoff_settings):
    # a site without Cloudflare in front: the browser is never launched
    seed(database)
    open_site = FixtureServer().start()
    try:
        result = run_crawl("perf_economy", {**handoff_settings, "HLTV_BASE_URL": open_site.base_url})
    finally:
        open_site.stop()

    assert result.stat("hltv/maps/committed") == len(MAPS)
    assert result.stat("playwright/browser_count") == 0
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)
