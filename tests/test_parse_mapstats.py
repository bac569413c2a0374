"""The map stats parser against the fixture pages and their truth files, field by field."""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, fields

import pytest
from scrapy.http import HtmlResponse

from hltv_scraper.items import MapStatsPage, MapTeam, ScoreboardRow
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.mapstats import parse_mapstats
from tests.support.pages import MAPSTATSIDS as ALL_MAPS
from tests.support.pages import load_expected, load_page
from tests.support.pages import mutated as mutated_page
ROUND_FIELDS = ("round_number", "winner_side", "win_type", "winner_team_id")


@functools.cache
def parsed(mapstatsid: int) -> MapStatsPage:
    """Each page parsed once: the tests below only read the result."""
    return parse_mapstats(load_page(f"mapstats-{mapstatsid}"))


def mutated(mapstatsid: int, *replacements: tuple[str, str]) -> HtmlResponse:
    return mutated_page(f"mapstats-{mapstatsid}", *replacements)


def assert_match_fields(page: MapStatsPage, truth: dict) -> None:
    assert page.map_name == truth["match"]["map_name"]
    assert page.event_id == truth["match"]["event_id"]
    assert page.event_name == truth["match"]["event_name"]
    assert page.date_unix_ms == truth["match"]["date_unix_ms"]
    assert page.rating_version == truth["rating_version"]


def assert_teams(page: MapStatsPage, truth: dict) -> None:
    assert len(page.teams) == 2
    for team, expected in zip(page.teams, truth["teams"]):
        for name in (field.name for field in fields(MapTeam)):
            assert getattr(team, name) == expected[name], (team.team_name, name)
    match = truth["match"]
    assert [t.team_id for t in page.teams] == [match["team1_id"], match["team2_id"]]
    assert [t.ot_rounds for t in page.teams] == [match["team1_ot_rounds"], match["team2_ot_rounds"]]


def assert_scoreboard(page: MapStatsPage, truth: dict) -> None:
    assert [p.player_id for p in page.players] == [p["player_id"] for p in truth["players"]]
    for player, expected in zip(page.players, truth["players"]):
        for name in (field.name for field in fields(ScoreboardRow)):
            assert getattr(player, name) == expected[name], (player.player_name, name)


def assert_round_history(page: MapStatsPage, truth: dict) -> None:
    assert len(page.rounds) == truth["total_rounds"]
    assert [asdict(r) for r in page.rounds] == [
        {name: r[name] for name in ROUND_FIELDS} for r in truth["rounds"]
    ]


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_match_fields(mapstatsid):
    page = parsed(mapstatsid)
    assert_match_fields(page, load_expected(mapstatsid))
    assert page.unit_id is None  # the spider's to set
    assert page.url == f"https://www.hltv.org/stats/matches/mapstatsid/{mapstatsid}/x"


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_teams(mapstatsid):
    assert_teams(parsed(mapstatsid), load_expected(mapstatsid))


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_scoreboard(mapstatsid):
    assert_scoreboard(parsed(mapstatsid), load_expected(mapstatsid))


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_round_history(mapstatsid):
    assert_round_history(parsed(mapstatsid), load_expected(mapstatsid))


@pytest.mark.parametrize("mapstatsid", [162345, 173424, 206389])
def test_layout_noise_changes_nothing(mapstatsid):
    """Whitespace between tags and around colons, extra classes: the live site may differ so."""
    text = load_page(f"mapstats-{mapstatsid}").text
    text = text.replace("><", ">\n   <").replace(" : ", "  :\n ")
    text = re.sub(r'class="([^"]*)"', r'class=" live-extra  \1  "', text)
    assert text.count("live-extra") > 1000
    page = parse_mapstats(HtmlResponse(url="https://x", body=text.encode(), encoding="utf-8"))
    truth = load_expected(mapstatsid)
    assert_match_fields(page, truth)
    assert_teams(page, truth)
    assert_scoreboard(page, truth)
    assert_round_history(page, truth)


def test_rating_2_mr15_page():
    """162345: Rating 2.0, MR15 16-14 with all 30 rounds in regulation."""
    page = parsed(162345)
    assert page.rating_version == "2.0"
    assert [(t.score, t.ct_rounds, t.t_rounds, t.ot_rounds) for t in page.teams] == [
        (16, 9, 7, 0), (14, 8, 6, 0)
    ]
    assert len(page.rounds) == 30
    for player in page.players:
        assert player.round_swing is None and player.rating_version == "2.0"
        assert player.e_kills is None and player.e_adr is None and player.e_kd_diff is None
        assert player.kills is not None and player.adr is not None


def test_long_overtime_second_container():
    """206389: MR12 19-17; rounds 25-36 come from the "Overtime" block."""
    page = parsed(206389)
    assert page.rating_version == "3.0"
    assert [(t.ct_rounds, t.t_rounds, t.ot_rounds) for t in page.teams] == [(3, 9, 7), (3, 9, 5)]
    assert [r.round_number for r in page.rounds] == list(range(1, 37))
    assert page.rounds[24].winner_side == "T" and page.rounds[24].winner_team_id == 7873
    assert page.rounds[35].win_type == "elimination" and page.rounds[35].winner_team_id == 7873


def test_entities_in_team_names_are_unescaped():
    assert parsed(173424).teams[0].team_name == "Smoke & Mirrors"


def test_one_team_scoreboard_is_a_parse_error():
    response = load_page("special-mapstats-one-team-left-only-mapstats-188093")
    with pytest.raises(ParseError, match="1 team scoreboard"):
        parse_mapstats(response)


def test_info_rows_are_read_by_label_not_position():
    page = load_page("mapstats-206389")
    rows = re.findall(r'<div class="match-info-row">.*?</div></div>', page.text)
    first_kills, clutches = rows[2], rows[3]
    assert "First kills" in first_kills and "Clutches won" in clutches
    response = mutated(206389, (first_kills + clutches, clutches + first_kills))
    teams = parse_mapstats(response).teams
    assert [(t.first_kills, t.clutches_won) for t in teams] == [(19, 4), (17, 2)]


def test_a_round_with_two_winners_is_a_parse_error():
    # Round 1 of 206389: Grey Tide won it; give it to Paper Tigers as well.
    old = ('title="Paper Tigers"/><div class="round-history-bar"></div><img alt="" '
           'class="round-history-outcome" src="/img/static/scoreboard/emptyHistory.svg"')
    new = old.replace("emptyHistory.svg", "ct_win.svg")
    with pytest.raises(ParseError, match="round 1 "):
        parse_mapstats(mutated(206389, (old, new)))


def test_an_unknown_outcome_icon_is_a_parse_error():
    old = 'src="/img/static/scoreboard/t_win.svg" title="0-1"'
    with pytest.raises(ParseError, match="round 1 "):
        parse_mapstats(mutated(206389, (old, old.replace("t_win", "surrender"))))


def test_history_that_disagrees_with_the_score_is_a_parse_error():
    # Round 1 handed from Grey Tide to Paper Tigers: 20-16 by the history, 19-17 by the score.
    paper_tigers = ('title="Paper Tigers"/><div class="round-history-bar"></div><img alt="" '
                    'class="round-history-outcome" src="/img/static/scoreboard/emptyHistory.svg"')
    grey_tide = 'src="/img/static/scoreboard/t_win.svg" title="0-1"'
    response = mutated(
        206389,
        (paper_tigers, paper_tigers.replace("emptyHistory.svg", "ct_win.svg")),
        (grey_tide, grey_tide.replace("t_win.svg", "emptyHistory.svg")),
    )
    with pytest.raises(ParseError, match="'Paper Tigers' 20 rounds"):
        parse_mapstats(response)


def test_a_missing_player_row_is_a_parse_error():
    page = load_page("mapstats-206389")
    rows = re.findall(r'<tr><td class="st-player">.*?</tr>', page.text)
    row = next(row for row in rows if "/stats/players/9332/" in row)  # ryoko, left team
    with pytest.raises(ParseError, match="4 players"):
        parse_mapstats(mutated(206389, (row, "")))


def test_a_malformed_number_names_the_row():
    old = '<td class="st-adr traditional-data">98.8</td>'
    with pytest.raises(ParseError, match="'Lynar'.*adr"):
        parse_mapstats(mutated(206389, (old, old.replace("98.8", "98,8"))))


def test_a_page_without_a_scoreboard_is_a_parse_error():
    response = HtmlResponse(
        url="https://www.hltv.org/stats/matches/mapstatsid/1/x",
        body=b"<html><body><div class='contentCol'>nothing here</div></body></html>",
        encoding="utf-8",
    )
    with pytest.raises(ParseError, match="no scoreboard"):
        parse_mapstats(response)
