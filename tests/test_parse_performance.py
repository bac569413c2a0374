"""The performance parser against every fixture map's truth file, field by field, and
against the ways a real page can differ from the fixtures or be broken."""

from __future__ import annotations

import functools
from dataclasses import asdict

import pytest

from hltv_scraper.items import PerformancePage
from hltv_scraper.parsers.loaders import to_float, to_int
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.performance import parse_performance
from tests.support.pages import MAPSTATSIDS as ALL_MAPS
from tests.support.pages import load_expected, load_page, mutated, with_charts
PLAYER_FIELDS = (
    "player_name", "kpr", "dpr", "kast", "adr", "rating", "rating_version", "impact",
    "mk_rating", "round_swing",
)


@functools.cache
def parsed(mapstatsid: int) -> PerformancePage:
    """Each page parsed once: the tests below only read the result."""
    return parse_performance(load_page(f"performance-{mapstatsid}"))


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_page_fields(mapstatsid):
    page, truth = parsed(mapstatsid), load_expected(mapstatsid)
    assert page.unit_id is None  # the spider sets it
    assert page.url == f"https://www.hltv.org/stats/matches/performance/mapstatsid/{mapstatsid}/x"
    assert page.rating_version == truth["rating_version"]
    assert page.event_name == truth["match"]["event_name"]


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_players_match_truth(mapstatsid):
    page, truth = parsed(mapstatsid), load_expected(mapstatsid)
    team_name = {team["team_id"]: team["team_name"] for team in truth["teams"]}
    got = {player.player_id: player for player in page.players}
    assert len(page.players) == 10
    assert set(got) == {player["player_id"] for player in truth["players"]}
    for expected in truth["players"]:
        player = got[expected["player_id"]]
        assert player.team_name == team_name[expected["team_id"]], expected["player_id"]
        for field in PLAYER_FIELDS:
            assert getattr(player, field) == expected[field], (expected["player_id"], field)


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_team_overview_matches_truth(mapstatsid):
    page, truth = parsed(mapstatsid), load_expected(mapstatsid)
    assert [(t.team_name, t.kills, t.deaths, t.assists) for t in page.teams] == [
        (t["team_name"], t["kills"], t["deaths"], t["assists"]) for t in truth["teams"]
    ]


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_kill_matrix_matches_truth(mapstatsid):
    page, truth = parsed(mapstatsid), load_expected(mapstatsid)
    keys = ("matrix_type", "player1_id", "player2_id", "player1_kills", "player2_kills")
    got = [tuple(getattr(cell, key) for key in keys) for cell in page.kill_matrix]
    assert len(got) == 75
    assert set(got) == {tuple(cell[key] for key in keys) for cell in truth["kill_matrix"]}


def test_fixtures_exercise_the_special_cases():
    # Rating 2.0 card with Impact; dashes stored as None; an escaped ampersand.
    assert {p.rating_version for p in parsed(162345).players} == {"2.0"}
    assert all(p.impact is not None and p.mk_rating is None for p in parsed(162345).players)
    assert any(p.adr is None for p in parsed(173424).players)
    assert any(p.mk_rating is None for p in parsed(173424).players)
    assert parsed(173424).teams[0].team_name == "Smoke & Mirrors"
    assert {p.team_name for p in parsed(173424).players} == {"Smoke & Mirrors", "Copperhead"}
    assert {p.round_swing for p in parsed(219128).players} >= {12.23, -1.93}


@pytest.mark.parametrize("mapstatsid", [219128, 164779])
def test_whole_page_fallback_gives_the_same_item(mapstatsid):
    name = f"performance-{mapstatsid}"
    whole_page = parse_performance(mutated(name, ("contentCol", "content-column")))
    assert asdict(whole_page) == asdict(parsed(mapstatsid))


def test_bars_are_read_by_label_and_display_value():
    def shuffle(config: dict) -> None:
        bars = config["dataSource"]["data"]
        for bar in bars:
            bar["value"] = "9.99"  # bar height only: must never reach the item
            bar["label"] = f"  {bar['label'].lower()} "
        bars.reverse()

    page = parse_performance(with_charts("performance-219128", shuffle, expected_charts=10))
    assert asdict(page) == asdict(parsed(219128))


def test_double_escaped_team_name_is_decoded():
    page = parse_performance(
        mutated("performance-173424", ("Smoke &amp; Mirrors", "Smoke &amp;amp; Mirrors"))
    )
    assert page.teams[0].team_name == "Smoke & Mirrors"
    assert page.players[0].team_name == "Smoke & Mirrors"


@pytest.mark.parametrize(
    "name",
    [
        "special-performance-truncated-mid-chart-performance-164779",
        "special-performance-truncated-no-charts-performance-164779",
        "special-cf-challenge-performance-173424",
        "economy-219128",
    ],
)
def test_pages_that_are_not_whole_raise_parse_error(name):
    with pytest.raises(ParseError):
        parse_performance(load_page(name))


@pytest.mark.parametrize(
    "replacements, message",
    [
        ((('id="AWP-content"', 'id="AWP-other"'),), "AWP-content"),
        ((('href="/player/14094/kaiis"', 'href="/player/12623/kaiis"'),), "not distinct"),
        ((('class="highlighted-player"', 'class="other-player"'),), "player cards"),
        ((('class="name-column">Assists<', 'class="name-column">Helps<'),), "no assists row"),
        ((('href="/stats/players/12660/sav0"', 'href="/stats/players/x"'),), "all kill matrix: player"),
        ((('<span class="team2-player-score">0</span>:<span class="team1-player-score">2</span>',
           '<span class="team2-player-score">?</span>:<span class="team1-player-score">2</span>'),),
         "player1_kills"),
        ((('<span class="team2-player-score">0</span>:<span class="team1-player-score">2</span>',
           '<span class="team2-player-score">-</span>:<span class="team1-player-score">2</span>'),),
         "no score for 12660 vs 14094"),
    ],
)
def test_missing_or_bad_pieces_are_named(replacements, message):
    with pytest.raises(ParseError, match=message):
        parse_performance(mutated("performance-219128", *replacements))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda bars: bars.pop(0), "kpr"),
        (lambda bars: bars.pop(), "Rating"),
        (lambda bars: bars[0].pop("displayValue"), "displayValue"),
        (lambda bars: bars[0].update(displayValue="fast"), "kpr"),
    ],
)
def test_bad_player_bars_are_named(change, message):
    page = with_charts("performance-219128", lambda config: change(config["dataSource"]["data"]), expected_charts=10)
    with pytest.raises(ParseError, match=message):
        parse_performance(page)


@pytest.mark.parametrize(
    "text, number",
    [
        ("66.7%", 66.7), ("+12.23%", 12.23), ("-1.93%", -1.93), ("0.75", 0.75), ("-", None),
        ("", None), ("null", None),
    ],
)
def test_to_float(text, number):
    assert to_float(text) == number


def test_processors_reject_what_is_not_a_number():
    assert to_int("4200") == 4200
    for text in ("fast", "1.2.3", "12 5"):
        with pytest.raises(ValueError):
            to_float(text)
    with pytest.raises(ValueError):
        to_int("0.5")


def test_to_int_keeps_every_digit_of_a_large_id():
    # 18 digits pass the id rules; through a float they would read 123456789012345680
    assert to_int("123456789012345678") == 123456789012345678
    assert to_int(9007199254740993) == 9007199254740993
    assert to_int(" +3 ") == 3 and to_int("3.0") == 3 and to_int("-") is None
