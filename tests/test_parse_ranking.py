"""The world ranking parser against every fixture snapshot and its truth file, field by
field, and against the ways a real ranking page can differ from the fixtures or be broken."""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import asdict, fields
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from hltv_scraper.items import RankingPage, RankingPlayer, RankingTeam
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.ranking import parse_ranking
from tests.support.pages import PAGES_DIR, load_expected, load_page, mutated, with_text

SNAPSHOTS = ["ranking-2025-11-17", "ranking-2025-11-24", "ranking-2025-12-01"]
VARIANTS = ["variant-old-ranking-2019-04-29", "variant-tie-ranking-2025-11-24"]
LIQUID_POINTS = '<span class="points">(897 points)</span>'


@functools.cache
def parsed(name: str) -> RankingPage:
    """Each page parsed once: the tests below only read the result."""
    return parse_ranking(load_page(name))


def rewritten(name: str, pattern: str, replacement: str) -> HtmlResponse:
    """The page with a regular expression applied; it must change something."""
    return rewritten_text(load_page(name), pattern, replacement)


def rewritten_text(page: HtmlResponse, pattern: str, replacement: str) -> HtmlResponse:
    text, made = re.subn(pattern, replacement, page.text)
    assert made, pattern
    return with_text(page, text)


def test_the_fixture_pages_are_all_here():
    assert sorted(p.name for p in PAGES_DIR.glob("*ranking-*.html.gz")) == sorted(
        f"{name}.html.gz" for name in SNAPSHOTS + VARIANTS
    )


@pytest.mark.parametrize("name", SNAPSHOTS + VARIANTS)
def test_snapshot_matches_its_truth_field_by_field(name):
    page, truth = parsed(name), load_expected(name)
    assert (page.ranking_date, page.prev_date, page.next_date) == (
        truth["ranking_date"], truth["prev"], truth["next"]
    )
    assert page.url.endswith(truth["url_path"])
    assert len(page.teams) == len(truth["teams"])
    team_fields = {f.name for f in fields(RankingTeam)}
    player_fields = {f.name for f in fields(RankingPlayer)}
    for got, expected in zip(page.teams, truth["teams"]):
        assert team_fields == set(expected), "the item and the truth name the same fields"
        for field_name in team_fields - {"players", "is_new"}:
            assert getattr(got, field_name) == expected[field_name], (expected["team_name"], field_name)
        assert got.is_new is bool(expected["is_new"]), expected["team_name"]
        for player, truth_player in zip(got.players, expected["players"], strict=True):
            assert player_fields == set(truth_player)
            assert asdict(player) == truth_player, expected["team_name"]


@pytest.mark.parametrize("name", SNAPSHOTS + VARIANTS)
def test_ties_share_a_rank_and_the_next_rank_skips(name):
    ranks = [team.rank for team in parsed(name).teams]
    assert ranks == sorted(ranks)
    tied = sorted({rank for rank in ranks if ranks.count(rank) > 1})
    assert tied == load_expected(name)["ties"]
    for rank in tied:
        assert ranks[ranks.index(rank) + ranks.count(rank)] == rank + ranks.count(rank)


def test_new_teams_have_no_change_and_both_labels_are_read():
    for name, label in (("ranking-2025-11-17", "New"), ("ranking-2025-12-01", "NEW TEAM")):
        assert load_expected(name)["new_label"] == label
        new = [team for team in parsed(name).teams if team.is_new]
        assert new and all(team.rank_change is None for team in new)
        assert all(team.rank_change is not None for team in parsed(name).teams if not team.is_new)
    assert len([t for t in parsed("ranking-2025-12-01").teams if t.is_new]) == 5


def test_fewer_than_thirty_teams_is_a_snapshot():
    assert len(parsed("ranking-2025-11-24").teams) == 25


def test_a_team_name_with_an_ampersand_is_unescaped():
    assert "ENCE Academy & Co" in {team.team_name for team in parsed("ranking-2025-11-17").teams}


def test_the_sidebar_ranking_box_is_not_read():
    # the left sidebar lists teams with /team/ links and "#n" too: only the content counts
    assert 'class="ranking-row"' in load_page("ranking-2025-12-01").text
    assert len(parsed("ranking-2025-12-01").teams) == 30


def test_a_regional_relisting_keeps_the_first_position():
    page = parsed("variant-tie-ranking-2025-11-24")
    first = page.teams[0]
    assert [team.team_id for team in page.teams].count(first.team_id) == 1
    assert first.rank == 1


def test_a_second_list_after_the_ranking_is_not_read():
    # another list (a regional tab) after the world ranking starts its ranks again, and
    # its blocks may lack what a ranked team has: nothing of it is read
    page = load_page("ranking-2025-11-24")
    text = page.text
    last = text.rindex('<div class="ranking-prev-next">')
    regional = (
        '<div class="ranked-team standard-box"><div class="ranking-header">'
        '<span class="position">#1</span><span class="name">Somebody Else</span></div></div>\n'
    )
    parsed_page = parse_ranking(with_text(page, text[:last] + regional + text[last:]))
    assert [team.team_name for team in parsed_page.teams] == [t["team_name"] for t in load_expected("ranking-2025-11-24")["teams"]]


def test_a_team_listed_twice_in_the_ranking_keeps_its_first_place():
    page = load_page("ranking-2025-11-24")
    block = re.search(r'<div class="ranked-team standard-box">.*?</div>\n</div>\n', page.text, re.S).group(0)
    last = page.text.rindex('<div class="ranking-prev-next">')
    text = page.text[:last] + block.replace(">#1<", ">#25<") + page.text[last:]
    teams = parse_ranking(with_text(page, text)).teams
    assert len(teams) == 25 and teams[0].rank == 1


def test_a_player_without_a_link_keeps_his_nick():
    players = parsed("variant-tie-ranking-2025-11-24").teams[1].players
    assert [p.player_id is None for p in players] == [False, False, True, False, False]
    assert players[2].player_name


# -- the date, wherever the page gives it ---------------------------------------------


def test_the_current_ranking_url_takes_the_date_from_the_heading():
    page = load_page("ranking-2025-12-01")
    current = HtmlResponse(url="https://www.hltv.org/ranking/teams", body=page.body, encoding="utf-8")
    assert parse_ranking(current).ranking_date == "2025-12-01"


@pytest.mark.parametrize(
    "heading, date",
    [
        ("CS:GO World ranking on April 22nd, 2019", "2019-04-22"),
        ("Counter-Strike World ranking on March 3rd, 2025", "2025-03-03"),
        ("CS2 World ranking on September 11th, 2023", "2023-09-11"),
        ("CS:GO World ranking on June 1st 2020", "2020-06-01"),
        ("World ranking on 22nd of June, 2020", "2020-06-22"),
    ],
)
def test_heading_dates_with_every_ordinal(heading, date):
    page = mutated(
        "ranking-2025-12-01",
        ("Counter-Strike World ranking on December 1st, 2025", heading),
    )
    assert parse_ranking(page).ranking_date == date


def test_without_a_heading_the_date_comes_from_the_url():
    page = rewritten("ranking-2025-12-01", r'<div class="regional-ranking-header-text">[^<]*</div>', "")
    assert "World ranking on" not in page.text
    assert parse_ranking(page).ranking_date == "2025-12-01"


def test_no_date_anywhere_is_refused():
    page = rewritten("ranking-2025-12-01", r"World ranking on December 1st, 2025", "World ranking")
    page = rewritten_text(page, r'<link rel="canonical"[^>]*>', "")
    undated = HtmlResponse(url="https://www.hltv.org/ranking/teams", body=page.body, encoding="utf-8")
    with pytest.raises(ParseError, match="no date"):
        parse_ranking(undated)


@pytest.mark.parametrize("shown", ["T7", "T-7", "7", "#7"])
def test_a_rank_as_older_pages_and_ties_write_it(shown):
    page = mutated("ranking-2025-12-01", ('<span class="position wide-position">#7</span>', f'<span class="position">{shown}</span>'))
    assert [team.rank for team in parse_ranking(page).teams] == [t["rank"] for t in load_expected("ranking-2025-12-01")["teams"]]


def test_only_the_pagination_links_give_the_neighbours():
    # the Valve ranking, country filters and details links are /ranking/ links too
    page = parsed("ranking-2025-12-01")
    assert page.next_date is None and page.prev_date == "2025-11-24"


def test_a_next_link_to_the_same_week_is_no_next_snapshot():
    page = mutated(
        "ranking-2025-12-01",
        ('<a class="pagination-next inactive">',
         '<a class="pagination-next" href="/ranking/teams/2025/december/1">'),
    )
    assert parse_ranking(page).next_date is None


# -- change indicators of older generations -------------------------------------------


@pytest.mark.parametrize(
    "indicator, change, new",
    [
        ('<div class="change up">3</div>', 3, False),
        ('<div class="change down">3</div>', -3, False),
        ('<div class="change"><i class="fa down"></i> 4</div>', -4, False),
        ('<div class="change">\u22122</div>'.replace("\u2212", "-"), -2, False),
        ('<div class="change neutral">-</div>', 0, False),
        ('<div class="change new">New</div>', None, True),
        ('<div class="change">NEW TEAM</div>', None, True),
        ("", None, False),
    ],
)
def test_change_indicators(indicator, change, new):
    page = mutated("ranking-2025-12-01", ('<div class="change positive">+2</div>', indicator))
    liquid = parse_ranking(page).teams[0]
    assert (liquid.team_name, liquid.rank_change, liquid.is_new) == ("Team Liquid", change, new)


def test_points_without_brackets_or_with_a_thousands_separator():
    for shown, points in (("1000 points", 1000), ("(1,012 HLTV points)", 1012), ("(897)", 897), ("897 pts", 897)):
        page = mutated("ranking-2025-12-01", (LIQUID_POINTS, f'<span class="points">{shown}</span>'))
        assert parse_ranking(page).teams[0].points == points


# -- refusals, by name ----------------------------------------------------------------


def test_a_team_without_points_is_refused_by_name():
    page = mutated("ranking-2025-12-01", (LIQUID_POINTS, ""))
    with pytest.raises(ParseError, match=r"'Team Liquid' has no points"):
        parse_ranking(page)


def test_a_page_cut_off_inside_a_team_is_refused_naming_the_team():
    page = load_page("ranking-2025-12-01")
    text = page.text
    cut = text.index('<span class="points">', text.index('<span class="name">Aurora Vale</span>'))
    with pytest.raises(ParseError, match=r"'Aurora Vale' has no points"):
        parse_ranking(with_text(page, text[:cut]))


def test_a_page_cut_off_between_two_teams_is_refused():
    page = load_page("ranking-2025-12-01")
    text = page.text
    cut = text.index('<div class="ranked-team', text.index('<span class="name">Aurora Vale</span>'))
    with pytest.raises(ParseError, match="cut short"):
        parse_ranking(with_text(page, text[:cut]))


def test_a_ranking_page_without_teams_is_refused_as_such():
    page = load_page("ranking-2025-12-01")
    text = page.text
    cut = text.index('<div class="ranked-team')
    with pytest.raises(ParseError, match="the ranking page shows no team"):
        parse_ranking(with_text(page, text[:cut]))


def test_a_team_without_an_id_is_refused_by_name():
    page = rewritten(
        "ranking-2025-12-01", r'<a class="moreLink" href="/team/13721/team-liquid">[^<]*</a>', ""
    )
    with pytest.raises(ParseError, match=r"'Team Liquid' has no team id"):
        parse_ranking(page)


@pytest.mark.slow  # 6 MB pages
@pytest.mark.parametrize("name", ["match-2389951", "results-0", "mapstats-219128"])
def test_a_page_that_is_not_a_ranking_page_is_refused(name):
    with pytest.raises(ParseError, match="not a ranking page"):
        parse_ranking(load_page(name))


def test_a_challenge_page_is_not_a_ranking_page():
    challenge = load_page("special-cf-challenge-performance-173424")
    with pytest.raises(ParseError, match="not a ranking page"):
        parse_ranking(HtmlResponse(url="https://www.hltv.org/ranking/teams/2025/december/1",
                                   body=challenge.body, encoding="utf-8"))


def test_an_unreadable_change_is_refused_by_name():
    page = mutated("ranking-2025-12-01", ('<div class="change positive">+2</div>', '<div class="change">up a lot</div>'))
    with pytest.raises(ParseError, match=r"'Team Liquid': unreadable change"):
        parse_ranking(page)


def test_the_committed_variants_are_what_the_tool_makes():
    path = Path(__file__).resolve().parents[1] / "tools" / "make_ranking_variants.py"
    spec = importlib.util.spec_from_file_location("make_ranking_variants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(check=True) == 0


def test_the_valve_ranking_url_gives_its_date_too():
    page = rewritten("ranking-2025-12-01", r'<div class="regional-ranking-header-text">[^<]*</div>', "")
    page = rewritten_text(page, r'<link rel="canonical"[^>]*>', "")
    valve = HtmlResponse(url="https://www.hltv.org/valve-ranking/teams/2025/december/1", body=page.body, encoding="utf-8")
    assert parse_ranking(valve).ranking_date == "2025-12-01"
