"""Cross-page checks, end to end: a performance or economy page that contradicts the
stored scoreboard or round history fails its map (attempt counted, failure recorded,
nothing written) while the other maps commit; a chart whose series are the wrong way
round is stored the right way round."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.support.crawl import run_crawl
from tests.support.pages import with_charts
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import Answer, page_bytes
from tests.support.truth import assert_matches_truth, snapshot

MAP, OTHER = 219128, 188093  # 219128: Northwind 13-11 Blue Harbor, MR12, Rating 3.0


def kill_matrix_cell_raised() -> bytes:
    """The `all` kill matrix: the first row player killed the first column player 3
    more times than the scoreboard allows."""
    body = page_bytes(f"performance-{MAP}")
    start = body.index(b'id="ALL-content"')
    cell = re.compile(rb'(<span class="team2-player-score">)(\d+)(</span>)')
    first = cell.search(body, start)
    return body[: first.start()] + cell.sub(lambda m: m[1] + str(int(m[2]) + 3).encode() + m[3], body[first.start():], count=1)


def overview_kills_changed() -> bytes:
    body = page_bytes(f"performance-{MAP}")
    old = b'<td class="name-column">Kills</td><td class="team1-column">75</td>'
    assert body.count(old) == 1
    return body.replace(old, old.replace(b">75<", b">77<"))


def first_kpr_changed() -> bytes:
    changed = []

    def change(config: dict) -> None:
        if not changed:
            kpr = next(bar for bar in config["dataSource"]["data"] if bar["label"] == "KPR")
            assert kpr["displayValue"] == "0.75"  # 18 kills in 24 rounds
            kpr["displayValue"] = "0.85"
            changed.append(kpr)

    return with_charts(f"performance-{MAP}", change, expected_charts=10).body


def economy_change(change: Callable[[list[dict]], None]) -> bytes:
    """The economy page with its chart's two datasets changed by ``change``."""
    return with_charts(f"economy-{MAP}", lambda c: change(c["dataSource"]["dataset"]), expected_charts=1).body


def names_swapped(datasets: list[dict]) -> None:
    datasets[0]["seriesname"], datasets[1]["seriesname"] = datasets[1]["seriesname"], datasets[0]["seriesname"]


def a_win_on_the_other_side(datasets: list[dict]) -> None:
    """Round 1's winner won it on T, the chart says (the round history: on CT)."""
    point = next(d["data"][0] for d in datasets if d["data"][0].get("anchorImageUrl"))
    assert "ctRoundWon" in point["anchorImageUrl"]
    point["anchorImageUrl"] = point["anchorImageUrl"].replace("ctRoundWon", "tRoundWon")


CONTRADICTIONS = [
    pytest.param("performance", kill_matrix_cell_raised, "performance vs mapstats: player", "kills in the kill matrix",
                 id="kill-matrix-above-scoreboard-kills"),
    pytest.param("performance", overview_kills_changed, "performance vs mapstats: 'Northwind' has 77 kills",
                 "on the scoreboard", id="team-kills-not-the-scoreboard-sum"),
    pytest.param("performance", first_kpr_changed, "performance vs mapstats: player", "KPR 0.85 over 24 rounds",
                 id="kpr-times-rounds-not-the-kills"),
    pytest.param("economy", lambda: economy_change(a_win_on_the_other_side), "economy vs mapstats: round 1",
                 "round history", id="a-round-won-on-the-wrong-side"),
    pytest.param("economy", lambda: page_bytes("economy-219131"), "economy vs mapstats: round",
                 "the other team order fits no better", id="economy-page-of-another-map-of-the-match"),
    pytest.param("performance", lambda: page_bytes("performance-164779"), "performance vs mapstats: players",
                 "another map", id="performance-page-of-another-match"),
    pytest.param("economy", lambda: page_bytes("economy-164779"), "economy vs mapstats: team",
                 "matches neither", id="economy-page-of-another-match"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("page", "body", "says", "and_says"), CONTRADICTIONS)
def test_a_contradicting_page_fails_its_map_and_the_others_commit(server, database, crawl_settings,
                                                                  page, body, says, and_says):
    for mapstatsid in (MAP, OTHER):
        seed_scoreboard(database, mapstatsid)
    before = snapshot(database, MAP)
    server.script(page, MAP, Answer(body=body()))

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/failed") == 1 and result.stat("hltv/maps/committed") == 1
    (failed_page, reason), = rows(database, "SELECT page, reason FROM failures WHERE mapstatsid = ?", MAP)
    assert failed_page == page
    assert says in reason and and_says in reason, reason
    after = snapshot(database, MAP)
    assert after["map"] == [(1, 0)]  # the attempt counted, the map not stored
    assert after["players"] == before["players"] and after["economy"] == [] and after["kill_matrix"] == []
    assert rows(database, "SELECT perf_economy_version FROM maps WHERE mapstatsid = ?", MAP) == [(None,)]
    assert_matches_truth(database, OTHER)


@pytest.mark.slow
@pytest.mark.both_backends
def test_an_economy_chart_with_its_series_swapped_is_stored_the_right_way_round(server, database, crawl_settings):
    for mapstatsid in (MAP, OTHER):
        seed_scoreboard(database, mapstatsid)
    server.script("economy", MAP, Answer(body=economy_change(names_swapped)))

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == 2, rows(database, "SELECT reason FROM failures")
    assert result.stat("hltv/maps/economy_series_swapped") == 1
    assert_matches_truth(database, MAP)
    assert_matches_truth(database, OTHER)


@pytest.mark.slow
def test_the_unchanged_pages_pass_every_check(server, database, crawl_settings):
    """The helpers above change what they say and nothing else: unchanged, the pages commit."""
    from tests.support.pages import MAPSTATSIDS

    for mapstatsid in MAPSTATSIDS:
        seed_scoreboard(database, mapstatsid)

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/committed") == len(MAPSTATSIDS)
    assert result.stat("hltv/maps/economy_series_swapped") == 0


@pytest.mark.slow
def test_a_match_record_naming_the_teams_the_other_way_round_fails_the_map(server, database, crawl_settings):
    """The page's Northwind players are Northwind's on the scoreboard; a match record that
    gives Northwind's name to the other team's id contradicts both."""
    truth = seed_scoreboard(database, MAP, match_overrides={"team1_name": "Blue Harbor", "team2_name": "Northwind"})
    assert truth["match"]["team1_name"] == "Northwind"

    result = run_crawl("perf_economy", crawl_settings)

    assert result.stat("hltv/maps/failed") == 1
    (page, reason), = rows(database, "SELECT page, reason FROM failures")
    assert page == "performance" and reason.startswith("performance vs match: the page's 'northwind' players")
    assert rows(database, "SELECT count(*) FROM economy") == [(0,)]
