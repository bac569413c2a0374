"""Resolving the team names a page shows to the team ids the database holds.

Names differ between pages and the match record (case, spacing, ``&amp;``, another
spelling, the other order), so ids are resolved from evidence, never guessed: first
the match record's names, then the performance page's team columns, whose players'
team ids are stored. A name neither source pins down fails the map.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping


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
