"""What both map stages read of a map: its unit row, and whether its scoreboard is stored."""

from __future__ import annotations


def map_select(fetch_anew: str) -> str:
    """The map row a map stage's writer and spider see, with the stage's own
    ``fetch_anew`` column (``_rereads.fetch_anew``)."""
    return (
        "SELECT u.mapstatsid AS unit_id, u.mapstatsid, u.match_id, u.map_number, u.perf_economy_at, "
        "u.mapstats_at, u.lease_worker, u.lease_expires, NULL AS slug, u.team1_rounds, u.team2_rounds, "
        f"m.team1_id, m.team1_name, m.team2_id, m.team2_name, {fetch_anew} "
        "FROM maps u LEFT JOIN matches m ON m.match_id = u.match_id"
    )


#: SQL over a map row ``u``: its scoreboard is stored.
HAS_SCOREBOARD = (
    "EXISTS (SELECT 1 FROM player_stats p "
    "WHERE p.match_id = u.match_id AND p.map_number = u.map_number)"
)
