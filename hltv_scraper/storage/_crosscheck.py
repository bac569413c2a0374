"""Cross-page checks: a map's performance and economy pages against its stored scoreboard.

Each page can parse cleanly and still not be this map's: HLTV served another map's page,
or a restyle moved numbers to where another number used to be. What the three pages
show twice must agree before anything is written; a contradiction is a validation
failure whose reason names both pages (``performance vs mapstats: ...``).

The economy chart's two series are tied to teams by their names. Its round winners and
sides must agree with the stored round history; when they fit only with the series the
other way round, the chart is believed in that order (the names were the wrong way
round, not the numbers), and only a chart that fits neither order fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import ValidationError
from hltv_scraper.storage._teams import normalise_name

if TYPE_CHECKING:
    from hltv_scraper.items import EconomyPage, PerformancePage

#: KPR is shown with two decimals: kpr x rounds may be off by half a hundredth a round.
_KPR_ROUNDING = 0.005
_EPSILON = 1e-6


@dataclass(frozen=True)
class Scoreboard:
    """What the map stats stage stored that the other pages show again."""

    team_of: Mapping[int, int]  # player id -> team id
    kills: Mapping[int, int | None]  # player id -> scoreboard kills
    rounds: int | None  # rounds played (the map's score), None when unknown
    #: round number -> (winner team id, winner side), either may be None
    round_winners: Mapping[int, tuple[int | None, str | None]]


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
