"""The map stats (overview) page: match details, both teams, the scoreboard, round history.

This page is the upstream source of a map: its scoreboard and round history decide which
players and rounds exist. What a map cannot be stored without is required - two teams
with the score and its halves, ten players with ids, kills, deaths and rating, the round
history - and its absence raises :class:`ParseError` naming it. The rest is read where
the page has it and is None where it does not, because HLTV restyles the page every few
years while keeping the numbers: the scoreboard is read by its header (which columns
this page has, under which class or title), the match info rows wherever they sit in
their container.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from hltv_scraper.items import MapStatsPage, MapTeam, RoundOutcome, ScoreboardRow
from hltv_scraper.parsers.loaders import MapTeamLoader, RoundOutcomeLoader, ScoreboardRowLoader, load
from hltv_scraper.parsers._page import ParseError, clean_text, content_selector, id_from_href, node_text

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import TextResponse

# The scoreboard comes last in the content section: if it is inside, so is the rest.
_SCOREBOARD_CSS = "table.stats-table.totalstats"
_PLAYERS_PER_TEAM = 5
_EVENT_ID = re.compile(r"[?&]event=(\d{1,18})(?!\d)|/events/(\d{1,18})(?:/|$)")
_UNIX_MS = re.compile(r"[0-9]{1,18}")
_VERSION = re.compile(r"\d+\.\d+")
_RATING_VERSION = re.compile(r"rating\s*(\d+\.\d+)", re.I)
# "29(16)", "25 (19)", "null(null)", "-": a value with an optional bracketed second value.
_WITH_BRACKET = re.compile(r"^([^()]*?)\s*(?:\(\s*([^()]*?)\s*\))?$")
_COLON_PAIR = re.compile(r"^(\S*)\s*:\s*(\S*)$")
# Scoreboard header class -> the column it is. A page has only some of them: 2022 pages
# have K-D Diff and FK Diff columns instead of Op.K-D, MKs and 1vsX. K-D Diff is not
# read: kills and deaths are required, and kd_diff is their difference on every page.
_COLUMNS = {
    "st-kills": "kills",  # "18(6)": kills (headshots)
    "st-assists": "assists",  # "5(0)": assists (flash assists)
    "st-deaths": "deaths",  # "15(2)": deaths (traded), or "10"
    "st-opkd": "opening",  # "2 : 5": opening kills : opening deaths
    "st-fkdiff": "fk_diff",  # "+2", its title "3 first kills, 1 first deaths in a round"
    "st-kast": "kast",
    "st-mks": "multi_kills",
    "st-clutches": "clutch_wins",
    "st-adr": "adr",
    "st-roundSwing": "round_swing",
    "st-rating": "rating",
}
_REQUIRED_COLUMNS = ("kills", "deaths", "rating")
# KAST is known by what its header says, whatever the class (2022 pages: st-kdratio).
_KAST_TITLE = re.compile(r"\bkill, assist, survived\b", re.I)
_FIRST_KILLS_TITLE = re.compile(r"(\d+)\s*first\s+kills?\D*?(\d+)\s*first\s+deaths?", re.I)
_LOST_ROUND = "emptyHistory"
_OUTCOMES = {
    "ct_win": ("CT", "elimination"),
    "t_win": ("T", "elimination"),
    "bomb_exploded": ("T", "bomb_exploded"),
    "bomb_defused": ("CT", "bomb_defused"),
    "stopwatch": ("CT", "time"),
}


def parse_mapstats(response: TextResponse) -> MapStatsPage:
    try:
        root = content_selector(response, _SCOREBOARD_CSS)
    except ParseError:
        raise ParseError(f"map stats: no scoreboard ({_SCOREBOARD_CSS})") from None
    if not root.css(".match-info-box"):
        raise ParseError("map stats: no .match-info-box")
    box = root.css(".match-info-box")[0]
    info = _info_container(box)
    rows: dict[str, Selector] = {}
    for row in info.css(".match-info-row"):
        label, right = node_text(row.css(".bold")), row.css(".right")
        if label and right:
            rows.setdefault(label.lower(), right[0])
    teams = _teams(box, info, rows)
    scoreboards = _scoreboards(root, teams)
    rating_version = _rating_version(scoreboards[0], rows)
    # The event is the match's, which the match page gives too: not required here.
    event = next((a for a in box.css("a[href]") if _EVENT_ID.search(a.attrib["href"])), None)
    match = _EVENT_ID.search(event.attrib["href"]) if event is not None else None
    unix = clean_text(box.css("[data-unix]::attr(data-unix)").get())
    return MapStatsPage(
        url=response.url,
        map_name=_map_name(box),
        event_id=int(match.group(1) or match.group(2)) if match else None,
        event_name=node_text(event) if event is not None else None,
        date_unix_ms=int(unix) if unix and _UNIX_MS.fullmatch(unix) else None,
        rating_version=rating_version,
        teams=teams,
        players=_players(scoreboards, rating_version),
        rounds=_round_history(root, teams),
    )



def _classes(node: Selector) -> set[str]:
    return set(node.attrib.get("class", "").split())


def _info_container(box: Selector) -> Selector:
    """Where the match info rows are: ``.match-info-box-con``, or the box without one.

    Today the rows sit inside ``.match-info-box``; on 2022 pages they follow it inside
    the container. Searching the container finds them either way.
    """
    container = box.xpath(
        "ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' match-info-box-con ')][1]"
    )
    return container[0] if container else box


def _map_name(box: Selector) -> str:
    # The only text sitting directly in the box, between the date and the teams.
    for text in box.xpath("text()").getall():
        if name := clean_text(text):
            return name
    raise ParseError("map stats: no map name in .match-info-box")


def _row(rows: dict[str, Selector], label: str) -> Selector | None:
    return next((right for name, right in rows.items() if name.startswith(label)), None)


def _pair(rows: dict[str, Selector], label: str) -> list[str | None]:
    """Left and right values of a "1.06 : 0.94" row; None for both when it is absent."""
    right = _row(rows, label)
    if right is None:
        return [None, None]
    parts = (node_text(right) or "").split(":")
    if len(parts) != 2:
        raise ParseError(f"map stats: {label!r} row is not 'left : right': {node_text(right)!r}")
    return parts


def _breakdown(info: Selector) -> list[list[tuple[int, str | None]]]:
    """The bracketed groups after the score: [[(rounds, side) of left, of right], ...].

    The first two are the regulation halves, with each team's side in the span colour;
    any more are overtime.
    """
    # The breakdown is the row with side-coloured numbers, whatever its label.
    coloured = (r for r in info.css(".match-info-row .right") if r.css(".ct-color, .t-color"))
    right = next(coloured, None)
    if right is None:
        raise ParseError(
            "map stats: no score breakdown (.ct-color/.t-color) in .match-info-box-con"
        )
    groups: list[list[tuple[int, str | None]]] = []
    current: list[tuple[int, str | None]] | None = None
    for node in right.xpath("node()"):
        if isinstance(node.root, str):
            tokens, side = re.findall(r"[()]|\d+", node.root), None
        else:
            classes = _classes(node)
            side = "CT" if "ct-color" in classes else "T" if "t-color" in classes else None
            tokens = re.findall(r"\d+", node_text(node) or "")
        for token in tokens:
            if token == "(":
                current = []
            elif token == ")" and current is not None:
                groups.append(current)
                current = None
            elif current is not None:
                if len(token) > 4:  # no team wins 10,000 rounds (nor can int() read 5,000 digits)
                    raise ParseError(f"map stats: {token[:20]}... rounds in the breakdown")
                current.append((int(token), side))
    halves = groups[:2]
    if (len(halves) != 2 or any(len(group) != 2 for group in groups)
            or any(side is None for half in halves for _, side in half)):
        raise ParseError(f"map stats: no two halves with sides in the breakdown {node_text(right)!r}")
    return groups


def _teams(box: Selector, info: Selector, rows: dict[str, Selector]) -> list[MapTeam]:
    groups = _breakdown(info)
    halves, overtime = groups[:2], groups[2:]
    ratings, first_kills = _pair(rows, "team rating"), _pair(rows, "first kills")
    clutches = _pair(rows, "clutches won")
    teams = []
    for index, css in enumerate((".team-left", ".team-right")):
        link = box.css(f"{css} a[href*='/stats/teams/']")
        if not link:
            raise ParseError(f"map stats: no /stats/teams/ link in {css}")
        own = [half[index] for half in halves]
        team = load(
            MapTeamLoader, f"map stats: {css[1:]}",
            team_id=id_from_href(link[0].attrib["href"], "stats/teams"),
            team_name=node_text(link[0]),
            score=box.css(f"{css} .bold::text").get(),
            starting_side=own[0][1],
            ct_rounds=sum(rounds for rounds, side in own if side == "CT"),
            t_rounds=sum(rounds for rounds, side in own if side == "T"),
            team_rating=ratings[index],
            first_kills=first_kills[index],
            clutches_won=clutches[index],
        )
        if team.team_id is None or team.team_name is None or team.score is None:
            raise ParseError(f"map stats: {css[1:]} lacks an id, a name or a score")
        regulation = team.ct_rounds + team.t_rounds
        # Overtime gets its own group only for long overtime; otherwise the rounds
        # beyond the halves are overtime (often none).
        team.ot_rounds = (
            sum(group[index][0] for group in overtime) if overtime else team.score - regulation
        )
        if team.ot_rounds < 0 or regulation + team.ot_rounds != team.score:
            raise ParseError(
                f"map stats: {team.team_name!r}: halves {regulation} and overtime "
                f"{team.ot_rounds} do not add up to the score {team.score}"
            )
        teams.append(team)
    if teams[0].team_id == teams[1].team_id:
        raise ParseError("map stats: both teams have the same id")
    return teams


def _rating_version(board: _Scoreboard, rows: dict[str, Selector]) -> str:
    """The version in the rating column's header ("Rating3.0") or the team rating row."""
    sources: list[str | None] = []
    if (column := board.columns.get(("rating", False))) is not None:
        header = board.header[column[0]]
        if (desc := _VERSION.search(header.css(".ratingDesc::text").get() or "")) is not None:
            return desc.group(0)
        sources += [clean_text(header.xpath("string()").get()), header.attrib.get("title")]
    sources += [name for name in rows if name.startswith("team rating")]
    for source in sources:
        if source and (match := _RATING_VERSION.search(source)):
            return match.group(1)
    raise ParseError("map stats: no rating version (rating column header or 'Team rating X' row)")


# -- scoreboard --------------------------------------------------------------------

# (column, eco-adjusted?) -> (its position in the row, the st- class its cells carry)
_Columns = dict[tuple[str, bool], tuple[int, str | None]]


class _Scoreboard(NamedTuple):
    team: MapTeam
    header: list[Selector]
    columns: _Columns
    rows: list[Selector]


def _scoreboards(root: Selector, teams: list[MapTeam]) -> list[_Scoreboard]:
    tables = root.css(_SCOREBOARD_CSS)
    if len(tables) != 2:
        # A known live defect renders one team's scoreboard only: the map is not whole.
        raise ParseError(f"map stats: {len(tables)} team scoreboard(s) on the page, expected 2")
    boards = []
    for index, table in enumerate(tables):
        name = node_text(table.css("th.st-teamname"))
        team = next((t for t in teams if name and t.team_name.casefold() == name.casefold()),
                    None if name else teams[index])
        if team is None:
            raise ParseError(f"map stats: scoreboard {index + 1} is for {name!r}, not a page team")
        header = table.xpath("(.//tr[th])[1]/th")
        columns = _columns(header)
        missing = [name for name in _REQUIRED_COLUMNS if (name, False) not in columns]
        if missing:
            raise ParseError(f"map stats: {team.team_name!r} scoreboard has no "
                             f"{', '.join(missing)} column")
        rows = [row for row in table.css("tr") if row.css("td.st-player")]
        if len(rows) != _PLAYERS_PER_TEAM:
            raise ParseError(f"map stats: {team.team_name!r} scoreboard has {len(rows)} players, "
                             f"expected {_PLAYERS_PER_TEAM}")
        boards.append(_Scoreboard(team, header, columns, rows))
    return boards


def _players(boards: list[_Scoreboard], rating_version: str) -> list[ScoreboardRow]:
    players = [_player(row, board, rating_version) for board in boards for row in board.rows]
    if len({player.player_id for player in players}) != 2 * _PLAYERS_PER_TEAM:
        raise ParseError("map stats: the scoreboards do not hold 10 distinct players")
    return players


def _columns(header: list[Selector]) -> _Columns:
    """What each header cell is, from its class, or from its label and title.

    A column this page does not have is simply absent (its values stay None). KAST is
    repeated with ``smartphone-only`` for narrow screens: the wide copy wins.
    """
    wide: _Columns = {}
    narrow: _Columns = {}
    for index, th in enumerate(header):
        classes = th.attrib.get("class", "").split()
        css = next((name for name in classes if name in _COLUMNS), None)
        if css is not None:
            column = _COLUMNS[css]
        else:
            label = clean_text(th.xpath("string()").get()) or ""
            if label.casefold() != "kast" and not _KAST_TITLE.search(th.attrib.get("title", "")):
                continue  # a column we do not read
            column = "kast"
            css = next((name for name in classes if name.startswith("st-")), None)
        into = narrow if "smartphone-only" in classes else wide
        into.setdefault((column, "eco-adjusted-data" in classes), (index, css))
    return {**narrow, **wide}


def _split(text: str | None, pattern: re.Pattern[str], piece: str) -> tuple[str | None, ...]:
    if text is None:
        return None, None
    match = pattern.match(text)
    if not match:
        raise ParseError(f"map stats: {piece}: unexpected cell {text!r}")
    return match.groups()


def _player(row: Selector, board: _Scoreboard, rating_version: str) -> ScoreboardRow:
    team = board.team
    link = row.css("td.st-player a[href*='/stats/players/']")
    if not link:
        raise ParseError(f"map stats: a {team.team_name!r} scoreboard row has no player link")
    piece = f"scoreboard row {node_text(link[0])!r}"
    cells = row.xpath("td")
    if len(cells) != len(board.header):
        raise ParseError(f"map stats: {piece} has {len(cells)} cells under "
                         f"{len(board.header)} column headers")

    def cell(column: str, eco: bool = False) -> Selector | None:
        found = board.columns.get((column, eco))
        if found is None:
            return None
        index, css = found
        # A row whose cells slid against the header would put numbers under wrong names.
        if css is not None and css not in _classes(cells[index]):
            raise ParseError(f"map stats: {piece}: cell {index + 1} is not a {css} cell")
        return cells[index]

    def text(column: str, eco: bool = False) -> str | None:
        found = cell(column, eco)
        return None if found is None else clean_text(found.xpath("string()").get())

    values: dict[str, str | None] = {}
    for prefix, eco in (("", False), ("e_", True)):
        kills = _split(text("kills", eco), _WITH_BRACKET, piece)
        deaths = _split(text("deaths", eco), _WITH_BRACKET, piece)
        opening = _split(text("opening", eco), _COLON_PAIR, piece)
        values.update({
            f"{prefix}kills": kills[0], f"{prefix}hs_kills": kills[1],
            f"{prefix}deaths": deaths[0], f"{prefix}traded_deaths": deaths[1],
            f"{prefix}opening_kills": opening[0], f"{prefix}opening_deaths": opening[1],
            f"{prefix}adr": text("adr", eco),
            f"{prefix}kast": text("kast", eco),
        })
    fk_cell = cell("fk_diff")
    if fk_cell is not None and values["opening_kills"] is None and values["opening_deaths"] is None:
        # 2022 pages show first kills and deaths only in the FK Diff cell's title.
        title = fk_cell.attrib.get("title") or fk_cell.xpath(".//@title").get() or ""
        if shown := _FIRST_KILLS_TITLE.search(title):
            values["opening_kills"], values["opening_deaths"] = shown.groups()
    assists = _split(text("assists"), _WITH_BRACKET, piece)
    player = load(
        ScoreboardRowLoader, f"map stats: {piece}",
        player_id=id_from_href(link[0].attrib["href"], "stats/players"),
        player_name=node_text(link[0]),
        team_id=team.team_id,
        assists=assists[0],
        flash_assists=assists[1],
        multi_kills=text("multi_kills"),
        clutch_wins=text("clutch_wins"),
        round_swing=text("round_swing"),
        rating=text("rating"),
        rating_version=rating_version,
        fk_diff=None if fk_cell is None else clean_text(fk_cell.xpath("string()").get()),
        **values,
    )
    if player.player_id is None:
        raise ParseError(f"map stats: {piece} has no player id")
    if missing := [name for name in _REQUIRED_COLUMNS if getattr(player, name) is None]:
        raise ParseError(f"map stats: {piece} shows no {', '.join(missing)}")
    player.kd_diff = player.kills - player.deaths
    # Computed where the page shows both parts; a page showing only the difference
    # (FK Diff without a readable title) keeps the difference it shows.
    if player.opening_kills is not None and player.opening_deaths is not None:
        player.fk_diff = player.opening_kills - player.opening_deaths
    player.e_kd_diff = _difference(player.e_kills, player.e_deaths)
    player.e_fk_diff = _difference(player.e_opening_kills, player.e_opening_deaths)
    return player


def _difference(first: int | None, second: int | None) -> int | None:
    return None if first is None or second is None else first - second


def _round_history(root: Selector, teams: list[MapTeam]) -> list[RoundOutcome]:
    """One outcome per round played, numbered across containers.

    Pages of the MR15 years give each team row a slot for every regulation round, and
    the slots after the map's last round are empty for both teams: rounds not played,
    dropped. An empty slot before the last round played is no round: an error.
    """
    by_name = {team.team_name.casefold(): team for team in teams}
    slots: list[tuple[tuple[MapTeam, MapTeam], tuple[str, str]]] = []
    # Long overtime adds a second container: its rounds continue the numbering.
    for container in root.css(".round-history-con"):
        rows = []
        for row in container.css(".round-history-team-row"):
            logo = row.css("img.round-history-team")
            name = clean_text(logo.attrib.get("title") or logo.attrib.get("alt")) if logo else None
            if name is None or name.casefold() not in by_name:
                raise ParseError(f"map stats: round history row for unknown team {name!r}")
            icons = row.css("img.round-history-outcome::attr(src)").getall()
            rows.append((by_name[name.casefold()], [_icon(src) for src in icons]))
        if len(rows) != 2 or rows[0][0] is rows[1][0] or len(rows[0][1]) != len(rows[1][1]):
            raise ParseError("map stats: a round history block is not two rows of one length")
        slots.extend(((rows[0][0], rows[1][0]), icons) for icons in zip(rows[0][1], rows[1][1]))
    while slots and all(icon == _LOST_ROUND for icon in slots[-1][1]):
        slots.pop()  # after the last round played
    rounds: list[RoundOutcome] = []
    for number, (row_teams, icons) in enumerate(slots, 1):
        winners = [(team, icon) for team, icon in zip(row_teams, icons) if icon != _LOST_ROUND]
        if not winners:
            raise ParseError(f"map stats: round {number} has no outcome (both slots "
                             f"{_LOST_ROUND}), yet round {len(slots)} was played")
        if len(winners) != 1 or winners[0][1] not in _OUTCOMES:
            raise ParseError(f"map stats: round {number} has outcome icons {list(icons)}")
        team, icon = winners[0]
        side, win_type = _OUTCOMES[icon]
        rounds.append(load(
            RoundOutcomeLoader, f"map stats: round {number}", round_number=number,
            winner_side=side, win_type=win_type, winner_team_id=team.team_id,
        ))
    for team in teams:
        won = sum(1 for outcome in rounds if outcome.winner_team_id == team.team_id)
        if won != team.score:
            raise ParseError(f"map stats: the round history gives {team.team_name!r} {won} "
                             f"rounds, the score {team.score}")
    return rounds


def _icon(src: str) -> str:
    """``/img/static/scoreboard/t_win.svg?v=2`` -> ``t_win``."""
    return src.rsplit("/", 1)[-1].split("?", 1)[0].rsplit(".", 1)[0]
