"""An exit status that tells the truth: a crawl that fetched nothing of what it asked for
did not finish, however few its units; the end of the results listing is no error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hltv_scraper.brakes import (
    CLOSE_REASON_NOTHING,
    CLOSE_REASON_UNREACHABLE,
    nothing_fetched,
)
from hltv_scraper.commands._crawling import exit_status
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import Answer
from tests.test_unreachable import closed_port

ROOT = Path(__file__).resolve().parent.parent
TWO_MAPS = [206389, 219128]  # fewer than any streak of the brakes


@pytest.fixture
def two_maps(database) -> None:
    for mapstatsid in TWO_MAPS:
        seed_scoreboard(database, mapstatsid)


@pytest.mark.parametrize(("answer", "reasons"), [
    (Answer(status=404, body=b"not found"), "http_404: 4"),
    (Answer(status=410, body=b"gone"), "http_410: 4"),
    (Answer(body=b"<html><body>Some other page</body></html>"), "not_the_page: 4"),
])
def test_a_crawl_that_fetched_nothing_did_not_finish(server, crawl_settings, two_maps, answer, reasons, caplog):
    server.script_all(answer)
    caplog.set_level(logging.INFO)

    result = run_crawl("perf_economy", crawl_settings)

    assert result.close_reason == CLOSE_REASON_NOTHING
    assert exit_status(result.close_reason) == 1
    assert result.stat("hltv/maps/fetch_failed") == 2
    line = f"nothing was stored: all 2 maps asked for could not be fetched ({reasons})"
    assert result.stats["hltv/stopped_because"].startswith(line)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        f"Stopping: {result.stats['hltv/stopped_because']}"
    ]


def test_a_site_nothing_answers_at_is_unreachable_with_fewer_units_than_the_streak(crawl_settings, two_maps):
    settings = {**crawl_settings, "HLTV_BASE_URL": f"http://127.0.0.1:{closed_port()}"}

    result = run_crawl("perf_economy", settings)

    assert result.close_reason == CLOSE_REASON_UNREACHABLE
    assert "nothing answered: check HLTV_BASE_URL" in result.stats["hltv/stopped_because"]


def test_one_map_fetched_is_a_crawl_that_finished(server, crawl_settings, two_maps):
    server.script("performance", TWO_MAPS[0], Answer(status=404, body=b"not found"))

    result = run_crawl("perf_economy", crawl_settings)

    assert result.close_reason == "finished"
    assert result.stat("hltv/maps/committed") == 1 and result.stat("hltv/maps/fetch_failed") == 1


def test_nothing_asked_for_is_nothing_to_complain_about():
    assert nothing_fetched("maps", {"requested": 0, "fetch_failed": 0}, {}) is None
    assert nothing_fetched("maps", {"requested": 3, "fetch_failed": 2}, {"http_404": 2}) is None
    stop = nothing_fetched("results_pages", {"requested": 1, "fetch_failed": 1}, {"not_in_archive": 1})
    assert stop.message == ("nothing was stored: the one results page asked for could not be fetched "
                            "(not_in_archive: 1); the archive (HLTV_ARCHIVE_DIR) has none of them")


def replay(database_settings: dict) -> dict:
    return {**database_settings, "HLTV_REPLAY": "1", "HLTV_ARCHIVE_DIR": str(ROOT / "fixtures" / "archive")}


@pytest.mark.slow
def test_the_end_of_an_archived_listing_is_no_error(crawl_settings, caplog):
    caplog.set_level(logging.INFO)

    result = run_crawl("results", replay(crawl_settings))

    assert result.close_reason == "finished"
    assert result.stat("hltv/results_pages/committed") >= 1
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(r.getMessage().endswith("is not there: the end of the listing (not_in_archive): stopping")
               for r in caplog.records if r.levelno == logging.INFO)


def test_a_replay_from_an_offset_the_archive_does_not_hold_did_not_finish(crawl_settings, caplog):
    caplog.set_level(logging.INFO)

    result = run_crawl("results", replay(crawl_settings), offset="50")

    assert result.close_reason == CLOSE_REASON_NOTHING
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "Stopping: nothing was stored: the one results page asked for could not be fetched "
        "(not_in_archive: 1); the archive (HLTV_ARCHIVE_DIR) has none of them"
    ]
