"""End to end through both stages: addmaps -> map_stats -> perf_economy, checked against
the truth files."""

from __future__ import annotations

import pytest

from hltv_scraper.storage import Database
from hltv_scraper.validation import check_for
from tests.crawl import run_crawl
from tests.seed import is_postgres, expected, rows
from tests.server import Answer, page_bytes
from tests.test_perf_economy import ALL_MAPS, assert_matches_truth

SCOREBOARD = (
    "player_id player_name team_id kills deaths assists flash_assists hs_kills kd_diff adr "
    "kast fk_diff opening_kills opening_deaths multi_kills clutch_wins traded_deaths "
    "round_swing rating rating_version e_kills e_hs_kills e_deaths e_traded_deaths "
    "e_kd_diff e_adr e_kast e_opening_kills e_opening_deaths e_fk_diff"
).split()
MAP_COLUMNS = (
    "map_name team1_rounds team2_rounds team1_ct_rounds team1_t_rounds team2_ct_rounds "
    "team2_t_rounds team1_ot_rounds team2_ot_rounds"
).split()


def add_maps(database, mapstatsids):
    db = Database.open(database)
    try:
        db.add_maps([
            (expected(m)["match"]["match_id"], expected(m)["match"]["map_number"], m) for m in mapstatsids
        ])
    finally:
        db.close()


def assert_scoreboard_matches_truth(database, mapstatsid):
    truth = expected(mapstatsid)
    match = truth["match"]
    key = (match["match_id"], match["map_number"])
    stored = rows(database, f"SELECT {', '.join(SCOREBOARD)} FROM player_stats WHERE match_id = ? AND map_number = ? ORDER BY player_id", *key)
    wanted = sorted(tuple(p[c] for c in SCOREBOARD) for p in truth["players"])
    assert stored == wanted
    assert rows(database, f"SELECT {', '.join(MAP_COLUMNS)} FROM maps WHERE mapstatsid = ?", mapstatsid) == [
        tuple(match[c] for c in MAP_COLUMNS)
    ]
    assert rows(database, "SELECT team1_id, team1_name, team2_id, team2_name, event_id, event_name, date_unix_ms FROM matches WHERE match_id = ?", match["match_id"]) == [
        tuple(match[c] for c in ("team1_id", "team1_name", "team2_id", "team2_name", "event_id", "event_name", "date_unix_ms"))
    ]
    assert rows(database, "SELECT round_number, winner_side, win_type, winner_team_id FROM round_history WHERE match_id = ? AND map_number = ? ORDER BY 1", *key) == [
        (r["round_number"], r["winner_side"], r["win_type"], r["winner_team_id"]) for r in truth["rounds"]
    ]


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
    from tests.pages import load_page

    add_maps(database, [188093])  # 17 rounds
    page = parse_mapstats(load_page("mapstats-188093"))
    page.unit_id = 188093
    setattr(page.players[0], field, value)
    db = Database.open(database)
    try:
        with pytest.raises(ValidationError, match=message):
            db.save("map_stats", 188093, {"mapstats": page}, parser_version="test", check=check_for("map_stats"))
    finally:
        db.close()
    assert rows(database, "SELECT count(*) FROM player_stats") == [(0,)]
    assert rows(database, "SELECT team1_id FROM matches") == [(None,)]
