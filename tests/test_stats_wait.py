"""Matches read again until their maps' stats links appear (HLTV_STATS_WAIT), and
matches not over yet stored as what they are."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hltv_scraper.parsers.match import parse_match
from hltv_scraper.stages import STAGES, claimable
from hltv_scraper.storage import Database
from tests.support.crawl import run_crawl
from tests.support.discovery import assert_match_matches_truth
from tests.support.pages import load_expected, load_page, page_bytes
from tests.support.seed import rows
from tests.support.server import Answer
from tests.support.truth import assert_matches_truth, assert_scoreboard_matches_truth

ROOT = Path(__file__).resolve().parent.parent
MATCH = 2389951
MAPS = (219128, 219131, 219135)
SLUG = "northwind-vs-blue-harbor-atlas-championship-2026"
NO_STATS = page_bytes(f"variant-nostats-match-{MATCH}")
UPCOMING = page_bytes(f"variant-upcoming-match-{MATCH}")


def map_stages(settings: dict) -> None:
    for stage in ("matches", "map_stats", "perf_economy"):
        result = run_crawl(stage, settings)
        assert result.error is None and result.close_reason == "finished", (stage, result.close_reason)


def waiting(database) -> tuple:
    return rows(database, "SELECT stats_checks, stats_due_at FROM matches WHERE match_id = ?", MATCH)[0]


def sleep_until(due: float) -> None:
    time.sleep(max(due - time.time(), 0) + 0.05)


@pytest.mark.parametrize("variant", ["nostats", "upcoming", "live"])
def test_a_match_not_over_or_without_stats_is_parsed_as_what_it_is(variant):
    page = parse_match(load_page(f"variant-{variant}-match-{MATCH}"))
    expected = load_expected(f"variant-{variant}-match-{MATCH}")
    assert page.status == expected["status"]
    assert (page.team1_score, page.team2_score) == (expected["team1_score"], expected["team2_score"])
    assert [(m.map_name, m.played, m.mapstatsid, m.team1_rounds, m.team2_rounds) for m in page.maps] == [
        (m["map_name"], m["played"], m["mapstatsid"], m["team1_rounds"], m["team2_rounds"]) for m in expected["maps"]
    ]
    assert "h :" not in (page.status or "")


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_match_without_stats_links_is_read_again_after_the_wait_and_stored_whole(server, database, crawl_settings):
    settings = {**crawl_settings, "HLTV_STATS_WAIT": "1s,1h"}
    with Database.open(database) as db:
        db.add_matches([(MATCH, SLUG)])
    server.script("match", MATCH, Answer(body=NO_STATS), Answer())

    read_at = time.time()
    map_stages(settings)
    checks, due = waiting(database)
    assert checks == 1 and read_at + 1 <= due <= time.time() + 1  # one second from the read
    assert rows(database, "SELECT count(*), count(mapstatsid) FROM maps WHERE match_id = ? AND played = 1", MATCH) == [(3, 0)]
    assert rows(database, "SELECT count(*) FROM player_stats") == [(0,)]
    with Database.open(database) as db:
        assert db.pending_counts(claimable(), max_attempts=3)["matches"] == 0  # stored, not due yet
        assert db.summary(STAGES.values())["matches waiting for stats"] == 1
    assert run_crawl("matches", settings).stat("hltv/matches/requested") == 0

    sleep_until(due)
    map_stages(settings)

    assert server.requests[("match", MATCH)] == 2  # fetched anew, not served from the archive
    assert_match_matches_truth(database, MATCH)
    for mapstatsid in MAPS:
        assert_scoreboard_matches_truth(database, mapstatsid)
        assert_matches_truth(database, mapstatsid)
    assert waiting(database) == (0, None)  # done waiting
    with Database.open(database) as db:
        assert db.next_stats_due() is None
        # the links are what HLTV changed since the first read
        corrected = db.sql.all("SELECT table_name, column_name, old_value, new_value FROM corrections "
                               "WHERE column_name = 'mapstatsid' ORDER BY new_value")
        assert [(c["table_name"], c["old_value"], c["new_value"]) for c in corrected] == [
            ("maps", None, str(mapstatsid)) for mapstatsid in MAPS
        ]


@pytest.mark.slow
def test_a_match_whose_stats_never_come_is_marked_after_the_last_delay_and_not_read_again(server, database, crawl_settings):
    settings = {**crawl_settings, "HLTV_STATS_WAIT": "1s,1s"}
    with Database.open(database) as db:
        db.add_matches([(MATCH, SLUG)])
    server.script("match", MATCH, Answer(body=NO_STATS))

    for reads, checks in ((1, 1), (2, 2)):
        assert run_crawl("matches", settings).stat("hltv/matches/committed") == 1
        assert server.requests[("match", MATCH)] == reads
        assert waiting(database)[0] == checks
        assert rows(database, "SELECT count(*) FROM maps WHERE no_stats_at IS NOT NULL") == [(0,)]
        sleep_until(waiting(database)[1])
    assert run_crawl("matches", settings).stat("hltv/matches/committed") == 1  # after the last delay

    assert waiting(database) == (2, None)
    assert rows(database, "SELECT map_number FROM maps WHERE no_stats_at IS NOT NULL ORDER BY 1") == [(1,), (2,), (3,)]
    time.sleep(1.1)
    assert run_crawl("matches", settings).stat("hltv/matches/requested") == 0
    assert server.requests[("match", MATCH)] == 3
    with Database.open(database) as db:
        assert db.summary(STAGES.values())["maps without published stats"] == 3
        assert db.next_stats_due() is None


@pytest.mark.slow
def test_an_upcoming_match_is_stored_as_upcoming_and_due_again(server, database, crawl_settings):
    settings = {**crawl_settings, "HLTV_STATS_WAIT": "1s"}
    with Database.open(database) as db:
        db.add_matches([(MATCH, SLUG)])
    server.script("match", MATCH, Answer(body=UPCOMING), Answer())

    assert run_crawl("matches", settings).stat("hltv/matches/committed") == 1

    assert rows(database, "SELECT status, team1_score, team2_score FROM matches") == [("Upcoming", None, None)]
    assert rows(database, "SELECT map_name, played, mapstatsid FROM maps ORDER BY map_number") == [("TBA", 0, None)] * 3
    checks, due = waiting(database)
    assert checks == 1 and due is not None
    summary = subprocess.run(
        [sys.executable, "-m", "scrapy", "summary", "-s", f"HLTV_DB_PATH={crawl_settings['HLTV_DB_PATH']}"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert summary.returncode == 0, summary.stderr
    assert "Next match due for its stats links" in summary.stdout
    assert any(line.split()[-1] == "1" for line in summary.stdout.splitlines() if "matches waiting for stats" in line)

    sleep_until(due)
    map_stages(settings)
    assert_match_matches_truth(database, MATCH)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert waiting(database) == (0, None)


@pytest.mark.slow
def test_due_matches_are_read_before_new_ones(server, database, crawl_settings):
    settings = {**crawl_settings, "HLTV_STATS_WAIT": "1s"}
    other = 2366498  # a lower id: by key alone it would come first
    with Database.open(database) as db:
        db.add_matches([(MATCH, SLUG)])
    server.script("match", MATCH, Answer(body=NO_STATS), Answer())
    run_crawl("matches", settings)
    with Database.open(database) as db:
        db.add_matches([(other, None)])
    sleep_until(waiting(database)[1])

    assert run_crawl("matches", settings, limit="1").stat("hltv/matches/committed") == 1
    assert server.requests[("match", MATCH)] == 2 and server.requests[("match", other)] == 0


@pytest.mark.parametrize(("value", "delays"), [
    (None, (3600.0, 21600.0, 86400.0, 259200.0)),
    ("1h,6h,24h,72h", (3600.0, 21600.0, 86400.0, 259200.0)),
    ("30s, 2m,1.5h,2d", (30.0, 120.0, 5400.0, 172800.0)),
    ("45", (45.0,)),
    ("0", ()),
])
def test_stats_wait_is_read_once_into_the_config(value, delays):
    from scrapy.settings import Settings

    from hltv_scraper.config import HltvConfig

    settings = Settings({"HLTV_STATS_WAIT": value} if value is not None else {})
    assert HltvConfig.from_settings(settings).stats_wait == delays


@pytest.mark.parametrize("value", ["1h,,2h", "1w", "-1h", "0s", "soon"])
def test_a_bad_stats_wait_is_one_line_naming_the_setting(value):
    from scrapy.exceptions import UsageError
    from scrapy.settings import Settings

    from hltv_scraper.config import HltvConfig

    with pytest.raises(UsageError, match=r"^HLTV_STATS_WAIT takes delays"):
        HltvConfig.from_settings(Settings({"HLTV_STATS_WAIT": value}))


def test_a_page_without_countdown_text_or_result_is_upcoming():
    from tests.support.pages import mutated

    page = parse_match(mutated(f"variant-upcoming-match-{MATCH}", ("18h : 10m : 7s", "")))
    assert page.status == "Upcoming"
    assert not any(m.played for m in page.maps)


@pytest.mark.slow
def test_an_hourly_collect_completes_a_match_whose_stats_came_late(server, database, crawl_settings):
    """`scrapy collect` as cron runs it: the listing, the due match first, its maps."""
    server.script("match", MATCH, Answer(body=NO_STATS), Answer())
    settings = [f"{k}={v}" for k, v in {**crawl_settings, "HLTV_STATS_WAIT": "2s", "DOWNLOAD_DELAY": 0,
                                         "AUTOTHROTTLE_ENABLED": 0}.items()]

    def collect() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "scrapy", "collect", "--pages", "1",
                               *[arg for setting in settings for arg in ("-s", setting)]],
                              cwd=ROOT, capture_output=True, text=True)

    first = collect()
    assert first.returncode == 0, first.stderr[-2000:]
    assert "matches waiting for stats" in first.stdout
    assert rows(database, "SELECT count(mapstatsid) FROM maps WHERE match_id = ?", MATCH) == [(0,)]
    sleep_until(waiting(database)[1])

    second = collect()

    assert second.returncode == 0, second.stderr[-2000:]
    assert server.requests[("match", MATCH)] == 2
    assert_match_matches_truth(database, MATCH)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert waiting(database) == (0, None)
