"""The performance page: team overview, the three kill matrices and the ten player cards.

The page is read by class names and labels only (bars by their label, overview rows by
their name, matrix blocks by their id), because HLTV reorders and restyles freely.
Required, or :class:`ParseError` naming what is missing: two teams of five player cards,
each with a player id, a rating bar and a KPR bar, and three whole 5x5 kill matrices - a
partial page must never pass for a whole one. Optional, None where absent: the event
name, the overview table and each of its rows, the other bars.

A label this parser does not know, standing where a label it reads is missing, is an
error rather than a None: the page then shows the number under a new name.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from hltv_scraper.items import KillMatrixEntry, PerformancePage, PlayerPerformance, TeamOverview
from hltv_scraper.parsers.loaders import PlayerPerformanceLoader, TeamOverviewLoader, load, to_int
from hltv_scraper.parsers._page import (
    ParseError,
    chart_config,
    clean_text,
    content_selector,
    id_from_href,
    node_text,
)

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import TextResponse

# The player cards come last in the section: if they are inside it, so is the rest.
_ROOT_CSS = ".stats-match-performance .player-overview"
_PLAYERS_PER_TEAM = 5
_MATRICES = {"ALL-content": "all", "FIRST_KILL-content": "first_kill", "AWP-content": "awp"}
_MATRIX_BLOCKS = "descendant-or-self::*[{}]".format(" or ".join(f"@id='{i}'" for i in _MATRICES))
_OVERVIEW_ROWS = ("kills", "deaths", "assists")
# Bar label (lower case) -> PlayerPerformance field; the rating bar is matched apart.
_BARS = {
    "kpr": "kpr", "dpr": "dpr", "kast": "kast", "adr": "adr", "impact": "impact",
    "mk rating": "mk_rating", "swing": "round_swing",
}
# The bars a card of each rating version shows; a version the notes never saw (say 2.1)
# is expected to show at least the bars every card has.
_COMMON_BARS = ("kpr", "dpr", "kast", "adr")
_EXPECTED_BARS = {"2.0": (*_COMMON_BARS, "impact"), "3.0": (*_COMMON_BARS, "mk rating", "swing")}
# kpr is what the project counts as a map's performance being stored (a map whose
# players have none is pending): cards without it would store a map that still looks
# unfetched. The other bars are None where a card does not show them.
_REQUIRED_BARS = ("kpr",)
_RATING_BAR = re.compile(r"^rating\s+(\d+\.\d+)$")


def parse_performance(response: TextResponse) -> PerformancePage:
    try:
        root = content_selector(response, _ROOT_CSS)
    except ParseError:
        raise _error(f"no player cards ({_ROOT_CSS})") from None
    players = _players(root)
    versions = {player.rating_version for player in players}
    if len(versions) != 1:
        raise _error(f"player cards mix rating versions {sorted(versions)}")
    return PerformancePage(
        url=response.url,
        event_name=node_text(root.css(".stats-match-menu .menu-header")),
        rating_version=versions.pop(),
        teams=_overview(root),
        players=players,
        kill_matrix=_kill_matrices(root),
    )


def _error(message: str) -> ParseError:
    return ParseError(f"performance: {message}")



def _name(text: str | None) -> str | None:
    # The parser already decoded entities once; a name HLTV escaped twice
    # ("Smoke &amp;amp; Mirrors") must still come out as the team is called.
    return clean_text(html.unescape(text)) if text else None


# -- overview ----------------------------------------------------------------------


def _overview(root: Selector) -> list[TeamOverview]:
    """Both teams' totals, page order; none when the page has no overview table.

    Stored nowhere (the scoreboard holds the same counts), so every part is optional.
    """
    table = root.css("table.overview-table")
    if not table:
        return []
    names = [
        _name(table.css(f".{column} img.team-logo::attr(alt)").get())
        for column in ("team1-column", "team2-column")
    ]
    numbers: dict[str, tuple[str | None, str | None]] = {}
    unknown = []
    for row in table.css("tr"):
        label = (node_text(row.css(".name-column")) or "").lower()
        if label in _OVERVIEW_ROWS:
            numbers.setdefault(
                label, (node_text(row.css("td.team1-column")), node_text(row.css("td.team2-column")))
            )
        elif label:
            unknown.append(label)
    missing = [label for label in _OVERVIEW_ROWS if label not in numbers]
    if missing and unknown:
        raise _error(f"overview table has no {', '.join(missing)} row, "
                     f"but rows it does not know: {unknown}")
    return [
        load(
            TeamOverviewLoader, f"performance: overview of {name or f'team {side + 1}'}",
            team_name=name,
            **{label: numbers[label][side] for label in _OVERVIEW_ROWS if label in numbers},
        )
        for side, name in enumerate(names)
    ]


# -- player cards ------------------------------------------------------------------


def _players(root: Selector) -> list[PlayerPerformance]:
    columns = [col for col in root.css(".player-overview > .col") if col.css(".players-team-header")]
    if len(columns) != 2:
        raise _error(f"expected 2 team columns of player cards, found {len(columns)}")
    players = []
    for column in columns:
        team_name = _name(node_text(column.css(".players-team-header .label-and-text")))
        if not team_name:
            raise _error("a player column has no team name (.label-and-text)")
        cards = column.css(".highlighted-player")
        if len(cards) != _PLAYERS_PER_TEAM:
            raise _error(
                f"expected {_PLAYERS_PER_TEAM} player cards for {team_name!r}, "
                f"found {len(cards)}"
            )
        players.extend(_player(card, team_name) for card in cards)
    ids = [player.player_id for player in players]
    if len(set(ids)) != len(ids):
        raise _error(f"player ids are not distinct: {ids}")
    return players


def _player(card: Selector, team_name: str) -> PlayerPerformance:
    hrefs = card.css(".headline a::attr(href)").getall()
    player_id = next(filter(None, (id_from_href(href, "player") for href in hrefs)), None)
    if player_id is None:
        raise _error(f"a player card of {team_name!r} has no /player/{{id}} link")
    piece = f"player {player_id}"
    charts = card.css("[data-fusionchart-config]")
    if len(charts) != 1:
        raise _error(f"{piece}: expected 1 chart, found {len(charts)}")
    bars = _bars(chart_config(charts[0], f"performance: {piece}"), piece)
    rating_labels = [label for label in bars if _RATING_BAR.match(label)]
    if len(rating_labels) != 1:
        raise _error(f"{piece}: expected one 'Rating x.y' bar, found {rating_labels}")
    version = _RATING_BAR.match(rating_labels[0]).group(1)
    missing = [label for label in _EXPECTED_BARS.get(version, _COMMON_BARS) if label not in bars]
    unknown = [label for label in bars if label not in _BARS and label != rating_labels[0]]
    if any(label in missing for label in _REQUIRED_BARS) or (missing and unknown):
        also = f", but bars it does not know: {unknown}" if missing and unknown else ""
        raise _error(f"{piece}: Rating {version} card lacks bars {missing}{also}")
    return load(
        PlayerPerformanceLoader,
        f"performance: {piece}",
        player_id=player_id,
        player_name=node_text(card.css(".player-nick")),
        team_name=team_name,
        rating=bars[rating_labels[0]],
        rating_version=version,
        **{field: bars[label] for label, field in _BARS.items() if label in bars},
    )


def _bars(config: dict[str, Any], piece: str) -> dict[str, Any]:
    """Bar label (folded to lower case) -> its displayValue; ``value`` is only the bar height."""
    data = config["dataSource"].get("data")
    if not isinstance(data, list):
        raise _error(f"{piece}: chart has no list of bars")
    bars: dict[str, Any] = {}
    for bar in data:
        label = clean_text(str(bar.get("label", ""))) if isinstance(bar, dict) else None
        if not label:
            raise _error(f"{piece}: a chart bar has no label")
        if "displayValue" not in bar:
            raise _error(f"{piece}: bar {label!r} has no displayValue")
        if label.lower() in bars:
            raise _error(f"{piece}: bar {label!r} appears twice")
        bars[label.lower()] = bar["displayValue"]
    return bars


# -- kill matrices -----------------------------------------------------------------


def _kill_matrices(root: Selector) -> list[KillMatrixEntry]:
    blocks: dict[str, list[Selector]] = {block_id: [] for block_id in _MATRICES}
    for block in root.xpath(_MATRIX_BLOCKS):  # one pass over the section for all three
        blocks[block.attrib["id"]].append(block)
    entries = []
    for block_id, matrix_type in _MATRICES.items():
        if len(blocks[block_id]) != 1:
            raise _error(f"expected one #{block_id} kill matrix, found {len(blocks[block_id])}")
        entries.extend(_kill_matrix(blocks[block_id][0], matrix_type))
    return entries


def _kill_matrix(block: Selector, matrix_type: str) -> list[KillMatrixEntry]:
    piece = f"{matrix_type} kill matrix"
    hrefs = block.css("tr.killmatrix-topbar td.team1 a::attr(href)").getall()
    columns = [_stats_player(href) for href in hrefs]
    rows = [row for row in block.css("tr") if row.css("td.team2")]
    if len(columns) != _PLAYERS_PER_TEAM or len(rows) != _PLAYERS_PER_TEAM:
        raise _error(
            f"{piece}: expected {_PLAYERS_PER_TEAM}x{_PLAYERS_PER_TEAM} players, "
            f"found {len(rows)} rows x {len(columns)} columns"
        )
    row_ids = [_stats_player(row.css("td.team2 a::attr(href)").get()) for row in rows]
    players = set(columns) | set(row_ids)
    if None in players or len(players) != 2 * _PLAYERS_PER_TEAM:
        raise _error(f"{piece}: player links missing or repeated: rows {row_ids}, columns {columns}")
    entries = []
    for row_id, row in zip(row_ids, rows):
        # A row's scores are read in one query per side (75 cells add up); a cell
        # without its score, or with two, leaves a count that does not match.
        scores = [row.css(f"td .{side}-player-score ::text").getall() for side in ("team2", "team1")]
        if {len(scores[0]), len(scores[1])} != {len(columns)}:
            raise _error(
                f"{piece}: player {row_id}'s row has {len(scores[0])}:{len(scores[1])} scores "
                f"for {len(columns)} columns"
            )
        for column_id, player1_kills, player2_kills in zip(columns, *scores):
            entries.append(KillMatrixEntry(
                matrix_type, row_id, column_id,
                _kills(player1_kills, piece, "player1_kills", row_id, column_id),
                _kills(player2_kills, piece, "player2_kills", row_id, column_id),
            ))
    return entries


def _kills(text: str, piece: str, field: str, row_id: int, column_id: int) -> int:
    """A cell's count, by the loaders' own rule (``to_int``): 75 cells a page, too many
    for a loader each."""
    try:
        kills = to_int(text)
    except ValueError as exc:
        raise _error(f"{piece}: bad {field} {text!r} for {row_id} vs {column_id} ({exc})") from None
    if kills is None:
        raise _error(f"{piece}: no score for {row_id} vs {column_id}")
    return kills


def _stats_player(href: str | None) -> int | None:
    return id_from_href(href, "stats/players")
