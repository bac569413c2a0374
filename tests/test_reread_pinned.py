"""No page pinned: a unit whose last attempt failed is fetched anew, not served from the
archive that holds the failing copy; ``requeue`` fetches anew too; a replay never does."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.crawl import run_crawl
from tests.support.pages import page_bytes
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import Answer
from tests.support.truth import assert_matches_truth

ROOT = Path(__file__).resolve().parent.parent
MAP = 164779
CUT = page_bytes("special-performance-truncated-mid-chart-performance-164779")


def archived(settings: dict, page: str) -> bytes:
    return gzip.decompress((Path(settings["HLTV_ARCHIVE_DIR"]) / page / f"{MAP}.html.gz").read_bytes())


@pytest.mark.slow
def test_a_page_cut_off_then_whole_is_fetched_anew_and_stored_exactly(server, database, crawl_settings):
    seed_scoreboard(database, MAP)
    server.script("performance", MAP, Answer(body=CUT), Answer())

    first = run_crawl("perf_economy", crawl_settings)
    assert first.stat("hltv/maps/failed") == 1
    assert archived(crawl_settings, "performance") == CUT  # it passed the refusal check

    second = run_crawl("perf_economy", crawl_settings)
    assert second.stat("hltv/maps/committed") == 1
    assert server.requests[("performance", MAP)] == 2  # fetched anew, not the archived cut
    # the economy page of a failed unit is fetched anew as well: its copy may be the bad one
    assert server.requests[("economy", MAP)] == 2
    assert_matches_truth(database, MAP, attempts=1)
    assert archived(crawl_settings, "performance") == page_bytes(f"performance-{MAP}")

    # stored: a later crawl of it (named) is served from the archive again
    run_crawl("perf_economy", crawl_settings, mapstatsid=str(MAP))
    assert server.requests[("performance", MAP)] == 2


@pytest.mark.slow
def test_a_replay_serves_the_archive_only_even_after_a_failure(server, database, crawl_settings):
    seed_scoreboard(database, MAP)
    server.script("performance", MAP, Answer(body=CUT), Answer())
    run_crawl("perf_economy", crawl_settings)

    replay = run_crawl("perf_economy", {**crawl_settings, "HLTV_REPLAY": True})
    assert replay.stat("hltv/maps/failed") == 1  # the archived cut again
    assert server.requests[("performance", MAP)] == 1
    assert rows(database, "SELECT perf_economy_at FROM maps WHERE mapstatsid = ?", MAP) == [(None,)]


@pytest.mark.slow
def test_requeue_fetches_the_page_anew(server, database, crawl_settings):
    seed_scoreboard(database, MAP)
    server.script("performance", MAP, Answer(body=CUT), Answer())
    settings = {**crawl_settings, "HLTV_MAX_ATTEMPTS": 1}
    run_crawl("perf_economy", settings)
    assert run_crawl("perf_economy", settings).stat("hltv/maps/requested") == 0  # out of attempts

    db_setting = [f"{k}={v}" for k, v in crawl_settings.items() if k.startswith("HLTV_DB")]
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "requeue", "--stage", "perf_economy", "-s", db_setting[0]],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr

    again = run_crawl("perf_economy", settings)
    assert again.stat("hltv/maps/committed") == 1
    assert server.requests[("performance", MAP)] == 2
    assert_matches_truth(database, MAP)  # requeue gave its attempt back
