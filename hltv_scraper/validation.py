"""Validation: whether a unit's parsed pages may be stored, as pure functions.

Each page can parse cleanly and still be wrong for the database: HLTV served another
map's page, a restyle moved numbers to where another number used to be, or the pages
contradict what an earlier stage stored. These checks decide that; they read nothing
and write nothing themselves. Storage calls a stage's check inside the unit's write
transaction, with the rows it read there (``check(pages, rows)``), so a re-parse that
commits in between cannot make a check pass against rows that are gone. A check raises
:class:`~hltv_scraper.storage.ValidationError` and nothing is written.

``rows`` is a mapping of what the writer read, by name (``"unit"``: the unit's row; the
other names are listed on each check). The perf/economy check also returns what only
it can decide: which team each economy series is.

Team names differ between pages and the match record (case, spacing, ``&amp;``, another
spelling, the other order), so team ids are resolved from evidence, never guessed:
first the match record's names, then the performance page's team columns, whose
players' team ids are stored. A name neither source pins down fails the map.

The economy chart's two series are tied to teams by their names. Its round winners and
sides must agree with the stored round history; when they fit only with the series the
other way round, the chart is believed in that order (the names were the wrong way
round, not the numbers), and only a chart that fits neither order fails.
"""

from __future__ import annotations

import html
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hltv_scraper.items import ValidationError

if TYPE_CHECKING:
    from hltv_scraper.storage import MapStatsRead, MatchRead, PerfEconomyRead, Read
    from hltv_scraper.items import (
        EconomyPage,
        MapStatsPage,
        MapStatsPages,
        MapTeam,
        MatchPage,
        MatchPages,
        PerfEconomyPages,
        PerformancePage,
        RankingPages,
    )


#: KPR is shown with two decimals: kpr x rounds may be off by half a hundredth a round.
_KPR_ROUNDING = 0.005
_EPSILON = 1e-6


# -- team names -------------------------------------------------------------------------


class TeamResolutionError(ValueError):
    pass


def normalise_name(name: str | None) -> str:
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", html.unescape(name))
    return " ".join(text.casefold().split())


def team_ids_by_column(
    columns: Mapping[str, Iterable[int]], stored_team_of: Mapping[int, int]
) -> dict[str, int]:
    """Normalised team name -> team id, from the players listed under each name.

    Every player of a column must be stored with the same team id.
    """
    resolved: dict[str, int] = {}
    for name, player_ids in columns.items():
        team_ids = {stored_team_of.get(player_id) for player_id in player_ids}
        if len(team_ids) != 1 or None in team_ids:
            raise TeamResolutionError(
                f"the players under team {name!r} are stored with team ids {sorted(map(str, team_ids))}"
            )
        resolved[normalise_name(name)] = team_ids.pop()
    return resolved


def resolve_team_ids(
    names: Iterable[str],
    *,
    match_teams: Mapping[str, int],
    column_teams: Mapping[str, int],
    valid_ids: set[int],
) -> dict[str, int]:
    """Each page name -> its team id; ``match_teams``/``column_teams`` map normalised
    names to ids. The ids must be distinct and among ``valid_ids`` (the map's teams)."""
    resolved: dict[str, int] = {}
    for name in names:
        key = normalise_name(name)
        candidates = {
            team_id
            for team_id in (match_teams.get(key), column_teams.get(key))
            if team_id and team_id in valid_ids
        }
        if len(candidates) != 1:
            raise TeamResolutionError(
                f"team {name!r} matches neither the match record nor the performance "
                f"page's teams of this map"
                if not candidates
                else f"team {name!r} is team {sorted(candidates)} by different sources"
            )
        resolved[name] = candidates.pop()
    if len(set(resolved.values())) != len(resolved):
        raise TeamResolutionError(f"two team names resolve to the same team id: {resolved}")
    return resolved


# -- the match page ------------------------------------------------------------------------


def check_match(pages: MatchPages, rows: MatchRead) -> None:
    """The match page is of this match, names two teams, numbers its maps 1..N, and
    agrees with what is stored. ``rows``: ``unit`` (the match row), ``maps`` (the
    match's stored maps: ``map_number, mapstatsid``) and ``maps_elsewhere`` (stored
    maps with one of the page's mapstatsids: ``match_id, map_number, mapstatsid``)."""
    page, key = pages.match, rows["unit"]
    match_id = key["match_id"]
    if page.match_id is not None and page.match_id != match_id:
        raise ValidationError("match", f"the page is of match {page.match_id}, not {match_id}")
    if not (page.team1_id and page.team2_id) or page.team1_id == page.team2_id:
        raise ValidationError("match", f"the page does not name two teams: {page.team1_id}, {page.team2_id}")
    numbers = [m.map_number for m in page.maps]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValidationError("match", f"map numbers {numbers} are not 1..{len(numbers)}")
    mapstatsids = [m.mapstatsid for m in page.maps if m.mapstatsid]
    if len(set(mapstatsids)) != len(mapstatsids):
        raise ValidationError("match", f"a mapstatsid appears on two maps: {mapstatsids}")
    stored_teams = {key["team1_id"], key["team2_id"]} - {None}
    if not stored_teams <= {page.team1_id, page.team2_id}:
        raise ValidationError(
            "match",
            f"the page's teams {page.team1_id}, {page.team2_id} are not the stored teams "
            f"{key['team1_id']}, {key['team2_id']}",
        )
    _check_maps(page, match_id, rows["maps"], rows["maps_elsewhere"])


def match_maps_written(page: MatchPage) -> list:
    """The maps a match page stores: none for a match deleted by forfeit."""
    full_forfeit = bool(page.is_forfeit) and page.team1_score is None and page.team2_score is None
    return [] if full_forfeit else page.maps


def _check_maps(page: MatchPage, match_id: int, stored_maps: Sequence[Mapping], elsewhere: Sequence[Mapping]) -> None:
    """A map the page places elsewhere than the database does fails the match: one of
    the two is wrong, and guessing which would corrupt a map."""
    stored = {row["map_number"]: row["mapstatsid"] for row in stored_maps}
    placed = {row["mapstatsid"]: row for row in elsewhere}
    for m in match_maps_written(page):
        if not m.mapstatsid:
            continue
        if stored.get(m.map_number) not in (None, m.mapstatsid):
            raise ValidationError(
                "match",
                f"map {m.map_number} has mapstatsid {m.mapstatsid} on the page, "
                f"{stored[m.map_number]} in the database",
            )
        other = placed.get(m.mapstatsid)
        if other and (other["match_id"], other["map_number"]) != (match_id, m.map_number):
            raise ValidationError(
                "match",
                f"mapstatsid {m.mapstatsid} (map {m.map_number} on the page) is stored as map "
                f"{other['map_number']} of match {other['match_id']}",
            )


# -- the map stats page --------------------------------------------------------------------


def check_map_stats(pages: MapStatsPages, rows: MapStatsRead) -> None:
    """The page is whole and consistent, and its teams are the match's. ``rows``:
    ``match`` (the match row: ``team1_id, team2_id``; an id not stored yet is the one
    the page fills in)."""
    page = pages.mapstats
    left, right = _map_teams(page)
    match = rows["match"]
    # The writer fills a team id the match row lacks from the page (left, right).
    team1 = match["team1_id"] if match["team1_id"] is not None else left.team_id
    team2 = match["team2_id"] if match["team2_id"] is not None else right.team_id
    if {team1, team2} != {left.team_id, right.team_id}:
        raise ValidationError(
            "mapstats",
            f"the page's teams {left.team_id}, {right.team_id} are not the match's teams {team1}, {team2}",
        )


def _map_teams(page: MapStatsPage) -> tuple[MapTeam, MapTeam]:
    """The two teams, after checking the page is whole and consistent."""
    if len(page.teams) != 2 or not all(t.team_id for t in page.teams):
        raise ValidationError("mapstats", "the page does not name two teams with ids")
    left, right = page.teams
    if left.team_id == right.team_id:
        raise ValidationError("mapstats", "both teams have the same id")
    per_team = {team_id: 0 for team_id in (left.team_id, right.team_id)}
    for player in page.players:
        if player.team_id not in per_team:
            raise ValidationError("mapstats", f"player {player.player_id} is on neither team")
        per_team[player.team_id] += 1
    if sorted(per_team.values()) != [5, 5] or len({p.player_id for p in page.players}) != 10:
        raise ValidationError("mapstats", f"the scoreboard is not 5 + 5 distinct players: {per_team}")
    if len(page.rounds) != (left.score or 0) + (right.score or 0):
        raise ValidationError(
            "mapstats",
            f"{len(page.rounds)} rounds in the history for a {left.score}-{right.score} score",
        )
    _check_scoreboard_against_rounds(page)
    for team in (left, right):
        won = sum(1 for r in page.rounds if r.winner_team_id == team.team_id)
        if won != team.score:
            raise ValidationError(
                "mapstats", f"team {team.team_name!r} won {won} rounds in the history, {team.score} by the score"
            )
    return left, right


def _check_scoreboard_against_rounds(page: MapStatsPage) -> None:
    """What no real scoreboard can show for a map of this many rounds."""
    rounds = len(page.rounds)
    for p in page.players:
        for name, value, most in (
            ("deaths", p.deaths, rounds),
            ("kills", p.kills, 5 * rounds),
            ("multi-kill rounds", p.multi_kills, rounds),
            ("KAST", p.kast, 100),
        ):
            if value is not None and not 0 <= value <= most:
                raise ValidationError(
                    "mapstats", f"player {p.player_id} has {name} {value} in a {rounds}-round map"
                )
    opening_kills = sum(p.opening_kills or 0 for p in page.players)
    if opening_kills > rounds:
        raise ValidationError("mapstats", f"{opening_kills} opening kills in {rounds} rounds")


# -- the performance and economy pages -----------------------------------------------------


@dataclass(frozen=True)
class Scoreboard:
    """What the map stats stage stored that the other pages show again."""

    team_of: Mapping[int, int]  # player id -> team id
    kills: Mapping[int, int | None]  # player id -> scoreboard kills
    rounds: int | None  # rounds played (the map's score), None when unknown
    #: round number -> (winner team id, winner side), either may be None
    round_winners: Mapping[int, tuple[int | None, str | None]]


@dataclass(frozen=True)
class EconomyTeams:
    """Which team each economy series is: series name -> team id, and whether the
    chart had to be read with its series the other way round."""

    team_ids: dict[str, int]
    swapped: bool


def stored_scoreboard(rows: PerfEconomyRead) -> Scoreboard:
    """The scoreboard from the rows the writer read: ``unit`` (the map row, with its
    score), ``players`` (``player_id, team_id, kills``) and ``rounds`` (the round
    history: ``round_number, winner_team_id, winner_side``)."""
    key, players, history = rows["unit"], rows["players"], rows["rounds"]
    played = None
    if key["team1_rounds"] is not None and key["team2_rounds"] is not None:
        played = key["team1_rounds"] + key["team2_rounds"]
    return Scoreboard(
        team_of={row["player_id"]: row["team_id"] for row in players},
        kills={row["player_id"]: row["kills"] for row in players},
        rounds=played or len(history) or None,
        round_winners={row["round_number"]: (row["winner_team_id"], row["winner_side"]) for row in history},
    )


def check_perf_economy(pages: PerfEconomyPages, rows: PerfEconomyRead) -> EconomyTeams:
    """The performance and economy pages against the stored scoreboard and round
    history (``rows``: see :func:`stored_scoreboard`; the unit row carries the match's
    team names and ids); returns which team each economy series is."""
    performance, economy, key = pages.performance, pages.economy, rows["unit"]
    scoreboard = stored_scoreboard(rows)
    _check_players(performance, scoreboard.team_of)
    match_teams = {
        normalise_name(name): team_id
        for name, team_id in ((key["team1_name"], key["team1_id"]), (key["team2_name"], key["team2_id"]))
        if name and team_id
    }
    column_teams = _column_teams(performance, scoreboard.team_of)
    check_performance(performance, scoreboard, column_teams=column_teams, match_teams=match_teams)
    try:
        named = resolve_team_ids(
            economy.team_names,
            match_teams=match_teams,
            column_teams=column_teams,
            valid_ids=set(scoreboard.team_of.values()),
        )
    except TeamResolutionError as exc:
        raise ValidationError("economy", f"economy vs mapstats: {exc}") from None
    team_ids, swapped = economy_team_order(economy, named, scoreboard.round_winners)
    return EconomyTeams(team_ids=team_ids, swapped=swapped)


def _check_players(performance: PerformancePage, stored_team_of: Mapping[int, int]) -> None:
    page_ids = {p.player_id for p in performance.players}
    if not stored_team_of:
        raise ValidationError("performance", "the map has no stored scoreboard")
    if page_ids != set(stored_team_of):
        raise ValidationError(
            "performance",
            f"performance vs mapstats: players {sorted(page_ids - set(stored_team_of))} are "
            f"not on the scoreboard, {sorted(set(stored_team_of) - page_ids)} are missing "
            "(the page of another map?)",
        )
    matrix_ids = {c.player1_id for c in performance.kill_matrix} | {
        c.player2_id for c in performance.kill_matrix
    }
    if not matrix_ids <= page_ids:
        raise ValidationError(
            "performance", f"kill matrix players {sorted(matrix_ids - page_ids)} are not on the map"
        )


def _column_teams(performance: PerformancePage, stored_team_of: Mapping[int, int]) -> dict[str, int]:
    """Normalised team name -> team id, by the players the page lists under each name."""
    columns: dict[str, list[int]] = {}
    for player in performance.players:
        columns.setdefault(player.team_name or "", []).append(player.player_id)
    try:
        return team_ids_by_column(columns, stored_team_of)
    except TeamResolutionError as exc:
        raise ValidationError("performance", f"performance vs mapstats: {exc}") from None


def check_performance(
    performance: PerformancePage,
    scoreboard: Scoreboard,
    *,
    column_teams: Mapping[str, int],
    match_teams: Mapping[str, int],
) -> None:
    """The performance page's team names, kill matrix, team kills and KPRs against the
    scoreboard (``column_teams``/``match_teams``: normalised team name -> team id by the
    page's player columns and by the match record)."""
    for name, team_id in column_teams.items():
        named = match_teams.get(name)
        if named is not None and named != team_id:
            raise _performance(
                f"the page's {name!r} players are team {team_id} on the scoreboard, "
                f"but the match's team {name!r} is team {named}",
                other="match",
            )
    kills_in_matrix: Counter[int] = Counter()
    for cell in performance.kill_matrix:
        if cell.matrix_type == "all":
            kills_in_matrix[cell.player1_id] += cell.player1_kills or 0
            kills_in_matrix[cell.player2_id] += cell.player2_kills or 0
    for player_id, kills in sorted(kills_in_matrix.items()):
        stored = scoreboard.kills.get(player_id)
        if stored is not None and kills > stored:
            raise _performance(
                f"player {player_id} has {kills} kills in the kill matrix, {stored} on the scoreboard"
            )
    _check_team_kills(performance, scoreboard, column_teams, match_teams)
    rounds = scoreboard.rounds
    if not rounds:
        return
    for player in performance.players:
        stored = scoreboard.kills.get(player.player_id)
        if player.kpr is None or stored is None:
            continue
        if abs(player.kpr * rounds - stored) > _KPR_ROUNDING * rounds + _EPSILON:
            raise _performance(
                f"player {player.player_id} has KPR {player.kpr} over {rounds} rounds "
                f"({player.kpr * rounds:.1f} kills), {stored} kills on the scoreboard"
            )


def _check_team_kills(
    performance: PerformancePage,
    scoreboard: Scoreboard,
    column_teams: Mapping[str, int],
    match_teams: Mapping[str, int],
) -> None:
    """The overview table's team kills (when the page has it) are the scoreboard's sums."""
    if any(kills is None for kills in scoreboard.kills.values()):
        return
    sums: Counter[int] = Counter()
    for player_id, kills in scoreboard.kills.items():
        sums[scoreboard.team_of[player_id]] += kills
    shown = [(team.team_name, team.kills) for team in performance.teams if team.kills is not None]
    ids = [column_teams.get(normalise_name(name)) or match_teams.get(normalise_name(name)) for name, _ in shown]
    if shown and all(ids) and len(set(ids)) == len(ids):
        for (name, kills), team_id in zip(shown, ids):
            if kills != sums[team_id]:
                raise _performance(f"{name!r} has {kills} kills in the overview, {sums[team_id]} on the scoreboard")
    elif len(shown) == 2 and sorted(kills for _, kills in shown) != sorted(sums.values()):
        # teams the overview does not name: the two totals, in either order
        raise _performance(
            f"the overview's team kills {[kills for _, kills in shown]} are not the "
            f"scoreboard's {sorted(sums.values())}"
        )


def economy_team_order(
    economy: EconomyPage, named: Mapping[str, int], round_winners: Mapping[int, tuple[int | None, str | None]]
) -> tuple[dict[str, int], bool]:
    """Series name -> team id, and whether the series had to be read the other way round.

    ``named`` is the order the names say. The chart's winner and side in every round
    the round history also holds must be the history's; if they are only with the two
    series swapped, that order is returned; if in neither, the map fails.
    """
    first, second = economy.team_names
    swapped = {first: named[second], second: named[first]}
    disagreement = _winner_disagreement(economy, named, round_winners)
    if disagreement is None:
        return dict(named), False
    if _winner_disagreement(economy, swapped, round_winners) is None:
        return swapped, True
    raise ValidationError("economy", f"economy vs mapstats: {disagreement}, and the other team order fits no better")


def _winner_disagreement(
    economy: EconomyPage, team_ids: Mapping[str, int], round_winners: Mapping[int, tuple[int | None, str | None]]
) -> str | None:
    for entry in economy.rounds:
        if not entry.won or entry.round_number not in round_winners:
            continue
        winner_id, winner_side = round_winners[entry.round_number]
        team_id = team_ids[entry.team_name]
        if (winner_id is not None and team_id != winner_id) or (winner_side and entry.side != winner_side):
            return (
                f"round {entry.round_number} is won by team {team_id} on {entry.side} on the chart, "
                f"by team {winner_id} on {winner_side} in the round history"
            )
    return None


def _performance(reason: str, *, other: str = "mapstats") -> ValidationError:
    return ValidationError("performance", f"performance vs {other}: {reason}")

# -- world ranking snapshots -------------------------------------------------------------


def check_ranking(pages: RankingPages, rows: Read) -> None:
    """The snapshot is of its unit's date and reads as a ranking: at least one team,
    each team once, ranks from 1 ascending (ties share a rank), points never rising down
    the ranking, and no previous rank for a team marked new. ``rows``: ``unit`` (the
    snapshot's row, or None when no row tracks it yet)."""
    page, unit = pages.ranking, rows.get("unit")
    if not page.ranking_date:
        raise ValidationError("ranking", "the page gives no date")
    if unit is not None and unit.get("ranking_date") not in (None, page.ranking_date):
        raise ValidationError(
            "ranking", f"the page is the snapshot of {page.ranking_date}, not {unit['ranking_date']}"
        )
    if not page.teams:
        raise ValidationError("ranking", "the snapshot ranks no team")
    seen: set[int] = set()
    previous = None
    for team in page.teams:
        name = f"{team.team_name!r} (#{team.rank})"
        if team.team_id is None or team.rank is None or team.points is None:
            raise ValidationError("ranking", f"team {name} lacks its id, rank or points")
        if team.team_id in seen:
            raise ValidationError("ranking", f"team {team.team_id} is ranked twice")
        seen.add(team.team_id)
        if team.rank < 1 or team.points < 0:
            raise ValidationError("ranking", f"team {name}: rank {team.rank}, points {team.points}")
        if team.is_new and team.rank_change is not None:
            raise ValidationError("ranking", f"team {name} is new but moved {team.rank_change} places")
        if previous is not None:
            if team.rank < previous.rank:
                raise ValidationError("ranking", f"team {name} is listed after #{previous.rank}")
            if team.points > previous.points:
                raise ValidationError(
                    "ranking",
                    f"team {name} has {team.points} points, more than #{previous.rank}'s {previous.points}",
                )
        previous = team
