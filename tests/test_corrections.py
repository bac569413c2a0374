"""Corrections are the difference between what was stored before a re-read and after
it: never a step in between, nothing for rows rewritten alike."""

from __future__ import annotations

import pytest

from hltv_scraper.items import MapStatsPages, PerfEconomyPages
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.pages import load_page, mutated

MAP = 219128
MATCH = 2389951
GONE, CAME = 14094, 99999  # the re-read scoreboard shows another player in Kaiis' place
MAP_STATS, PERF_ECONOMY = STAGES["map_stats"], STAGES["perf_economy"]


def store(db: Database, *replacements: tuple[str, str]) -> None:
    page = (lambda name: mutated(name, *replacements)) if replacements else load_page
    db.save(MAP_STATS, MAP, MapStatsPages(parse_mapstats(page(f"mapstats-{MAP}"))),
            parser_version="t", check=MAP_STATS.check)
    db.save(PERF_ECONOMY, MAP, PerfEconomyPages(parse_performance(page(f"performance-{MAP}")),
                                                parse_economy(load_page(f"economy-{MAP}"))),
            parser_version="t", check=PERF_ECONOMY.check)


@pytest.mark.both_backends
def test_a_scoreboard_with_another_player_takes_no_intermediate_step(database):
    with Database.open(database) as db:
        db.add_maps([(MATCH, 1, MAP)])
        store(db)
        kpr = {r["player_id"]: r["kpr"] for r in db.sql.all("SELECT player_id, kpr FROM player_stats")}
        db.refresh([MAP_STATS, PERF_ECONOMY], mapstatsids=[MAP])

        store(db, (f"/{GONE}/", f"/{CAME}/"))

        found = db.sql.all("SELECT stage, table_name, row_key, column_name, old_value, new_value FROM corrections")
        assert db.sql.value("SELECT count(*) FROM rereads") == 0
    performance = [(r["row_key"].rsplit("=", 1)[1], r["column_name"], r["old_value"], r["new_value"])
                   for r in found if r["stage"] == "perf_economy" and r["table_name"] == "player_stats"]
    # the scoreboard's re-read cleared every player's performance; only the two players
    # whose rows differ before and after the whole re-read have corrections, against the
    # values before it
    assert sorted(p for p in performance if p[1] == "kpr") == [
        (str(GONE), "kpr", str(kpr[GONE]), None), (str(CAME), "kpr", None, str(kpr[GONE])),
    ]
    assert not [r for r in found if r["table_name"] == "economy"]  # rewritten alike
    scoreboard = {r["row_key"].rsplit("=", 1)[1] for r in found if r["stage"] == "map_stats"}
    assert scoreboard == {str(GONE), str(CAME)}
    assert not [r for r in found if r["stage"] == "map_stats" and r["column_name"] in ("kpr", "dpr", "impact", "mk_rating")]


@pytest.mark.both_backends
def test_a_re_read_that_changes_nothing_records_nothing(database):
    with Database.open(database) as db:
        db.add_maps([(MATCH, 1, MAP)])
        store(db)
        db.refresh([MAP_STATS, PERF_ECONOMY], mapstatsids=[MAP])
        store(db)
        assert db.sql.value("SELECT count(*) FROM corrections") == 0
        assert db.sql.value("SELECT count(*) FROM rereads") == 0
