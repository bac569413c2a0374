"""`scrapy refresh`: stored units read again from the site, and what changed recorded in
`corrections`, value by value, in the re-read's own transaction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hltv_scraper.stages import STAGES, claimable
from hltv_scraper.storage import Database
from tests.support.crawl import database_settings, run_crawl
from tests.support.discovery import assert_match_matches_truth
from tests.support.pages import mutated, page_bytes
from tests.support.seed import rows
from tests.support.server import Answer
from tests.support.truth import assert_matches_truth

ROOT = Path(__file__).resolve().parent.parent
MATCH = 2389951
MAPS = (219128, 219131, 219135)
SLUG = "northwind-vs-blue-harbor-atlas-championship-2026"
CHANGED = 219128
PLAYER = 14094  # Kaiis: ADR 102.0 and multi-kill rating 1.04 on the pages as first read
MK_RATING = "Multi-kill rating: 1.04&quot;,&quot;displayValue&quot;:&quot;1.04"
ADR = '<td class="st-adr traditional-data">102.0</td>'


def cut_off(page: bytes) -> bytes:
    """The page cut off in the second team's player cards (it passes the refusal check)."""
    at = -1
    for _ in range(6):
        at = page.find(b"Kills per round", at + 1)
    return page[:at]


def map_stages(settings: dict) -> None:
    for stage in ("matches", "map_stats", "perf_economy"):
        result = run_crawl(stage, settings)
        assert result.error is None and result.close_reason == "finished", (stage, result.close_reason)


def scrapy(database, *args: str) -> subprocess.CompletedProcess:
    setting = next(f"{k}={v}" for k, v in database_settings(database).items())
    return subprocess.run([sys.executable, "-m", "scrapy", *args, "-s", setting],
                          cwd=ROOT, capture_output=True, text=True)


def stored(database) -> list[tuple]:
    """Every value of the match's maps that a re-read could change."""
    return [
        *rows(database, "SELECT * FROM player_stats ORDER BY match_id, map_number, player_id"),
        *rows(database, "SELECT match_id, map_number, round_number, team_id, equipment_value FROM economy ORDER BY 1, 2, 3, 4"),
        *rows(database, "SELECT match_id, map_number, mapstatsid, map_name, team1_rounds, team2_rounds, "
                        "rating_version, mapstats_at, perf_economy_at FROM maps ORDER BY match_id, map_number"),
    ]


@pytest.fixture
def collected(server, database, crawl_settings):
    with Database.open(database) as db:
        db.add_matches([(MATCH, SLUG)])
    map_stages(crawl_settings)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    server.requests.clear()
    return crawl_settings


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_refresh_stores_what_changed_on_the_site_and_records_each_change_once(server, database, collected):
    server.script("mapstats", CHANGED, Answer(body=mutated(f"mapstats-{CHANGED}", (ADR, ADR.replace("102.0", "104.5"))).body))
    server.script("performance", CHANGED, Answer(body=mutated(f"performance-{CHANGED}", (MK_RATING, MK_RATING.replace("1.04", "1.12"))).body))
    before = stored(database)

    done = scrapy(database, "refresh", "--since", "2026-02-14", "--until", "2026-02-14")

    assert done.returncode == 0, done.stderr
    assert "1 matches (matches), 3 maps (map_stats), 3 maps (perf_economy); about 10 pages" in done.stdout
    assert stored(database) == before  # no data changes before the re-read
    assert sum(server.requests.values()) == 0

    map_stages(collected)

    # every page fetched anew (the archive holds them all), once
    assert server.requests[("match", MATCH)] == 1
    for mapstatsid in MAPS:
        for page in ("mapstats", "performance", "economy"):
            assert server.requests[(page, mapstatsid)] == 1, (page, mapstatsid)
    found = rows(database, "SELECT stage, unit, table_name, row_key, column_name, old_value, new_value, "
                           "parser_version IS NOT NULL FROM corrections ORDER BY correction_id")
    assert found == [
        ("map_stats", str(CHANGED), "player_stats", f"match_id={MATCH},map_number=1,player_id={PLAYER}", "adr",
         "102.0", "104.5", 1),
        ("perf_economy", str(CHANGED), "player_stats", f"match_id={MATCH},map_number=1,player_id={PLAYER}", "mk_rating",
         "1.04", "1.12", 1),
    ]
    assert rows(database, "SELECT adr, mk_rating FROM player_stats WHERE player_id = ? AND map_number = 1", PLAYER) == [(104.5, 1.12)]
    for mapstatsid in MAPS[1:]:
        assert_matches_truth(database, mapstatsid)
    assert_match_matches_truth(database, MATCH)
    assert rows(database, "SELECT count(*) FROM rereads") == [(0,)]
    with Database.open(database) as db:
        assert db.summary(STAGES.values())["corrections recorded"] == 2
        assert db.pending_counts(claimable(), max_attempts=3) == {"matches": 0, "map_stats": 0, "perf_economy": 0}

    # read again with nothing changed: no correction
    assert scrapy(database, "refresh", "--mapstatsid", str(CHANGED), "--stage", "map_stats").returncode == 0
    map_stages(collected)
    assert server.requests[("mapstats", CHANGED)] == 2
    assert rows(database, "SELECT count(*) FROM corrections") == [(2,)]


@pytest.mark.slow
def test_a_re_read_that_fails_to_parse_keeps_the_stored_rows(server, database, collected):
    before = stored(database)
    server.script("performance", CHANGED, Answer(body=cut_off(page_bytes(f"performance-{CHANGED}"))))

    assert scrapy(database, "refresh", "--mapstatsid", str(CHANGED), "--stage", "perf_economy").returncode == 0
    result = run_crawl("perf_economy", collected)

    assert result.stat("hltv/maps/failed") == 1
    assert stored(database) == before
    assert rows(database, "SELECT stage, unit_id, page FROM failures") == [("perf_economy", CHANGED, "performance")]
    assert rows(database, "SELECT count(*) FROM corrections") == [(0,)]
    assert rows(database, "SELECT stage, unit_id, reason FROM rereads") == [("perf_economy", CHANGED, "refresh")]


@pytest.mark.both_backends
def test_refresh_chooses_units_by_date_rating_version_and_id(database):
    with Database.open(database) as db:
        db.add_maps([(1, 1, 11), (1, 2, 12), (2, 1, 21)])
        # match 1 started on 2025-03-01 at 23:30 UTC; match 2 is dated by the listing alone
        db.sql.run("UPDATE matches SET date_unix_ms = CASE match_id WHEN 1 THEN 1740871800000 END, "
                   "completed_unix_ms = CASE match_id WHEN 2 THEN 1741514400000 END, match_page_at = 'then'")
        db.sql.run("UPDATE maps SET mapstats_at = 'then', perf_economy_at = 'then', "
                   "rating_version = CASE mapstatsid WHEN 12 THEN '3.0' ELSE '2.0' END")
        march_1, march_2 = 1740787200000, 1740873600000
        assert db.refresh([STAGES["matches"], STAGES["map_stats"]], since_ms=march_1, until_ms=march_2) == {"matches": 1, "map_stats": 2}
        assert db.refresh([STAGES["perf_economy"]], rating_version="2.0") == {"perf_economy": 2}
        assert db.refresh([STAGES["perf_economy"]], since_ms=march_2, rating_version="2.0") == {"perf_economy": 1}
        assert db.refresh([STAGES["map_stats"]], mapstatsids=[21]) == {"map_stats": 1}
        with pytest.raises(KeyError):
            db.refresh([STAGES["map_stats"]], mapstatsids=[21, 99])
        asked = db.sql.all("SELECT stage, unit_id FROM rereads ORDER BY stage, unit_id")
    assert [(r["stage"], r["unit_id"]) for r in asked] == [
        ("map_stats", 11), ("map_stats", 12), ("map_stats", 21), ("matches", 1), ("perf_economy", 11), ("perf_economy", 21),
    ]


def test_refresh_refuses_bad_input_in_one_line(tmp_path):
    database = tmp_path / "hltv.sqlite3"
    Database.open(database).close()
    for args, says in (
        (["--since", "2025-13-01"], "--since takes a day as YYYY-MM-DD"),
        (["--since", "2025-03-02", "--until", "2025-03-01"], "is before --since"),
        (["--since", "2025-03-01", "--stage", "results"], "--stage must be among"),
        ([], "say what to read again"),
        (["--mapstatsid", "5"], "mapstatsid 5 not in the database"),
    ):
        done = scrapy(database, "refresh", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert says in done.stderr.strip().splitlines()[-1], (args, done.stderr)
        assert "Traceback" not in done.stderr
