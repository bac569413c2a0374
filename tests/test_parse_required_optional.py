"""What each page parser requires and what it does without, on both template generations.

A required piece removed raises :class:`ParseError` naming it. An optional piece removed
leaves exactly its own values None and changes nothing else. Pages are edited as trees
(lxml), cut to their content section first so an edit costs milliseconds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict

import lxml.html
import pytest
from scrapy.http import HtmlResponse

from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers._page import _content_section
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.parsers.performance import parse_performance
from tests.support.pages import load_page, with_charts

Edit = Callable[[lxml.html.HtmlElement], None]
# The same map in today's template and in 2022's.
TODAY, OLD = "mapstats-206389", "old-mapstats-206389"
PERFORMANCE = "performance-219128"
ECONOMY = "economy-206389"
PARSERS = {"mapstats": parse_mapstats, "performance": parse_performance, "economy": parse_economy}


def parser_of(name: str):
    return next(parse for kind, parse in PARSERS.items() if f"{kind}-" in name)


@functools.cache
def section(name: str) -> str:
    page = load_page(name)
    return _content_section(page) or page.text


def edited(name: str, *edits: Edit) -> HtmlResponse:
    root = lxml.html.document_fromstring(section(name))
    for edit in edits:
        edit(root)
    return HtmlResponse(url=load_page(name).url, body=lxml.html.tostring(root, encoding="utf-8"),
                        encoding="utf-8")


@functools.cache
def unedited(name: str) -> dict:
    return asdict(parser_of(name)(edited(name)))


def drop(css: str) -> Edit:
    def edit(root: lxml.html.HtmlElement) -> None:
        found = root.cssselect(css)
        assert found, css
        for element in found:
            element.drop_tree()
    return edit


def drop_info_row(label: str) -> Edit:
    def edit(root: lxml.html.HtmlElement) -> None:
        rows = [row for row in root.cssselect(".match-info-row")
                if row.cssselect(".bold")[0].text_content().startswith(label)]
        assert len(rows) == 1, label
        rows[0].drop_tree()
    return edit


def relabel_info_row(label: str, new: str) -> Edit:
    def edit(root: lxml.html.HtmlElement) -> None:
        labels = [bold for bold in root.cssselect(".match-info-row .bold")
                  if bold.text_content().startswith(label)]
        assert len(labels) == 1, label
        labels[0].text = new
    return edit


def set_attribute(css: str, name: str, value: str | None) -> Edit:
    def edit(root: lxml.html.HtmlElement) -> None:
        found = root.cssselect(css)
        assert found, css
        for element in found:
            if value is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, value)
    return edit


def set_text(css: str, text: str) -> Edit:
    def edit(root: lxml.html.HtmlElement) -> None:
        found = root.cssselect(css)
        assert found, css
        for element in found:
            for child in list(element):
                child.drop_tree()
            element.text = text
    return edit


def edit_bars(change: Callable[[list[dict]], list[dict]]) -> Edit:
    def edit(root: lxml.html.HtmlElement) -> None:
        charts = root.cssselect(".player-overview [data-fusionchart-config]")
        assert len(charts) == 10
        for chart in charts:
            config = json.loads(chart.get("data-fusionchart-config"))
            config["dataSource"]["data"] = change(config["dataSource"]["data"])
            chart.set("data-fusionchart-config", json.dumps(config))
    return edit


def without_bars(*labels: str) -> Edit:
    return edit_bars(lambda bars: [bar for bar in bars if bar["label"].lower() not in labels])


def assert_only_nulled(name: str, response: HtmlResponse, *, page=(), teams=(), players=()):
    """The parsed item is the unedited one with exactly these fields None."""
    got, want = asdict(parser_of(name)(response)), json.loads(json.dumps(unedited(name)))
    for field in page:
        assert want[field] is not None, field  # the edit must remove something
        want[field] = None
    for key, nulled in (("teams", teams), ("players", players)):
        for entry in want.get(key, []):
            for field in nulled:
                entry[field] = None
    assert got == want


def assert_parse_error(name: str, response: HtmlResponse, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parser_of(name)(response)


# -- map stats: optional ------------------------------------------------------------------


@pytest.mark.parametrize("name", [TODAY, OLD])
def test_mapstats_without_team_rating_first_kills_and_clutches_rows(name):
    response = edited(name, drop_info_row("Team rating"), drop_info_row("First kills"),
                      drop_info_row("Clutches won"))
    assert_only_nulled(name, response, teams=["team_rating", "first_kills", "clutches_won"])


@pytest.mark.parametrize("name", [TODAY, OLD])
def test_mapstats_without_an_event_link(name):
    response = edited(name, drop(".match-info-box a[href*='event=']"))
    assert_only_nulled(name, response, page=["event_id", "event_name"])


@pytest.mark.parametrize(
    ("name", "columns", "nulled"),
    [
        (TODAY, ".st-opkd", ["opening_kills", "opening_deaths", "fk_diff",
                             "e_opening_kills", "e_opening_deaths", "e_fk_diff"]),
        (TODAY, ".st-mks, .st-clutches, .st-roundSwing", ["multi_kills", "clutch_wins", "round_swing"]),
        (TODAY, ".st-kast", ["kast", "e_kast"]),
        (TODAY, ".st-assists", ["assists", "flash_assists"]),
        (TODAY, ".st-adr", ["adr", "e_adr"]),
        (TODAY, ".eco-adjusted-data", ["e_kills", "e_hs_kills", "e_deaths", "e_traded_deaths",
                                       "e_kd_diff", "e_adr", "e_kast", "e_opening_kills",
                                       "e_opening_deaths", "e_fk_diff"]),
        (OLD, ".st-kdratio", ["kast"]),
        (OLD, ".st-fkdiff", ["opening_kills", "opening_deaths", "fk_diff"]),
        (OLD, ".st-assists, .st-adr", ["assists", "flash_assists", "adr"]),
        (OLD, ".st-kddiff", []),  # kd_diff is kills - deaths all the same
    ],
)
def test_mapstats_without_optional_columns(name, columns, nulled):
    response = edited(name, drop(f"table.stats-table.totalstats :is({columns})"))
    assert_only_nulled(name, response, players=nulled)


def test_old_mapstats_fk_diff_without_its_title_keeps_the_difference_it_shows():
    response = edited(OLD, set_attribute("td.st-fkdiff", "title", None))
    assert_only_nulled(OLD, response, players=["opening_kills", "opening_deaths"])
    assert [p.fk_diff for p in parse_mapstats(response).players] == [
        p["fk_diff"] for p in unedited(OLD)["players"]
    ]


@pytest.mark.parametrize("name", [TODAY, OLD])
def test_mapstats_columns_in_another_order_change_nothing(name):
    def reverse_columns(root: lxml.html.HtmlElement) -> None:
        for row in root.cssselect("table.stats-table tr"):
            first, *rest = list(row)
            for cell in rest:
                row.remove(cell)
            for cell in reversed(rest):
                row.append(cell)

    assert_only_nulled(name, edited(name, reverse_columns))


@pytest.mark.parametrize(
    "header",
    [
        {"label": "%"},  # the title alone says KAST
        {"class": "st-something-else"},  # an unknown class, the label says KAST
        {"class": None, "label": "Kast"},  # no class at all
    ],
)
def test_kast_is_known_by_what_its_header_says(header):
    edits = []
    if "label" in header:
        edits.append(set_text("th.st-kdratio", header["label"]))
    if "class" in header:
        edits += [set_attribute(".st-kdratio", "class", header["class"])]
    assert_only_nulled(OLD, edited(OLD, *edits))


def test_a_kdratio_column_that_is_not_kast_is_not_read_as_kast():
    response = edited(OLD, set_text("th.st-kdratio", "K/D"),
                      set_attribute("th.st-kdratio", "title", "Kill-death ratio"))
    assert_only_nulled(OLD, response, players=["kast"])


# -- map stats: required ------------------------------------------------------------------


@pytest.mark.parametrize("name", [TODAY, OLD])
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (drop("table.totalstats .st-kills"), "'Paper Tigers' scoreboard has no kills column"),
        (drop("table.totalstats .st-deaths"), "scoreboard has no deaths column"),
        (drop("table.totalstats .st-rating"), "scoreboard has no rating column"),
        (drop_info_row("Breakdown"), "no score breakdown"),
        (drop(".round-history-con"), "round history gives 'Paper Tigers' 0 rounds"),
        (drop(".team-right a[href*='/stats/teams/']"), r"no /stats/teams/ link in \.team-right"),
        (drop(".team-left .bold"), "team-left lacks an id, a name or a score"),
        (drop("table.totalstats td.st-player a[href*='/9332/']"), "a 'Paper Tigers' scoreboard row has no player link"),
        (set_attribute("a[href*='/stats/players/9332/']", "href", "/stats/players/ryoko"), "'ryoko' has no player id"),
        (drop("table.totalstats"), r"no scoreboard \(table\.stats-table\.totalstats\)"),
        (drop(".match-info-box"), r"no \.match-info-box"),
    ],
)
def test_mapstats_without_a_required_piece(name, edit, message):
    assert_parse_error(name, edited(name, edit), message)


@pytest.mark.parametrize("name", [TODAY, OLD])
@pytest.mark.parametrize("column", ["st-kills", "st-deaths", "st-rating"])
def test_mapstats_required_value_shown_as_a_dash(name, column):
    def dash(root: lxml.html.HtmlElement) -> None:
        row = next(tr for tr in root.cssselect("table.totalstats tr") if tr.cssselect("a[href*='/9332/']"))
        cell = next(td for td in row.cssselect(f"td.{column}")
                    if "eco-adjusted-data" not in td.get("class"))
        for child in list(cell):
            child.drop_tree()
        cell.text = "-"

    assert_parse_error(name, edited(name, dash), f"'ryoko' shows no {column[3:]}")


@pytest.mark.parametrize("name", [TODAY, OLD])
def test_mapstats_row_short_of_a_cell(name):
    response = edited(name, drop("table.totalstats tr:nth-child(2) td.st-adr"))
    assert_parse_error(name, response, "cells under .* column headers")


@pytest.mark.parametrize("name", [TODAY, OLD])
def test_mapstats_row_whose_cells_slid_against_the_header(name):
    def swap(root: lxml.html.HtmlElement) -> None:
        row = root.cssselect("table.totalstats tbody tr")[0]
        kills, deaths = row.cssselect("td.st-kills")[0], row.cssselect("td.st-deaths")[0]
        kills.addprevious(deaths)  # deaths now sits under the kills header and so on

    assert_parse_error(name, edited(name, swap), "is not a st-(kills|assists|deaths) cell")


@pytest.mark.parametrize("name", [TODAY, OLD])
def test_mapstats_without_a_rating_version(name):
    # "Rating" in the column header, "Team rating" on the row: no version anywhere
    response = edited(name, drop("th.st-rating .ratingDesc"),
                      relabel_info_row("Team rating", "Team rating"))
    assert_parse_error(name, response, "no rating version")


# -- performance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "nulled"),
    [
        (drop(".stats-match-menu .menu-header"), {"page": ["event_name"]}),
        (drop("table.overview-table tr:nth-child(2)"), {"teams": ["kills"]}),
        (drop("table.overview-table img.team-logo"), {"teams": ["team_name"]}),
        (without_bars("dpr", "kast", "adr", "mk rating", "swing"),
         {"players": ["dpr", "kast", "adr", "mk_rating", "round_swing"]}),
        (edit_bars(lambda bars: bars[::-1]), {}),
    ],
)
def test_performance_without_optional_pieces(edit, nulled):
    assert_only_nulled(PERFORMANCE, edited(PERFORMANCE, edit), **nulled)


def test_performance_without_an_overview_table():
    page = parse_performance(edited(PERFORMANCE, drop("table.overview-table")))
    assert page.teams == []
    assert {**asdict(page), "teams": None} == {**unedited(PERFORMANCE), "teams": None}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (without_bars("kpr"), r"player 14094: Rating 3.0 card lacks bars \['kpr'\]"),
        (without_bars("rating 3.0"), r"expected one 'Rating x.y' bar"),
        (edit_bars(lambda bars: [{**bar, "label": "Deaths per round"} if bar["label"] == "DPR" else bar
                                 for bar in bars]),
         r"lacks bars \['dpr'\], but bars it does not know: \['deaths per round'\]"),
        (drop('[id="FIRST_KILL-content"]'), "FIRST_KILL-content"),
        (drop(".player-overview .headline a"), r"has no /player/\{id\} link"),
        (drop(".player-overview .players-team-header"), "expected 2 team columns"),
        (drop(".player-overview .highlighted-player:nth-child(3)"), "expected 5 player cards"),
        (set_attribute(".player-overview [data-fusionchart-config]", "data-fusionchart-config", "{"),
         "chart JSON is malformed"),
    ],
)
def test_performance_without_a_required_piece(edit, message):
    assert_parse_error(PERFORMANCE, edited(PERFORMANCE, edit), message)


# -- economy ---------------------------------------------------------------------------------


def test_economy_without_icon_tables_or_buy_type_counts():
    response = edited(ECONOMY, drop("table.equipment-categories"), drop(".team-economy-stat"))
    assert_only_nulled(ECONOMY, response)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (drop(".stats-match-economy [data-fusionchart-config]"), "no equipment chart"),
        (set_attribute("[data-fusionchart-config]", "data-fusionchart-config", '{"type": "msline"}'),
         "chart JSON has no dataSource"),
    ],
)
def test_economy_without_a_required_piece(edit, message):
    assert_parse_error(ECONOMY, edited(ECONOMY, edit), message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda source: source["dataset"].__setitem__(0, "Northwind"), "a dataset is not an object"),
        (lambda source: source.__setitem__("categories", ["1"]), "categories hold no list of rounds"),
        (lambda source: source["categories"][0].__setitem__("category", 24), "categories hold no list of rounds"),
    ],
)
def test_economy_chart_json_of_the_wrong_shape(change, message):
    # Found by fuzzing: these raised AttributeError or TypeError instead of ParseError.
    page = with_charts(ECONOMY, lambda config: change(config["dataSource"]), expected_charts=1)
    with pytest.raises(ParseError, match=message):
        parse_economy(page)


def test_economy_chart_settings_that_are_not_an_object():
    def change(config: dict) -> None:
        config.pop("type")
        config["dataSource"]["chart"] = "msline"

    page = with_charts(ECONOMY, change, expected_charts=1)
    with pytest.raises(ParseError, match="of type None"):
        parse_economy(page)
