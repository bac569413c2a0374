"""End to end through both stages: addmaps -> map_stats -> perf_economy, checked against
the truth files."""

from __future__ import annotations

import pytest

from hltv_scraper.items import MapStatsPages
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.crawl import run_crawl
from tests.support.seed import is_postgres, rows
from tests.support.server import Answer, page_bytes
from tests.support.truth import ALL_MAPS, assert_matches_truth
from tests.support.truth import add_maps, assert_scoreboard_matches_truth

@pytest.mark.slow
@pytest.mark.both_backends
def test_from_addmaps_to_complete_maps(server, database, crawl_settings):
    add_maps(database, ALL_MAPS)

    idle = run_crawl("perf_economy", crawl_settings)  # nothing has a scoreboard yet
    assert idle.close_reason == "finished" and idle.stat("downloader/request_count") == 0

    first = run_crawl("map_stats", crawl_settings)
    assert first.stat("hltv/maps/committed") == len(ALL_MAPS)
    assert first.stat("log_count/ERROR") == 0
    for mapstatsid in ALL_MAPS:
        assert_scoreboard_matches_truth(database, mapstatsid)

    second = run_crawl("perf_economy", crawl_settings)
    assert second.stat("hltv/maps/committed") == len(ALL_MAPS)
    for mapstatsid in ALL_MAPS:
        assert_matches_truth(database, mapstatsid)
        assert_scoreboard_matches_truth(database, mapstatsid)  # untouched by the core job
    # every economy row hangs off a round the map stats stage wrote
    if not is_postgres(database):  # PostgreSQL checks foreign keys on every write
        assert rows(database, "PRAGMA foreign_key_check") == []
    assert rows(database, "SELECT count(*) FROM economy e LEFT JOIN round_history r USING (match_id, map_number, round_number) WHERE r.round_number IS NULL") == [(0,)]

    assert run_crawl("map_stats", crawl_settings).stat("downloader/request_count") == 0


@pytest.mark.both_backends
def test_a_one_team_scoreboard_fails_cleanly(server, database, crawl_settings):
    add_maps(database, [188093, 173424])
    server.script("mapstats", 188093, Answer(body=page_bytes("special-mapstats-one-team-left-only-mapstats-188093")))

    result = run_crawl("map_stats", crawl_settings)

    assert result.stat("hltv/maps/committed") == 1
    assert result.stat("hltv/maps/failed") == 1
    assert rows(database, "SELECT mapstats_attempts, mapstats_at FROM maps WHERE mapstatsid = 188093") == [(1, None)]
    assert rows(database, "SELECT count(*) FROM player_stats WHERE match_id = 2377467") == [(0,)]
    assert rows(database, "SELECT count(*) FROM round_history WHERE match_id = 2377467") == [(0,)]
    assert rows(database, "SELECT stage, page FROM failures") == [("map_stats", "mapstats")]
    assert_scoreboard_matches_truth(database, 173424)


@pytest.mark.parametrize("status", [403, 503])
@pytest.mark.both_backends
def test_a_refused_map_stats_page_leaves_the_map_pending(server, database, crawl_settings, status):
    add_maps(database, [188093])
    server.script("mapstats", 188093, Answer(status=status, body=page_bytes("special-cf-challenge-performance-173424")))

    result = run_crawl("map_stats", crawl_settings)

    assert result.stat("hltv/maps/fetch_failed") == 1
    assert rows(database, "SELECT mapstats_attempts, mapstats_at FROM maps") == [(0, None)]
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("deaths", 99, "deaths 99"), ("kast", 140.0, "KAST 140.0"), ("opening_kills", 30, "opening kills")],
)
def test_a_scoreboard_impossible_for_the_round_count_fails_validation(database, field, value, message):
    from hltv_scraper.parsers.mapstats import parse_mapstats
    from hltv_scraper.storage import ValidationError
    from tests.support.pages import load_page

    add_maps(database, [188093])  # 17 rounds
    page = parse_mapstats(load_page("mapstats-188093"))
    page.unit_id = 188093
    setattr(page.players[0], field, value)
    db = Database.open(database)
    try:
        with pytest.raises(ValidationError, match=message):
            db.save(STAGES["map_stats"], 188093, MapStatsPages(page), parser_version="test", check=STAGES["map_stats"].check)
    finally:
        db.close()
    assert rows(database, "SELECT count(*) FROM player_stats") == [(0,)]
    assert rows(database, "SELECT team1_id FROM matches") == [(None,)]
