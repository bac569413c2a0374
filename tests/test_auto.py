"""Auto mode (the default): the crawl finds its own way through Cloudflare, in real Chromium.

Three local sites stand in for what the live one does: one that never challenges, one
whose challenge (a detector of automated browsers, ``tests/support/detector.py``) leaves
a clearance the plain path can use, and one whose clearance holds only for the browser
that earned it, so every page must be rendered. Each crawl runs with the project's
default fetch settings.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator

import pytest

from hltv_scraper.fetch.profiles import address_folder_name
from tests.support.crawl import run_crawl
from tests.support.detector import DetectorGate
from tests.support.seed import seed_scoreboard
from tests.support.server import FixtureServer
from tests.support.truth import assert_matches_truth, pending

MAPS = (206389, 164783)
THIRD_MAP = 219131


@pytest.fixture
def detector() -> DetectorGate:
    return DetectorGate()


@pytest.fixture
def server(detector: DetectorGate) -> Iterator[FixtureServer]:
    site = FixtureServer(gate=detector).start()
    yield site
    site.stop()


@pytest.fixture
def settings(crawl_settings: dict) -> dict:
    # the project's defaults; the tests' own abort rule keeps Chromium off the network
    return {**crawl_settings, "PLAYWRIGHT_ABORT_REQUEST": "tests.test_browser.local_only"}


def seed(database, maps=MAPS) -> None:
    for mapstatsid in maps:
        seed_scoreboard(database, mapstatsid)


def assert_every_map(result, database, maps=MAPS) -> None:
    assert result.stat("hltv/maps/committed") == len(maps)
    for mapstatsid in maps:
        assert_matches_truth(database, mapstatsid)
    assert pending(database) == set()


@pytest.mark.slow
def test_a_site_that_never_challenges_never_sees_a_browser(database, crawl_settings):
    seed(database)
    open_site = FixtureServer().start()
    try:
        result = run_crawl("perf_economy", {**crawl_settings, "HLTV_BASE_URL": open_site.base_url})
    finally:
        open_site.stop()

    assert_every_map(result, database)
    assert result.stat("playwright/browser_count") == 0
    assert result.stat("playwright/page_count") == 0  # Playwright never started either
    assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)
    assert not any(key.startswith("hltv/fetch/mode/") for key in result.stats)


@pytest.mark.slow
def test_one_solve_then_every_page_plain_and_the_next_crawl_solves_none(
    server, detector, database, settings, tmp_path, caplog,
):
    caplog.set_level(logging.INFO)
    seed(database)

    first = run_crawl("perf_economy", settings)

    assert_every_map(first, database)
    assert detector.runs >= 1 and detector.fired == set()  # the browser gave nothing away
    assert all(detector.renderers)  # and had WebGL
    assert first.stat("hltv/clearance/solved/browser") == 1
    assert first.stat("playwright/browser_count") == 1
    assert first.stat("hltv/fetch/mode/handoff") == 1
    assert first.stat("hltv/fetch/mode/browser") == 0
    assert first.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)
    assert first.stat("hltv/pages/fetched/browser") == 0
    assert "Pages: 4 over plain HTTP, 0 rendered in the browser; 1 challenge(s) solved" in caplog.text
    # the clearance is kept for the next crawl, readable by its owner only, never logged
    profiles = tmp_path / "db" / "browser-profiles"
    folder = profiles / address_folder_name(None)
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    saved = folder / "plain.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    token = next(c["value"] for c in __import__("json").loads(saved.read_text())["cookies"]
                 if c["name"] == "cf_clearance")
    assert token not in caplog.text
    # nor archived: the site set it on the browser's page, never kept in the archive
    assert not any(token in p.read_text() for p in (tmp_path / "archive").rglob("*.json"))

    # ten minutes later (the clearance still valid): another map, no solve, no browser
    seed(database, (THIRD_MAP,))
    challenges = detector.challenges
    second = run_crawl("perf_economy", settings)

    assert_every_map(second, database, (THIRD_MAP,))
    assert second.stat("hltv/clearance/solved/browser") == 0
    assert second.stat("playwright/browser_count") == 0
    assert detector.challenges == challenges


@pytest.mark.slow
def test_a_site_that_wants_a_browser_for_every_page_gets_every_page_rendered(database, settings, caplog):
    caplog.set_level(logging.INFO)
    detector = DetectorGate(bind_to_client=True)
    site = FixtureServer(gate=detector).start()
    seed(database)
    settings = {**settings, "HLTV_BASE_URL": site.base_url}
    try:
        result = run_crawl("perf_economy", settings)
        seed(database, (THIRD_MAP,))
        challenges = detector.challenges
        again = run_crawl("perf_economy", settings)
    finally:
        site.stop()

    assert detector.fired == set()
    # solved once, handed off, challenged again at once: every page in the browser
    assert result.stat("hltv/maps/committed") == len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert result.stat("hltv/clearance/solved/browser") == 1
    assert result.stat("hltv/fetch/mode/handoff") == 1
    assert result.stat("hltv/fetch/mode/browser") == 1
    assert result.stat("hltv/pages/fetched/browser") == 2 * len(MAPS)
    assert result.stat("hltv/pages/fetched/plain") == 0
    assert result.stat("playwright/browser_count") == 1
    assert "does not hold on the plain path" in caplog.text
    assert "Pages: 0 over plain HTTP, 4 rendered in the browser" in caplog.text
    # the next crawl renders from the first page, in a browser that kept its clearance
    assert_every_map(again, database, (THIRD_MAP,))
    assert again.stat("hltv/pages/fetched/browser") == 2 and again.stat("hltv/pages/fetched/plain") == 0
    assert again.stat("hltv/clearance/solved/browser") == 0 and again.stat("hltv/fetch/mode/browser") == 0
    assert detector.challenges == challenges


@pytest.mark.slow
def test_browser_mode_on_the_detector_fires_no_probe(server, detector, database, settings):
    seed(database, MAPS[:1])

    result = run_crawl("perf_economy", {**settings, "HLTV_BROWSER": "1"})

    assert_every_map(result, database, MAPS[:1])
    assert detector.runs >= 1 and detector.fired == set()


@pytest.mark.slow
def test_stock_playwright_is_caught_by_the_detector(server, detector, database, settings):
    # the detector is real: the same crawl through stock Playwright gives itself away
    seed(database, MAPS[:1])

    result = run_crawl("perf_economy", {
        **settings, "HLTV_BROWSER": "1", "HLTV_REFUSAL_RETRIES": 0, "HLTV_CHALLENGE_TIMEOUT": 2,
        "HLTV_BROWSER_HEADLESS": "1",  # stock Playwright starts no display of its own
        "PLAYWRIGHT_BROWSER_PROVIDER": "scrapy_playwright.provider.PlaywrightBrowserProvider",
    })

    assert result.stat("hltv/maps/committed") == 0
    assert {"webdriver", "main_world"} <= detector.fired


def test_without_chromium_auto_stops_at_the_first_challenge(server, detector, database, settings, tmp_path, caplog):
    seed(database, (*MAPS, THIRD_MAP))

    result = run_crawl("perf_economy", {**settings, "HLTV_BROWSER_EXECUTABLE": str(tmp_path / "chromium")})

    assert result.error is None
    assert result.close_reason == "hltv_fetch_failures"
    assert detector.challenges == 1  # one page asked, no loop of refusals
    assert result.stat("hltv/maps/committed") == 0
    assert pending(database) == {*MAPS, THIRD_MAP}  # left for a run with a browser
    lines = [r.getMessage() for r in caplog.records if "asks for a browser" in r.getMessage() and r.levelno >= logging.ERROR]
    assert len(lines) == 1 and lines[0].startswith("Stopping: the site asks") and "`make browser`" in lines[0]
    assert "`make browser` installs one" in result.stats["hltv/stopped_because"]
    assert "Traceback" not in caplog.text


def test_an_address_in_the_browser_goes_back_to_plain_after_its_time(caplog):
    from scrapy.utils.test import get_crawler

    from hltv_scraper.fetch.auto import HOLD_PAGES, AutoMode

    caplog.set_level(logging.INFO)
    stats = get_crawler().stats
    now = [1000.0]
    auto = AutoMode(stats, render_seconds=60, clock=lambda: now[0])
    proxy = "user:***@10.0.0.1:3128"

    auto.solved(proxy)
    for _ in range(HOLD_PAGES):
        assert not auto.clearance_held(proxy)  # challenged now: the clearance did not hold
        auto.plain_page(proxy)
    assert auto.clearance_held(proxy)  # challenged later: the clearance rotated, solve again
    assert auto.clearance_held(None)  # another address is judged on its own

    auto.switch_to_browser(proxy, "https://www.hltv.org/stats/matches/mapstatsid/1/x")
    assert auto.renders(proxy) and not auto.renders(None)
    now[0] += 59
    assert auto.renders(proxy)
    now[0] += 2
    assert not auto.renders(proxy)  # its time is up: plain HTTP again, a solve is due first
    assert auto.clearance_held(proxy)
    assert [stats.get_value(f"hltv/fetch/mode/{m}") for m in ("handoff", "browser", "plain")] == [1, 1, 1]
    switches = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Auto mode:")]
    assert len(switches) == 3 and all(proxy in line for line in switches)


def test_each_address_has_its_own_profile_folder_named_without_credentials():
    names = {address_folder_name(label) for label in (None, "user:***@10.0.0.1:3128", "10.0.0.2:8080")}

    assert len(names) == 3 and "direct" in names
    assert not any("user" in name or "10.0.0" in name for name in names)
