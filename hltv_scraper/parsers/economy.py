"""The economy page: each team's round-start equipment value, side and result per round.

Everything comes from the page's one line chart (``msline``): its categories are the
rounds, its two datasets the teams. A win anchor on a point says which team won and on
which side; when a round carries no single readable anchor, the equipment-category
icons below the chart decide instead. Rounds absent from the chart (MR12 overtime) are
simply absent: HLTV does not publish them, so that is not an error. Nor are trailing
rounds the chart shows without a value for either team: slots of rounds never played.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from hltv_scraper.items import EconomyPage, EconomyRound
from hltv_scraper.parsers.loaders import EconomyRoundLoader, load
from hltv_scraper.parsers._page import ParseError, chart_config, clean_text, content_selector

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import TextResponse

# Only the chart is required; the icon tables below it are a fallback.
_ROOT_CSS = ".stats-match-economy [data-fusionchart-config]"
_CHART_TYPE = "msline"
# (lower bound, buy type), highest first: the chart's trendlines.
_BUY_TYPES = ((20000, "full_buy"), (10000, "semi_buy"), (5000, "semi_eco"), (0, "full_eco"))
_ANCHOR_SIDE = re.compile(r"(?:^|/)(ct|t)RoundWon\.\w+(?:$|\?)", re.I)
_ICON = re.compile(r"/equipmentcategories/(ct|t)[A-Za-z]*?(Win|Loss)\.svg", re.I)
_TITLE_VALUE = re.compile(r"(?<!\d)(\d{1,18})\s*$")
# Whole numbers as the chart writes them; at most 18 digits, so int() never refuses one.
_DIGITS = re.compile(r"[0-9]{1,18}")
_OTHER_SIDE = {"CT": "T", "T": "CT"}

_Outcome = tuple[str, bool]  # one team's (side, won) in one round
_Icon = tuple[_Outcome | None, int | None]  # an icon's outcome and the value it shows


def parse_economy(response: TextResponse) -> EconomyPage:
    try:
        root = content_selector(response, _ROOT_CSS)
    except ParseError:
        raise _error(f"no equipment chart ({_ROOT_CSS})") from None
    source = _chart(root)
    rounds = _round_numbers(source)
    datasets = _datasets(source, len(rounds))
    names = [name for name, _ in datasets]
    icons: dict[str, list[_Icon]] | None = None  # read only if a round needs them
    entries = []
    played = _played(datasets)
    if not played:
        raise _error("no round of the equipment chart has a value")
    for index, round_number in enumerate(rounds[:played]):
        points = [team_points[index] for _, team_points in datasets]
        values = [_equipment_value(point, name, round_number) for point, name in zip(points, names)]
        outcomes = _anchor_outcomes(points)
        if outcomes is None:
            icons = _icon_outcomes(root) if icons is None else icons
            outcomes = _icon_fallback(icons, names, index, values, round_number)
        for name, value, (side, won) in zip(names, values, outcomes):
            entries.append(_round(round_number, name, value, side, won))
    return EconomyPage(url=response.url, team_names=names, rounds=entries)


def _error(message: str) -> ParseError:
    return ParseError(f"economy: {message}")


def _name(text: Any) -> str | None:
    # A name in chart JSON inside an HTML attribute can arrive escaped twice
    # ("Smoke &amp;amp; Mirrors"); the team is called "Smoke & Mirrors" all the same.
    return clean_text(html.unescape(str(text))) if text else None


def _chart(root: Selector) -> dict[str, Any]:
    charts = [
        element
        for element in root.css(_ROOT_CSS)
        if _CHART_TYPE in element.attrib["data-fusionchart-config"].lower()
    ]
    if len(charts) != 1:
        raise _error(f"expected one {_CHART_TYPE} chart, found {len(charts)}")
    config = chart_config(charts[0], "economy: equipment chart")
    chart = config["dataSource"].get("chart")
    chart_type = config.get("type") or (chart.get("type") if isinstance(chart, dict) else None)
    if str(chart_type).lower() != _CHART_TYPE:
        raise _error(f"equipment chart is of type {chart_type!r}, not {_CHART_TYPE}")
    return config["dataSource"]


def _round_numbers(source: dict[str, Any]) -> list[int]:
    categories = source.get("categories")
    if not isinstance(categories, list) or len(categories) != 1:
        raise _error("equipment chart has no single list of categories (rounds)")
    rounds = categories[0].get("category") if isinstance(categories[0], dict) else None
    if not isinstance(rounds, list):
        raise _error("equipment chart categories hold no list of rounds")
    labels = [
        clean_text(str(category.get("label", ""))) if isinstance(category, dict) else None
        for category in rounds
    ]
    if not labels or not all(
        label and _DIGITS.fullmatch(label) and int(label) > 0 for label in labels
    ):
        raise _error(f"round labels are not round numbers: {labels}")
    numbers = [int(label) for label in labels]
    if len(set(numbers)) != len(numbers):
        raise _error(f"round numbers repeat: {numbers}")
    return numbers


def _datasets(source: dict[str, Any], rounds: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """[(team name, its points)] in page order, one point per round."""
    datasets = source.get("dataset")
    if not isinstance(datasets, list) or len(datasets) != 2:
        count = len(datasets) if isinstance(datasets, list) else 0
        raise _error(f"expected 2 datasets (teams), found {count}")
    teams = []
    for dataset in datasets:
        if not isinstance(dataset, dict):
            raise _error(f"a dataset is not an object: {dataset!r:.40}")
        name, points = _name(dataset.get("seriesname")), dataset.get("data")
        if not name:
            raise _error("a dataset has no seriesname (team name)")
        if not isinstance(points, list) or not all(isinstance(point, dict) for point in points):
            raise _error(f"dataset {name!r} has no list of data points")
        if len(points) != rounds:
            raise _error(f"dataset {name!r} has {len(points)} points for {rounds} rounds")
        teams.append((name, points))
    if teams[0][0] == teams[1][0]:
        raise _error(f"both datasets are named {teams[0][0]!r}")
    return teams


def _played(datasets: list[tuple[str, list[dict[str, Any]]]]) -> int:
    """How many of the chart's rounds were played: trailing rounds blank for both teams
    are slots of rounds never played (the chart holds the rounds, not a fixed number)."""
    played = min(len(points) for _, points in datasets)
    while played and all(_blank(points[played - 1]) for _, points in datasets):
        played -= 1
    return played


def _blank(point: dict[str, Any]) -> bool:
    value = point.get("value")
    return (value is None or (isinstance(value, str) and not value.strip())) and not point.get(
        "anchorImageUrl"
    )


def _equipment_value(point: dict[str, Any], name: str, round_number: int) -> int:
    value = point.get("value")
    # A string of digits as HLTV writes it; a bare JSON integer would do as well.
    text = str(value).strip() if type(value) in (str, int) else ""
    if not _DIGITS.fullmatch(text):
        raise _error(f"round {round_number}: equipment value of {name!r} is {value!r}")
    return int(text)


def _anchor_outcomes(points: list[dict[str, Any]]) -> list[_Outcome] | None:
    """Both teams' (side, won) from the win anchors; None unless exactly one readable one."""
    anchors = [point.get("anchorImageUrl") for point in points]
    winners = [index for index, anchor in enumerate(anchors) if anchor]
    if len(winners) != 1:
        return None
    match = _ANCHOR_SIDE.search(str(anchors[winners[0]]))
    if not match:
        return None
    side = match.group(1).upper()
    return [
        (side, True) if index == winners[0] else (_OTHER_SIDE[side], False)
        for index in range(len(points))
    ]


def _icon_outcomes(root: Selector) -> dict[str, list[_Icon]]:
    """Team name -> one icon per round, from the tables under the chart.

    The tables (one per half) list rounds in order; a team's rows are joined across them.
    """
    teams: dict[str, list[_Icon]] = {}
    for row in root.css("table.equipment-categories tr"):
        name = _name(row.css("img.team-logo::attr(alt), td.team img::attr(alt)").get())
        if not name:
            continue
        for cell in row.css("td.equipment-category-td"):
            icon = _ICON.search(cell.css("img::attr(src)").get() or "")
            shown = _TITLE_VALUE.search(cell.attrib.get("title", ""))
            teams.setdefault(name, []).append((
                (icon.group(1).upper(), icon.group(2).lower() == "win") if icon else None,
                int(shown.group(1)) if shown else None,
            ))
    return teams


def _icon_fallback(
    icons: dict[str, list[_Icon]],
    names: list[str],
    index: int,
    values: list[int],
    round_number: int,
) -> list[_Outcome]:
    outcomes = []
    for name, value in zip(names, values):
        cells = icons.get(name, [])
        outcome, shown = cells[index] if index < len(cells) else (None, None)
        if outcome is None:
            raise _error(
                f"round {round_number}: no single win anchor on the chart and no "
                f"equipment-category icon for {name!r}"
            )
        # The value an icon shows ties it to this round: a mismatch means the rows are off.
        if shown is not None and shown != value:
            raise _error(f"round {round_number}: the icon of {name!r} shows {shown}, the chart {value}")
        outcomes.append(outcome)
    (side1, won1), (side2, won2) = outcomes
    if side1 == side2 or won1 == won2:
        raise _error(f"round {round_number}: icons disagree on sides or winner: {outcomes}")
    return outcomes


def _round(round_number: int, name: str, value: int, side: str, won: bool) -> EconomyRound:
    buy_type = next(buy for floor, buy in _BUY_TYPES if value >= floor)
    return load(
        EconomyRoundLoader, f"economy: round {round_number} of {name!r}",
        round_number=round_number, team_name=name, equipment_value=value,
        buy_type=buy_type, side=side, won=won,
    )
