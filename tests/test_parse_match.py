"""The match page parser against every fixture match page and its truth file, field by
field, and against the ways a real match page can differ from the fixtures or be broken."""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, fields

import pytest
from scrapy.http import HtmlResponse

from hltv_scraper.items import MatchMap, MatchPage
from hltv_scraper.parsers import ParseError, _page
from hltv_scraper.parsers.match import parse_match
from tests.support.pages import MATCH_IDS, load_expected, load_page, with_text
from tests.support.pages import mutated as mutated_page

PAGE_FIELDS = (
    "match_id", "team1_id", "team1_name", "team2_id", "team2_name", "team1_score",
    "team2_score", "best_of", "is_lan", "event_id", "event_name", "date_unix_ms", "status",
    "stage", "is_forfeit", "demo_id",
)
MAP_FIELDS = tuple(field.name for field in fields(MatchMap) if field.name != "is_forfeit")
VETO_FIELDS = ("step", "team_id", "team_name", "action", "map_name")
TEAM1_LINK = '<div class="team1-gradient"><a href="/team/5870/northwind">'
STATS_LINK = '<a class="results-stats" href="/stats/matches/mapstatsid/219128/northwind-vs-blue-harbor">'


@functools.cache
def parsed(match_id: int) -> MatchPage:
    """Each page parsed once: the tests below only read the result."""
    return parse_match(load_page(f"match-{match_id}"))


def mutated(match_id: int, *replacements: tuple[str, str]) -> HtmlResponse:
    return mutated_page(f"match-{match_id}", *replacements)


def rewritten(match_id: int, pattern: str, replacement: str) -> HtmlResponse:
    """The page with a regular expression applied; it must change something."""
    page = load_page(f"match-{match_id}")
    text, made = re.subn(pattern, replacement, page.text)
    assert made, pattern
    return with_text(page, text)


def assert_page_fields(page: MatchPage, truth: dict) -> None:
    for name in PAGE_FIELDS:
        assert getattr(page, name) == truth[name], name
    assert page.format_text == "\n".join(truth["format_text"])
    assert [page.team1_rank, page.team2_rank] == [lineup["ranking"] for lineup in truth["lineups"]]


def assert_maps(page: MatchPage, truth: dict) -> None:
    assert len(page.maps) == len(truth["maps"])
    for got, expected in zip(page.maps, truth["maps"]):
        for name in MAP_FIELDS:
            assert getattr(got, name) == expected[name], (expected["map_number"], name)
        assert got.is_forfeit == expected["forfeit"], expected["map_number"]


def assert_vetoes(page: MatchPage, truth: dict) -> None:
    assert [asdict(step) for step in page.vetoes] == [
        {name: step[name] for name in VETO_FIELDS} for step in truth["vetoes"]
    ]


def assert_lineups(page: MatchPage, truth: dict) -> None:
    assert [(p.team_id, p.player_id, p.player_name) for p in page.lineups] == [
        (lineup["team_id"], player["player_id"], player["player_name"])
        for lineup in truth["lineups"]
        for player in lineup["players"]
    ]


def assert_all(page: MatchPage, truth: dict) -> None:
    assert_page_fields(page, truth)
    assert_maps(page, truth)
    assert_vetoes(page, truth)
    assert_lineups(page, truth)


@pytest.mark.parametrize("match_id", MATCH_IDS)
def test_page_fields_match_truth(match_id):
    page = parsed(match_id)
    assert_page_fields(page, load_expected(f"match-{match_id}"))
    assert page.unit_id is None  # the spider sets it
    assert page.url == f"https://www.hltv.org/matches/{match_id}/x"


@pytest.mark.parametrize("match_id", MATCH_IDS)
def test_maps_match_truth(match_id):
    assert_maps(parsed(match_id), load_expected(f"match-{match_id}"))


@pytest.mark.parametrize("match_id", MATCH_IDS)
def test_vetoes_match_truth(match_id):
    assert_vetoes(parsed(match_id), load_expected(f"match-{match_id}"))


@pytest.mark.parametrize("match_id", MATCH_IDS)
def test_lineups_match_truth(match_id):
    assert_lineups(parsed(match_id), load_expected(f"match-{match_id}"))


def test_bo1_bo3_and_bo5_pages():
    assert {match_id: parsed(match_id).best_of for match_id in MATCH_IDS} == {
        2366498: 1, 2367432: 3, 2371321: 1, 2377467: 1, 2380434: 1, 2384993: 5, 2389951: 3,
    }
    assert [len(parsed(match_id).maps) for match_id in (2366498, 2389951, 2384993)] == [1, 3, 5]
    bo1 = parsed(2366498)  # a BO1's team boxes show its rounds
    assert (bo1.team1_score, bo1.team2_score) == (16, 14) == (
        bo1.maps[0].team1_rounds, bo1.maps[0].team2_rounds
    )
    assert [parsed(match_id).is_lan for match_id in (2389951, 2367432)] == [True, False]


def test_the_format_box_lines_and_stage():
    page = parsed(2384993)
    assert page.format_text.split("\n") == [
        "Best of 5 (Online)",
        "* Grand final",
        "** Grey Tide forfeit 3rd map as they are unable to play due to technical issues",
    ]
    assert page.stage == "Grand final"  # the "**" line is a note, not the stage
    note = "\n** Grey Tide forfeit 3rd map as they are unable to play due to technical issues"
    noted_first = mutated(2384993, (note, ""), ("Best of 5 (Online)", "Best of 5 (Online)" + note))
    assert parse_match(noted_first).stage == "Grand final"


def test_an_unplayed_map():
    third = parsed(2367432).maps[2]
    assert (third.map_number, third.map_name, third.played, third.is_forfeit) == (
        3, "Inferno", False, False
    )
    assert third.mapstatsid is None
    assert all(getattr(third, name) is None for name in MAP_FIELDS[5:])
    assert (third.team1_rounds, third.team2_rounds) == (None, None)  # "-" on the page


def test_a_default_map_is_forfeited_and_counts_as_played():
    page = parsed(2384993)
    default = page.maps[2]
    assert (default.map_name, default.played, default.is_forfeit) == ("Default", True, True)
    assert (default.team1_rounds, default.team2_rounds, default.mapstatsid) == (1, 0, None)
    assert default.team1_ct_rounds is None and default.team1_ot_rounds is None
    assert default.team1_starting_side is None
    assert page.is_forfeit and page.status == "Match over"
    assert [m.played for m in page.maps] == [True, True, True, False, False]
    assert [m.mapstatsid for m in page.maps] == [206389, 206391, None, None, None]


def test_a_full_forfeit_has_no_score():
    page = parsed(2380434)
    assert (page.team1_score, page.team2_score) == (None, None)
    assert (page.status, page.is_forfeit) == ("Match deleted", True)
    assert [(m.map_name, m.is_forfeit, m.mapstatsid) for m in page.maps] == [("Default", True, None)]
    # still a whole match: teams, vetoes, lineups
    assert (page.team1_id, page.team2_id) == (9637, 4136)
    assert len(page.vetoes) == 7 and len(page.lineups) == 10


def test_deleted_status_alone_makes_a_forfeit():
    default = '<div class="mapname">Default</div>'
    page = parse_match(mutated(2380434, (default, '<div class="mapname">Mirage</div>')))
    assert not any(m.is_forfeit for m in page.maps)
    assert page.is_forfeit is True


def test_no_forfeit_on_a_regular_match():
    assert not any(parsed(match_id).is_forfeit for match_id in (2389951, 2367432, 2366498))


def test_overtime_half_scores():
    first = parsed(2384993).maps[0]  # 19-17: (3:9; 9:3) then overtime (7:5)
    assert (first.team1_rounds, first.team2_rounds) == (19, 17)
    assert (first.team1_ct_rounds, first.team1_t_rounds, first.team1_ot_rounds) == (3, 9, 7)
    assert (first.team2_ct_rounds, first.team2_t_rounds, first.team2_ot_rounds) == (3, 9, 5)
    assert first.team1_starting_side == "CT"
    regulation = parsed(2384993).maps[1]
    assert (regulation.team1_ot_rounds, regulation.team2_ot_rounds) == (0, 0)


def test_half_scores_without_side_classes_keep_only_what_they_say():
    # An older page without side classes: halves are still the first two groups.
    page = parse_match(rewritten(2384993, r'<span class="(?:ct|t)">', "<span>"))
    first = page.maps[0]
    assert (first.team1_ot_rounds, first.team2_ot_rounds) == (7, 5)
    assert first.team1_ct_rounds is None and first.team1_starting_side is None


def test_a_half_score_group_that_is_not_a_pair_is_a_parse_error():
    old = '<span class="t">9</span><span>; </span><span class="t">5</span>'
    new = '<span class="t">9</span><span class="t">1</span><span>; </span><span class="t">5</span>'
    with pytest.raises(ParseError, match=r"map 2: half score group \(3 : 9 : 1\)"):
        parse_match(mutated(2389951, (old, new)))


def test_a_half_score_group_with_one_side_only_is_a_parse_error():
    old = '<span class="t">7</span><span class="">:</span><span class="ct">5</span>'
    new = '<span class="t">7</span><span class="">:</span><span>5</span>'
    with pytest.raises(ParseError, match="map 1: a half score group has a side on one number only"):
        parse_match(mutated(2389951, (old, new)))


def test_unranked_teams_have_no_rank():
    assert (parsed(2366498).team1_rank, parsed(2366498).team2_rank) == (None, None)
    assert (parsed(2377467).team1_rank, parsed(2377467).team2_rank) == (None, 143)
    assert (parsed(2389951).team1_rank, parsed(2389951).team2_rank) == (3, 11)


def test_vetoes_resolve_teams_and_the_map_left_over():
    vetoes = parsed(2389951).vetoes
    assert [(v.step, v.team_id, v.action, v.map_name) for v in vetoes] == [
        (1, 12356, "removed", "Overpass"), (2, 5870, "removed", "Dust2"),
        (3, 12356, "picked", "Mirage"), (4, 5870, "picked", "Inferno"),
        (5, 12356, "removed", "Anubis"), (6, 5870, "removed", "Ancient"),
        (7, None, "left_over", "Nuke"),
    ]
    assert vetoes[-1].team_name is None


def test_veto_team_names_are_matched_loosely():
    old = "<div>2. Smoke &amp; Mirrors removed Ancient</div>"
    new = "<div>2.  smoke   &amp;amp; MIRRORS removed Ancient</div>"
    page = parse_match(mutated(2371321, (old, new)))
    assert (page.vetoes[1].team_id, page.vetoes[1].map_name) == (4175, "Ancient")


def test_a_veto_by_a_team_not_on_the_page_keeps_its_name_without_an_id():
    old = "<div>1. Blue Harbor removed Overpass</div>"
    page = parse_match(mutated(2389951, (old, "<div>1. Harbor Blue removed Overpass</div>")))
    assert (page.vetoes[0].team_id, page.vetoes[0].team_name) == (None, "Harbor Blue")


LINEUP = '<div class="lineup standard-box">'


def test_lineups_are_matched_to_teams_by_their_links_not_their_order():
    text = load_page("match-2389951").text
    start = text.index(LINEUP)
    end = text.index('\n</div></div>\n<div class="matchstats"', start)
    first, second = text[start:end].split(LINEUP)[1:]
    swapped = parse_match(mutated(2389951, (text[start:end], LINEUP + second + LINEUP + first)))
    assert (swapped.team1_rank, swapped.team2_rank) == (3, 11)
    by_team = {(p.team_id, p.player_id) for p in swapped.lineups}
    assert by_team == {(p.team_id, p.player_id) for p in parsed(2389951).lineups}


def test_lineups_without_team_links_come_in_team_order():
    page = parse_match(rewritten(2389951, r'<a class="text-ellipsis" href="/team/\d+/[^"]*">', "<a>"))
    assert [p.team_id for p in page.lineups] == [5870] * 5 + [12356] * 5
    assert (page.team1_rank, page.team2_rank) == (3, 11)


def test_mapstatsids_come_only_from_the_map_holders():
    page = parse_match(mutated(2389951, (STATS_LINK + "STATS</a>", "")))
    text = load_page("match-2389951").text
    assert text.count("/stats/matches/mapstatsid/219128/") >= 2  # also linked further down
    assert [m.mapstatsid for m in page.maps] == [None, 219131, 219135]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("standard-box teamsBox", "standard-box", r"no team boxes \(\.teamsBox\)"),
    ('<div class="team2-gradient">', '<div class="team2">', r"no \.team2-gradient"),
    (TEAM1_LINK, '<div class="team1-gradient"><a href="/teams">', r"no /team/ link in \.team1-gradient"),
    (TEAM1_LINK, TEAM1_LINK.replace("5870/", ""), r"no team id in the \.team1-gradient link"),
    (TEAM1_LINK, TEAM1_LINK.replace("5870", "9" * 25), r"\.team1-gradient team link: no id of at most 18"),
    ('<div class="teamName">Blue Harbor</div>', "", r"no team name \(\.teamName\) in \.team2-gradient"),
    (TEAM1_LINK, TEAM1_LINK.replace("5870", "12356"), "both teams have the id 12356"),
])
def test_a_missing_required_piece_is_a_parse_error_naming_it(old, new, message):
    with pytest.raises(ParseError, match=message):
        parse_match(mutated(2389951, (old, new)))


def test_a_map_holder_without_a_name_is_a_parse_error():
    response = mutated(
        2389951,
        ('<div class="mapname">Inferno</div>', ""),
        ('<img alt="Inferno" class="minimap"', '<img alt="" class="minimap"'),
    )
    with pytest.raises(ParseError, match=r"map 2 has no name \(\.mapname\)"):
        parse_match(response)


def test_a_map_name_shown_only_by_its_image_is_enough():
    page = parse_match(mutated(2389951, ('<div class="mapname">Inferno</div>', "")))
    assert page.maps[1].map_name == "Inferno"


def test_a_page_that_is_no_match_page_is_a_parse_error():
    response = HtmlResponse(
        url="https://www.hltv.org/matches/1/x",
        body=b"<html><body><div class='contentCol'>Just a moment...</div></body></html>",
        encoding="utf-8",
    )
    with pytest.raises(ParseError, match=r"no team boxes"):
        parse_match(response)


CANONICAL = '<link rel="canonical" href="https://www.hltv.org/matches/2389951/'


def test_the_match_id_comes_from_the_canonical_link():
    page = load_page("match-2389951")
    elsewhere = HtmlResponse(url="https://www.hltv.org/some/redirect", body=page.body,
                             encoding="utf-8")
    assert parse_match(elsewhere).match_id == 2389951
    swapped = mutated(2389951, (CANONICAL, '<link href="/matches/2389952/x" rel="canonical"/><x '))
    assert parse_match(swapped).match_id == 2389952


def test_the_match_id_comes_from_the_url_without_a_canonical_link():
    page = mutated(2389951, (CANONICAL, '<link rel="alternate" href="https://x/'))
    assert parse_match(page).match_id == 2389951
    elsewhere = HtmlResponse(url="https://www.hltv.org/some/redirect", body=page.body,
                             encoding="utf-8")
    with pytest.raises(ParseError, match="no match id"):
        parse_match(elsewhere)


@pytest.mark.parametrize(("old", "new", "message"), [
    (STATS_LINK, STATS_LINK.replace("219128", "2" * 25), r"map 1: stats link: no id of at most 18"),
    ('"results-team-score">13<', '"results-team-score">' + "1" * 30 + "<", r"map 1: \.results-left score"),
    ('<span class="t">7</span>', '<span class="t">' + "7" * 30 + "</span>", "map 1: half score"),
    ('data-unix="1771074300000">14th', 'data-unix="' + "1" * 30 + '">14th', r"date \(data-unix\)"),
    ("</span>#3</a>", "</span>#" + "3" * 30 + "</a>", "world rank"),
    ("<div>1. Blue Harbor", "<div>" + "1" * 30 + ". Blue Harbor", "veto"),
    ('href="/events/8412/', 'href="/events/' + "8" * 30 + "/", "event link: no id of at most 18"),
    ('href="/player/18307/', 'href="/player/' + "1" * 30 + "/", "lineup player link"),
    ("Best of 3 (LAN)", "Best of " + "3" * 30 + " (LAN)", "best of"),
])
def test_absurd_numbers_are_parse_errors(old, new, message):
    with pytest.raises(ParseError, match=message):
        parse_match(mutated(2389951, (old, new)))


def test_optional_pieces_removed_read_as_none():
    optional = (
        r'<div class="event text-ellipsis">.*?</div>',
        r' data-unix="\d+"',
        r'<div class="countdown"[^>]*>[^<]*</div>',
        r'<div class="standard-box veto-box">(?s:.*?)</div></div>',
        r'<div class="teamRanking">.*?</a></div>',
        r'<div class="results-center-half-score">.*?</div>',
        r'<div class="lineups"(?s:.*?)<div class="matchstats"',
    )
    page = parse_match(rewritten(2389951, "|".join(optional), ""))
    truth = load_expected("match-2389951")
    assert (page.team1_id, page.team1_name, page.team2_id, page.team2_name) == (
        5870, "Northwind", 12356, "Blue Harbor"
    )
    assert (page.team1_score, page.team2_score) == (2, 1)
    for name in ("event_id", "event_name", "date_unix_ms", "status", "best_of", "is_lan",
                 "format_text", "stage", "team1_rank", "team2_rank"):
        assert getattr(page, name) is None, name
    assert page.is_forfeit is False
    assert page.vetoes == [] and page.lineups == []
    assert [(m.map_name, m.mapstatsid, m.team1_rounds, m.team2_rounds) for m in page.maps] == [
        (m["map_name"], m["mapstatsid"], m["team1_rounds"], m["team2_rounds"])
        for m in truth["maps"]
    ]
    for played in page.maps:
        assert played.team1_ct_rounds is None and played.team1_ot_rounds is None
        assert played.team1_starting_side is None


def test_a_team_box_without_its_score_reads_as_none():
    page = parse_match(rewritten(2389951, r'<div class="(?:won|lost)">\d+</div>', ""))
    assert (page.team1_score, page.team2_score) == (None, None)


def resub(pattern: str, replacement: str, text: str) -> str:
    text, made = re.subn(pattern, replacement, text)
    assert made, pattern
    return text


@pytest.mark.slow
@pytest.mark.parametrize("match_id", [2389951, 2384993, 2371321])
def test_an_older_looking_page_reads_the_same(match_id):
    """Spans for divs, wrappers, other attribute order, extra classes, whitespace, <br>."""
    text = load_page(f"match-{match_id}").text
    maps = len(parsed(match_id).maps)
    # team sides and scores in spans, the picking team's side flagged
    text = resub(r'<div class="(results-(?:left|right)) (\w+)">(.*?)'
                 r'<div class="results-team-score">([^<]*)</div></div>',
                 r'<span class="\2 pick \1">\3<span class="results-team-score"> \4 </span></span>', text)
    assert text.count('<span class="results-team-score">') == 2 * maps
    # the half scores wrapped, side classes of another generation
    text = resub(r'(<div class="results-center-half-score">)(.*?)(</div>)',
                 r'\1<span class="wrap">\2</span>\3', text)
    text = resub(r'<span class="(ct|t)">(\d+)</span>', r'<span class="\1-color"><b>\2</b></span>', text)
    # other attribute order; links and names wrapped
    text = resub(r'<a class="results-stats" (href="[^"]+")>', r'<a \1 class="results-stats">', text)
    text = resub(r'<div class="(team[12]-gradient)"><a (href="/team/[^"]+")>',
                 r'<div class="\1"><span class="wrap"><a title="x" \2>', text)
    text = resub(r'(<div class="teamName">[^<]*</div></a>)', r"\1</span>", text)
    # format lines split by <br> instead of newlines; a veto team linked
    text = resub(r'(preformatted-text">[^<]*)\n', r"\1<br/>", text)
    text = resub(r"<div>(1\. )([^<]+?)( removed )", r'<div>\1<a href="/team/1/x">\2</a>\3', text)
    text = text.replace("><", ">\n   <")
    text = resub(r'class="([^"]*)"', r'class=" live-extra  \1  "', text)
    page = parse_match(HtmlResponse(url=f"https://www.hltv.org/matches/{match_id}/x",
                                    body=text.encode(), encoding="utf-8"))
    assert_all(page, load_expected(f"match-{match_id}"))


def test_a_page_the_section_cannot_be_found_in_reads_the_same():
    # In UTF-16 no ASCII byte string matches: the whole page is read instead.
    page = load_page("match-2384993")
    text = page.text.replace('charset="utf-8"', "").replace("charset=utf-8", "")
    utf16 = HtmlResponse(url=page.url, body=text.encode("utf-16"),
                         headers={"Content-Type": "text/html; charset=utf-16"})
    assert asdict(parse_match(utf16)) == asdict(parsed(2384993))


# -- the GOTV demo ------------------------------------------------------------------

DEMO = '<div class="match-demo"><a class="demo-link" href="/download/demo/88201">'
DEMO_LINK = 'href="/download/demo/88201"'
REWATCH_VARIANTS = ["variant-rewatch2025-match-2389951", "variant-rewatch2022-match-2366498"]


def test_the_demo_id_of_each_fixture_page():
    assert {match_id: parsed(match_id).demo_id for match_id in MATCH_IDS} == {
        2366498: 89875, 2367432: 80698, 2371321: 80841, 2377467: 90827,
        2380434: None,  # a full forfeit: no demo
        2384993: 93602, 2389951: 88201,
    }


@pytest.mark.parametrize("name", REWATCH_VARIANTS)
def test_a_demo_linked_as_real_pages_link_it(name):
    response = load_page(name)
    assert "match-demo" not in response.text and "demo-link" not in response.text.replace(
        "data-demo-link", ""
    )  # only the real form is left to read
    truth = load_expected(name)
    page = parse_match(response)
    assert page.demo_id == truth["demo_id"] is not None
    assert_all(page, truth)


def test_the_variants_link_the_demo_in_the_real_forms():
    assert 'class="stream-box" data-demo-link="/download/demo/88201"' in load_page(
        REWATCH_VARIANTS[0]).text
    assert '<a href="https://www.hltv.org/download/demo/89875"' in load_page(
        REWATCH_VARIANTS[1]).text
    assert load_expected(REWATCH_VARIANTS[0])["derived_from"] == "expected-match-2389951.json"


def test_a_page_without_a_demo_link_has_no_demo_id():
    page = parse_match(mutated(2389951, (DEMO, '<div class="match-demo"><a class="demo-link">')))
    assert page.demo_id is None
    assert_maps(page, load_expected("match-2389951"))


@pytest.mark.parametrize("href", [
    "/download/demo/",  # no id
    "/download/replay/88201",
    "/download/88201",
    "https://example.com/download/demo/88201",  # not HLTV's
    "https://www.hltv.org/redirect?to=/download/demo/88201",
    "/download/demo/88201x",
    "/download/demo/88201/../9",
])
def test_other_download_links_are_not_the_demo(href):
    assert parse_match(mutated(2389951, (DEMO_LINK, f'href="{href}"'))).demo_id is None


def test_other_download_links_beside_the_demo_change_nothing():
    others = ('<a href="/download/hltv-app">app</a><a href="/download/demo/">x</a>'
              '<div data-stream-embed="https://cdn.example.com/download/demo/5"></div>')
    page = parse_match(mutated(2389951, (DEMO, others + DEMO)))
    assert page.demo_id == 88201


@pytest.mark.parametrize(("href", "demo_id"), [
    ("https://www.hltv.org/download/demo/88201", 88201),
    ("http://hltv.org/download/demo/88201/", 88201),
    ("//www.hltv.org/download/demo/88201", 88201),
    ("/download/demo/88201?dl=1", 88201),
    (" /download/demo/7 ", 7),
])
def test_a_demo_link_relative_or_absolute(href, demo_id):
    assert parse_match(mutated(2389951, (DEMO_LINK, f'href="{href}"'))).demo_id == demo_id


def test_the_same_demo_linked_twice_is_one_demo():
    twice = DEMO.replace('<a class="demo-link"', '<span data-demo-link="/download/demo/88201">'
                         '</span><a class="demo-link"')
    assert parse_match(mutated(2389951, (DEMO, twice))).demo_id == 88201


def test_two_different_demos_leave_the_demo_unknown_and_the_match_whole():
    other = '<div class="stream-box" data-demo-link="/download/demo/5"></div>' + DEMO
    page = parse_match(mutated(2389951, (DEMO, other)))
    assert page.demo_id is None
    assert [m.mapstatsid for m in page.maps] == [m["mapstatsid"] for m in load_expected("match-2389951")["maps"]]


def test_an_absurd_demo_id_is_a_parse_error():
    with pytest.raises(ParseError, match="demo link: not a number of at most 18 digits"):
        parse_match(mutated(2389951, (DEMO_LINK, f'href="/download/demo/{"8" * 30}"')))


def test_a_demo_link_outside_the_content_section_is_found():
    page = load_page("match-2389951")
    text = page.text.replace(DEMO_LINK, 'href="/somewhere"')
    at = text.index("</body>")
    text = text[:at] + '<footer><a href="/download/demo/88201">GOTV</a></footer>' + text[at:]
    assert parse_match(with_text(page, text)).demo_id == 88201


# -- half scores against the score ---------------------------------------------------

FIRST_HALVES = ('<span class="t">7</span><span class="">:</span><span class="ct">5</span><span>; '
                '</span><span class="ct">6</span><span class="">:</span><span class="t">6</span>')
FIRST_SCORES = ('"results-team-score">13<', '"results-team-score">11<')


def halves(team1: tuple[int, int], team2: tuple[int, int]) -> str:
    return (f'<span class="t">{team1[0]}</span><span class="">:</span><span class="ct">{team2[0]}'
            f'</span><span>; </span><span class="ct">{team1[1]}</span><span class="">:</span>'
            f'<span class="t">{team2[1]}</span>')


def test_half_scores_that_do_not_add_up_to_the_score_are_a_parse_error():
    response = mutated(2389951, (FIRST_HALVES, halves((7, 6), (5, 5))))
    with pytest.raises(ParseError, match=r"map 1 \(Mirage\): halves 13:10 and overtime 0:0 "
                                         r"do not add up to the score 13:11"):
        parse_match(response)


def test_overtime_groups_that_do_not_add_up_are_a_parse_error():
    with pytest.raises(ParseError, match=r"map 1 \(Mirage\): halves 12:12 and overtime 7:4"):
        parse_match(mutated(2384993, ('<span>7</span><span class="">:</span><span>5</span>',
                                      '<span>7</span><span class="">:</span><span>4</span>')))


def test_a_score_without_side_classes_is_checked_too():
    response = rewritten(2389951, r'<span class="(?:ct|t)">', "<span>")
    parse_match(response)  # as the page is, it adds up
    broken = with_text(response, response.text.replace(
        "<span>7</span><span class=\"\">:</span><span>5</span>",
        "<span>8</span><span class=\"\">:</span><span>5</span>", 1))
    with pytest.raises(ParseError, match=r"map 1 \(Mirage\): halves 14:11"):
        parse_match(broken)


def test_overtime_without_a_group_of_its_own_follows_a_tied_regulation():
    # 16-14 after 6:6 and 6:6, the overtime not shown on its own: it is 4:2.
    text = load_page("match-2389951").text
    for old, new in zip(FIRST_SCORES, ("16", "14")):  # map 1's scores, the first shown
        text = text.replace(old, old.replace(old[-3:-1], new), 1)
    scored = with_text(load_page("match-2389951"), text)
    page = parse_match(with_text(scored, text.replace(FIRST_HALVES, halves((6, 6), (6, 6)))))
    first = page.maps[0]
    assert (first.team1_rounds, first.team2_rounds) == (16, 14)
    assert (first.team1_ot_rounds, first.team2_ot_rounds) == (4, 2)
    assert (first.team1_ct_rounds, first.team1_t_rounds) == (6, 6)
    # after an untied regulation there is no overtime: the halves must hold the score
    with pytest.raises(ParseError, match=r"map 1 \(Mirage\): halves 13:11 and overtime 0:0 "
                                         r"do not add up to the score 16:14"):
        parse_match(scored)


@pytest.mark.parametrize("match_id", MATCH_IDS)
def test_every_fixture_map_s_halves_add_up(match_id):
    for played in parsed(match_id).maps:
        if played.team1_ct_rounds is None:
            assert played.is_forfeit or not played.played
            continue
        assert (played.team1_ct_rounds + played.team1_t_rounds + played.team1_ot_rounds
                == played.team1_rounds)
        assert (played.team2_ct_rounds + played.team2_t_rounds + played.team2_ot_rounds
                == played.team2_rounds)


# -- one parse per page ---------------------------------------------------------------


class _CountingSelector(_page.Selector):
    """The parsers' Selector, counting the documents it parses (not the sub-selectors)."""

    parsed = 0

    def __init__(self, text=None, *args, **kwargs):
        if text is not None:
            type(self).parsed += 1
        super().__init__(text, *args, **kwargs)


@pytest.fixture
def parses(monkeypatch):
    monkeypatch.setattr(_CountingSelector, "parsed", 0)
    monkeypatch.setattr(_page, "Selector", _CountingSelector)
    return lambda: _CountingSelector.parsed


WITHOUT_LINEUPS = r'<div class="lineups"(?s:.*?)<div class="matchstats"'


def test_a_page_without_lineups_is_parsed_once(parses):
    response = rewritten(2389951, WITHOUT_LINEUPS, '<div class="matchstats"')
    page = parse_match(response)
    assert page.lineups == [] and page.demo_id == 88201
    assert_maps(page, load_expected("match-2389951"))
    assert parses() == 1


@pytest.mark.parametrize("match_id", MATCH_IDS)
def test_every_fixture_page_is_parsed_once(parses, match_id):
    parse_match(load_page(f"match-{match_id}"))
    assert parses() == 1


def test_a_section_cut_short_before_the_lineups_reads_the_whole_page(parses):
    # an <aside> inside the content ends the section early: the lineups are past it
    response = mutated(2389951, ('<div class="lineups"', '<aside></aside><div class="lineups"'))
    page = parse_match(response)
    assert_lineups(page, load_expected("match-2389951"))
    assert parses() == 2  # the section, then the page
