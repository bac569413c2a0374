"""The economy parser against every fixture map's truth file, entry by entry, and
against the ways a real page can differ from the fixtures or be broken."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict

import pytest
from scrapy.http import HtmlResponse

from hltv_scraper.items import EconomyPage
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.economy import parse_economy
from tests.support.pages import MAPSTATSIDS as ALL_MAPS
from tests.support.pages import load_expected, load_page, mutated, with_charts


@functools.cache
def parsed(mapstatsid: int) -> EconomyPage:
    """Each page parsed once: the tests below only read the result."""
    return parse_economy(load_page(f"economy-{mapstatsid}"))


def by_round_and_team(page: EconomyPage) -> dict[tuple[int, str], tuple]:
    return {
        (entry.round_number, entry.team_name): (
            entry.equipment_value, entry.buy_type, entry.side, entry.won
        )
        for entry in page.rounds
    }


def with_chart(name: str, change: Callable[[dict], None]) -> HtmlResponse:
    """The economy page whose chart's dataSource went through ``change``."""
    return with_charts(name, lambda config: change(config["dataSource"]), expected_charts=1)


def without_anchors(source: dict) -> None:
    for dataset in source["dataset"]:
        for point in dataset["data"]:
            point.pop("anchorImageUrl", None)


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_page_fields(mapstatsid):
    page, truth = parsed(mapstatsid), load_expected(mapstatsid)
    assert page.unit_id is None  # the spider sets it
    assert page.url == f"https://www.hltv.org/stats/matches/economy/mapstatsid/{mapstatsid}/x"
    assert page.team_names == [team["team_name"] for team in truth["teams"]]


@pytest.mark.parametrize("mapstatsid", ALL_MAPS)
def test_rounds_match_truth(mapstatsid):
    page, truth = parsed(mapstatsid), load_expected(mapstatsid)
    expected = {
        (entry["round_number"], entry["team_name"]): (
            entry["equipment_value"], entry["buy_type"], entry["side"], entry["won"]
        )
        for entry in truth["economy"]
    }
    assert len(page.rounds) == len(expected) == 2 * truth["economy_round_count"]
    assert by_round_and_team(page) == expected
    assert len({entry.round_number for entry in page.rounds}) == truth["economy_round_count"]


def test_fixtures_exercise_the_special_cases():
    # MR15 holds all 30 rounds; MR12 overtime (19-17) publishes the 24 regulation rounds.
    assert max(entry.round_number for entry in parsed(162345).rounds) == 30
    assert load_expected(206389)["total_rounds"] == 36
    assert max(entry.round_number for entry in parsed(206389).rounds) == 24
    assert parsed(173424).team_names[0] == "Smoke & Mirrors"
    assert {entry.buy_type for entry in parsed(219128).rounds} == {
        "full_eco", "semi_eco", "semi_buy", "full_buy"
    }


@pytest.mark.parametrize("mapstatsid", [219128, 164779])
def test_whole_page_fallback_gives_the_same_item(mapstatsid):
    name = f"economy-{mapstatsid}"
    whole_page = parse_economy(mutated(name, ("contentCol", "content-column")))
    assert asdict(whole_page) == asdict(parsed(mapstatsid))


@pytest.mark.parametrize("mapstatsid", [219128, 162345, 206389])
def test_icons_decide_rounds_without_a_win_anchor(mapstatsid):
    page = parse_economy(with_chart(f"economy-{mapstatsid}", without_anchors))
    assert by_round_and_team(page) == by_round_and_team(parsed(mapstatsid))


def test_icons_decide_a_round_where_both_teams_carry_an_anchor():
    anchor = "https://www.hltv.org/img/static/economy/tRoundWon.png"

    def both_won_round_1(source: dict) -> None:
        for dataset in source["dataset"]:
            dataset["data"][0]["anchorImageUrl"] = anchor

    page = parse_economy(with_chart("economy-219128", both_won_round_1))
    assert by_round_and_team(page) == by_round_and_team(parsed(219128))
    # Truth for round 1: Northwind lost on T, Blue Harbor won on CT.
    assert by_round_and_team(page)[(1, "Blue Harbor")][2:] == ("CT", True)


def test_round_without_anchor_or_icons_is_a_parse_error():
    page = with_chart("economy-219128", without_anchors)
    text = page.text.replace("equipment-categories", "other-table")
    broken = HtmlResponse(url=page.url, body=text.encode("utf-8"), encoding="utf-8")
    with pytest.raises(ParseError, match="round 1: no single win anchor"):
        parse_economy(broken)


def test_icon_showing_another_value_is_a_parse_error():
    page = with_chart("economy-219128", without_anchors)
    text = page.text.replace('title="Equipment value: 4050"', 'title="Equipment value: 9999"')
    broken = HtmlResponse(url=page.url, body=text.encode("utf-8"), encoding="utf-8")
    with pytest.raises(ParseError, match="round 1: the icon of 'Northwind' shows 9999"):
        parse_economy(broken)


def test_buy_type_boundaries():
    values = ["0", "4999", "5000", "9999", "10000", "19999", "20000", "31000"]

    def set_values(source: dict) -> None:
        for point, value in zip(source["dataset"][0]["data"], values):
            point["value"] = value

    page = parse_economy(with_chart("economy-219128", set_values))
    got = [by_round_and_team(page)[(number, "Northwind")][:2] for number in range(1, 9)]
    assert got == [
        (0, "full_eco"), (4999, "full_eco"), (5000, "semi_eco"), (9999, "semi_eco"),
        (10000, "semi_buy"), (19999, "semi_buy"), (20000, "full_buy"), (31000, "full_buy"),
    ]


def test_double_escaped_team_name_is_decoded():
    page = parse_economy(
        mutated("economy-173424", ("Smoke &amp; Mirrors", "Smoke &amp;amp; Mirrors"))
    )
    assert page.team_names[0] == "Smoke & Mirrors"
    assert {entry.team_name for entry in page.rounds} == {"Smoke & Mirrors", "Copperhead"}


@pytest.mark.parametrize(
    "name",
    [
        "special-economy-malformed-truncated-economy-219128",
        "special-cf-access-denied-economy-188093",
        "performance-219128",
    ],
)
def test_pages_that_are_not_whole_raise_parse_error(name):
    with pytest.raises(ParseError):
        parse_economy(load_page(name))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda source: source["dataset"].append(source["dataset"][0]), "expected 2 datasets"),
        (lambda source: source["dataset"].pop(), "expected 2 datasets"),
        (lambda source: source["dataset"][1]["data"].pop(), "'Blue Harbor' has 23 points for 24"),
        (lambda source: source["categories"][0]["category"].pop(), "has 24 points for 23"),
        (lambda source: source["dataset"][0]["data"][2].update(value="3,750"), "round 3"),
        (lambda source: source["dataset"][0]["data"][2].update(value="-"), "round 3"),
        (lambda source: source["dataset"][0]["data"][2].pop("value"), "round 3"),
        (lambda source: source["categories"][0]["category"][0].update(label="R1"), "round labels"),
        (lambda source: source["dataset"][1].update(seriesname="Northwind"), "both datasets"),
        (lambda source: source["dataset"][1].pop("seriesname"), "no seriesname"),
    ],
)
def test_bad_charts_are_named(change, message):
    with pytest.raises(ParseError, match=message):
        parse_economy(with_chart("economy-219128", change))


def padded(source: dict, rounds: int, blank: Callable[[], dict]) -> None:
    """The chart with slots up to ``rounds``, each blank for both teams."""
    categories = source["categories"][0]["category"]
    for number in range(len(categories) + 1, rounds + 1):
        categories.append({"label": str(number)})
        for dataset in source["dataset"]:
            dataset["data"].append(blank())


@pytest.mark.parametrize("blank", [dict, lambda: {"value": ""}, lambda: {"value": None}])
def test_trailing_rounds_blank_for_both_teams_are_rounds_not_played(blank):
    # 188093 ended after 17 rounds; a chart with slots for 30 rounds says the same.
    page = parse_economy(with_chart("economy-188093", lambda source: padded(source, 30, blank)))
    assert by_round_and_team(page) == by_round_and_team(parsed(188093))
    assert max(entry.round_number for entry in page.rounds) == 17


def test_a_blank_round_before_the_last_played_is_a_parse_error():
    def gap(source: dict) -> None:
        padded(source, 30, dict)
        for dataset in source["dataset"]:
            dataset["data"][4] = {}

    with pytest.raises(ParseError, match="round 5: equipment value"):
        parse_economy(with_chart("economy-188093", gap))


def test_a_chart_without_any_value_is_a_parse_error():
    def blank(source: dict) -> None:
        for dataset in source["dataset"]:
            dataset["data"] = [{} for _ in dataset["data"]]

    with pytest.raises(ParseError, match="no round of the equipment chart has a value"):
        parse_economy(with_chart("economy-188093", blank))
