"""Re-parse in place: `-a reparse=stale` with HLTV_REPLAY=1 rewrites the maps a stage
stored with an older parser version from the archive, and leaves the others alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import UsageError

from hltv_scraper.items import MapStatsPages, PerfEconomyPages
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.crawl import run_crawl
from tests.support.seed import rows
from tests.support.truth import add_maps
from tests.support.truth import assert_matches_truth

STALE, GAP, CURRENT = 219128, 188093, 164779  # three matches: no shared match row
OLD = "0.9.0-old"
TABLES = {
    "maps": "map_name, team1_rounds, team2_rounds, team1_ct_rounds, team1_t_rounds, team2_ct_rounds, "
            "team2_t_rounds, team1_starting_side, rating_version, mapstats_at IS NOT NULL, "
            "perf_economy_at IS NOT NULL",
    "player_stats": "player_id, player_name, team_id, kills, deaths, assists, hs_kills, adr, kast, rating, "
                    "kpr, dpr, impact, mk_rating",
    "round_history": "round_number, winner_side, win_type, winner_team_id",
    "economy": "round_number, team_id, equipment_value, buy_type, side, won",
    "kill_matrix": "matrix_type, player1_id, player2_id, player1_kills, player2_kills",
}


def stored(database, mapstatsid: int, *, stamps: bool = False) -> dict[str, list[tuple]]:
    """The map's rows in every table (with ``stamps``, also when each was written).
    Not their source_url: its slug comes from the team names the first crawl stored."""
    (match_id, map_number), = rows(database, "SELECT match_id, map_number FROM maps WHERE mapstatsid = ?", mapstatsid)
    return {
        table: rows(database, f"SELECT {columns}{', scraped_at, updated_at' if stamps else ''} FROM {table} "
                              "WHERE match_id = ? AND map_number = ? ORDER BY 1, 2, 3", match_id, map_number)
        for table, columns in TABLES.items()
    }


def versions(database, mapstatsid: int) -> tuple:
    return rows(database, "SELECT mapstats_version, perf_economy_version FROM maps WHERE mapstatsid = ?", mapstatsid)[0]


@pytest.mark.slow
@pytest.mark.both_backends
def test_stale_maps_are_reparsed_from_the_archive_and_the_current_ones_left_alone(server, database, crawl_settings):
    add_maps(database, [STALE, GAP, CURRENT])
    for stage in ("map_stats", "perf_economy"):
        assert run_crawl(stage, crawl_settings).stat("hltv/maps/committed") == 3
    fresh = {m: stored(database, m) for m in (STALE, GAP, CURRENT)}
    current_before = stored(database, CURRENT, stamps=True)
    assert versions(database, CURRENT) == (current_parser_version(),) * 2
    # STALE and GAP were stored by an older parser, whose rows were wrong in places
    for mapstatsid in (STALE, GAP):
        rows(database, "UPDATE maps SET mapstats_version = ?, perf_economy_version = ? WHERE mapstatsid = ?",
             OLD, OLD, mapstatsid)
    (match_id, map_number), = rows(database, "SELECT match_id, map_number FROM maps WHERE mapstatsid = ?", STALE)
    where = f"WHERE match_id = {match_id} AND map_number = {map_number}"
    rows(database, f"UPDATE player_stats SET kills = kills + 1, kpr = 0.01, mk_rating = NULL {where}")
    rows(database, f"UPDATE economy SET equipment_value = 1, buy_type = 'full_eco' {where}")
    rows(database, f"DELETE FROM kill_matrix {where} AND matrix_type = 'awp'")
    rows(database, f"INSERT INTO round_history (match_id, map_number, round_number, winner_side, scraped_at, "
                   f"updated_at) VALUES ({match_id}, {map_number}, 99, 'CT', 'then', 'then')")
    gap_before = stored(database, GAP, stamps=True)
    (Path(crawl_settings["HLTV_ARCHIVE_DIR"]) / "performance" / f"{GAP}.json").unlink()  # a gap in the archive
    server.stop()
    requests = sum(server.requests.values())
    replay = {**crawl_settings, "HLTV_REPLAY": True}

    map_stats = run_crawl("map_stats", replay, reparse="stale")
    perf_economy = run_crawl("perf_economy", replay, reparse="stale")

    for result in (map_stats, perf_economy):
        assert result.error is None and result.close_reason == "finished"
        assert result.stat("hltv/maps/requested") == 2  # the stale maps only
        assert result.stat("downloader/response_count") == result.stat("httpcache/hit")
    assert sum(server.requests.values()) == requests  # nothing left the machine
    assert map_stats.stat("hltv/maps/committed") == 2
    assert perf_economy.stat("hltv/maps/committed") == 1 and perf_economy.stat("hltv/maps/fetch_failed") == 1
    # the stale map: rewritten, equal to what the fresh crawl stored, and current now
    assert stored(database, STALE) == fresh[STALE]
    assert versions(database, STALE) == (current_parser_version(),) * 2
    assert_matches_truth(database, STALE)
    # the map whose performance page is missing from the archive: its perf/economy rows
    # are as they were, stale still; its map stats page was re-parsed
    assert versions(database, GAP) == (current_parser_version(), OLD)
    gap_after = stored(database, GAP, stamps=True)
    for table in ("economy", "kill_matrix"):
        assert gap_after[table] == gap_before[table]
    assert stored(database, GAP) == fresh[GAP]
    # the current map: not one row touched
    assert stored(database, CURRENT, stamps=True) == current_before
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spider", "arguments", "error"),
    [
        ("perf_economy", {"reparse": "all"}, "-a reparse= takes only 'stale'"),
        ("map_stats", {"reparse": "stale", "mapstatsid": "219128"}, "not both"),
        ("results", {"reparse": "stale"}, "-a reparse= is not an argument of results"),
    ],
)
def test_reparse_arguments_other_than_stale_alone_are_refused(server, database, crawl_settings, spider, arguments, error):
    result = run_crawl(spider, crawl_settings, **arguments)

    assert isinstance(result.error, UsageError) and error in str(result.error)
    assert sum(server.requests.values()) == 0


def test_a_rewritten_scoreboard_with_other_players_takes_the_maps_performance_with_it(database):
    """A re-parse that finds other players than the stored scoreboard: the old players and
    the performance and economy checked against them go, and the map is pending again
    for the perf_economy stage."""
    from hltv_scraper.parsers.economy import parse_economy
    from hltv_scraper.parsers.mapstats import parse_mapstats
    from hltv_scraper.parsers.performance import parse_performance
    from tests.support.pages import load_page

    add_maps(database, [STALE])
    db = Database.open(database)
    try:
        db.save(STAGES["map_stats"], STALE, MapStatsPages(parse_mapstats(load_page(f"mapstats-{STALE}"))), parser_version=OLD)
        db.save(STAGES["perf_economy"], STALE, PerfEconomyPages(performance=parse_performance(load_page(f"performance-{STALE}")),
                                                       economy=parse_economy(load_page(f"economy-{STALE}"))), parser_version=OLD,
                check=STAGES["perf_economy"].check)
        # what the old parser got wrong: a player id, and a round too many
        rows(database, "UPDATE player_stats SET player_id = 4242 WHERE player_id = 14094")
        rows(database, "INSERT INTO round_history (match_id, map_number, round_number, scraped_at, updated_at) "
                       "SELECT match_id, map_number, 25, 'then', 'then' FROM maps WHERE mapstatsid = ?", STALE)
        assert db.count_pending(STAGES["perf_economy"], max_attempts=3) == 0

        db.save(STAGES["map_stats"], STALE, MapStatsPages(parse_mapstats(load_page(f"mapstats-{STALE}"))),
                parser_version=current_parser_version())

        assert db.count_pending(STAGES["perf_economy"], max_attempts=3) == 1
    finally:
        db.close()
    assert rows(database, "SELECT count(*), count(kpr) FROM player_stats") == [(10, 0)]
    assert rows(database, "SELECT count(*) FROM player_stats WHERE player_id = 4242") == [(0,)]
    assert rows(database, "SELECT count(*), max(round_number) FROM round_history") == [(24, 24)]
    assert rows(database, "SELECT count(*) FROM economy") == [(0,)]
    assert rows(database, "SELECT count(*) FROM kill_matrix") == [(0,)]
    assert versions(database, STALE) == (current_parser_version(), None)
