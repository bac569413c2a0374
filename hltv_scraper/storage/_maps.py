"""What both map stages read of a map: its unit row, and whether its scoreboard is stored."""

from __future__ import annotations

#: The map row both map stages' writers and spiders see.
MAP_SELECT = (
    "SELECT u.mapstatsid AS unit_id, u.mapstatsid, u.match_id, u.map_number, u.perf_economy_at, "
    "u.mapstats_at, u.lease_worker, u.lease_expires, NULL AS slug, u.team1_rounds, u.team2_rounds, "
    "m.team1_id, m.team1_name, m.team2_id, m.team2_name "
    "FROM maps u LEFT JOIN matches m ON m.match_id = u.match_id"
)
#: SQL over a map row ``u``: its scoreboard is stored.
HAS_SCOREBOARD = (
    "EXISTS (SELECT 1 FROM player_stats p "
    "WHERE p.match_id = u.match_id AND p.map_number = u.map_number)"
)
