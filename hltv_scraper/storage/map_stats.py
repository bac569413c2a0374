"""Writing one map stats page: match details, map score, scoreboard, round history.

Runs inside the caller's transaction, after the check the caller passes
(``hltv_scraper.validation.check_map_stats``) has passed the page with the match row
read here. The match record's team order wins over the
page's (the match page is the better source of it); what the match page or an earlier
page already stored is never overwritten, only filled where empty.

Written again (a re-parse), the page's scoreboard and round history replace the stored
ones: rounds it no longer shows go with their economy rows, and a scoreboard with other
players takes the map's performance and economy with it (they were checked against the
old one), so the map is pending for that stage again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult
from hltv_scraper.storage._maps import HAS_SCOREBOARD, MAP_SELECT
from hltv_scraper.storage.stages import OF_MAP, ExportedTable, MapStatsRead, UnitTable
from hltv_scraper.storage._sql import iso_date, listed

if TYPE_CHECKING:
    from hltv_scraper.items import MapStatsPage, MapStatsPages, MapTeam
    from hltv_scraper.storage._sql import Row, Sql, Stamp
    from hltv_scraper.storage.stages import Check

_SCOREBOARD = (
    "player_name team_id kills deaths assists flash_assists hs_kills kd_diff adr kast "
    "fk_diff opening_kills opening_deaths multi_kills clutch_wins traded_deaths "
    "round_swing rating rating_version e_kills e_hs_kills e_deaths e_traded_deaths "
    "e_kd_diff e_adr e_kast e_opening_kills e_opening_deaths e_fk_diff"
).split()
_TEAM_COLUMNS = ("rounds", "ct_rounds", "t_rounds", "ot_rounds")


def write_map_stats(
    db: Sql, key: Row, pages: MapStatsPages, *, now: str, parser_version: str,
    check: Check | None, stamp: Stamp,
) -> SaveResult:
    page = pages.mapstats
    map_id = {"match_id": key["match_id"], "map_number": key["map_number"]}
    match = db.one(
        "SELECT team1_id, team2_id, match_page_at FROM matches WHERE match_id = :match_id", map_id
    )
    if check is not None:
        check(pages, MapStatsRead(unit=key, match=match))
    left, right = page.teams
    provenance = {"now": now, "url": page.url, "version": parser_version}

    db.run(
        """UPDATE matches SET
             team1_id = COALESCE(team1_id, :team1_id), team1_name = COALESCE(team1_name, :team1_name),
             team2_id = COALESCE(team2_id, :team2_id), team2_name = COALESCE(team2_name, :team2_name),
             event_id = COALESCE(event_id, :event_id), event_name = COALESCE(event_name, :event_name),
             date_unix_ms = COALESCE(date_unix_ms, :date_unix_ms), date = COALESCE(date, :date),
             source_url = COALESCE(source_url, :url), parser_version = COALESCE(parser_version, :version),
             updated_at = :now
           WHERE match_id = :match_id""",
        {
            "team1_id": left.team_id, "team1_name": left.team_name,
            "team2_id": right.team_id, "team2_name": right.team_name,
            "event_id": page.event_id, "event_name": page.event_name,
            "date_unix_ms": page.date_unix_ms, "date": iso_date(page.date_unix_ms),
            "match_id": key["match_id"], **provenance,
        },
    )
    # the match's team 1 after the fill above: the stored one, else the page's left team
    team1_id = match["team1_id"] if match["team1_id"] is not None else left.team_id
    team1, team2 = (left, right) if team1_id == left.team_id else (right, left)
    values = {
        "map_name": page.map_name, "team1_starting_side": team1.starting_side,
        **_team_values("team1", team1), **_team_values("team2", team2),
    }
    # What the match page stored wins: this page only fills what it left empty.
    fill = match["match_page_at"] is not None
    assignments = ", ".join(
        f"{column} = COALESCE({column}, :{column})" if fill else f"{column} = :{column}"
        for column in values
    )
    db.run(
        f"""UPDATE maps SET {assignments}, played = 1, is_forfeit = 0,
             rating_version = :rating_version, mapstats_at = :now, updated_at = :now,
             source_url = :url, parser_version = :version{stamp.assignments}
           WHERE match_id = :match_id AND map_number = :map_number""",
        {**values, "rating_version": page.rating_version, **map_id, **provenance, **stamp.params},
    )
    _forget_what_the_page_no_longer_shows(db, map_id, page)
    columns = ", ".join(_SCOREBOARD)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _SCOREBOARD)
    db.many(
        f"""INSERT INTO player_stats (match_id, map_number, player_id, {columns},
              scraped_at, updated_at, source_url, parser_version)
            VALUES (:match_id, :map_number, :player_id, {", ".join(":" + c for c in _SCOREBOARD)},
              :now, :now, :url, :version)
            ON CONFLICT (match_id, map_number, player_id) DO UPDATE SET {updates},
              updated_at = excluded.updated_at, source_url = excluded.source_url,
              parser_version = excluded.parser_version""",
        [
            {**map_id, "player_id": p.player_id, **{c: getattr(p, c) for c in _SCOREBOARD}, **provenance}
            for p in page.players
        ],
    )
    db.many(
        """INSERT INTO round_history (match_id, map_number, round_number, winner_side,
              win_type, winner_team_id, scraped_at, updated_at, source_url, parser_version)
            VALUES (:match_id, :map_number, :round_number, :winner_side, :win_type,
              :winner_team_id, :now, :now, :url, :version)
            ON CONFLICT (match_id, map_number, round_number) DO UPDATE SET
              winner_side = excluded.winner_side, win_type = excluded.win_type,
              winner_team_id = excluded.winner_team_id, updated_at = excluded.updated_at,
              source_url = excluded.source_url, parser_version = excluded.parser_version""",
        [
            {**map_id, "round_number": r.round_number, "winner_side": r.winner_side,
             "win_type": r.win_type, "winner_team_id": r.winner_team_id, **provenance}
            for r in page.rounds
        ],
    )
    return SaveResult(
        rows={"player_stats": len(page.players), "round_history": len(page.rounds)}
    )


def _forget_what_the_page_no_longer_shows(db: Sql, map_id: dict[str, int], page: MapStatsPage) -> None:
    """Stored players and rounds of this map the page does not show (only ever on a
    re-parse: a first write finds none)."""
    where = "WHERE match_id = :match_id AND map_number = :map_number"
    players, player_params = listed("player_id", [p.player_id for p in page.players])
    stored = {row["player_id"] for row in db.all(f"SELECT player_id FROM player_stats {where}", map_id)}
    if stored - set(player_params.values()):
        forget_perf_economy(db, map_id)
        db.run(f"DELETE FROM player_stats {where} AND player_id NOT IN {players}", {**map_id, **player_params})
    shown = [r.round_number for r in page.rounds]
    rounds, round_params = listed("round_number", shown) if shown else ("", {})
    not_shown = f"AND round_number NOT IN {rounds}" if shown else ""
    for table in ("economy", "round_history"):  # economy rows hang off their round
        db.run(f"DELETE FROM {table} {where} {not_shown}", {**map_id, **round_params})


def _team_values(prefix: str, team: MapTeam) -> dict[str, int | None]:
    return {
        f"{prefix}_rounds": team.score,
        f"{prefix}_ct_rounds": team.ct_rounds,
        f"{prefix}_t_rounds": team.t_rounds,
        f"{prefix}_ot_rounds": team.ot_rounds,
    }


def forget_perf_economy(db: Sql, map_id: dict[str, int]) -> None:
    """Take back everything the performance and economy stage stored of a map whose scoreboard is
    written anew: it is pending for that stage again."""
    where = "WHERE match_id = :match_id AND map_number = :map_number"
    db.run(f"DELETE FROM economy {where}", map_id)
    db.run(f"DELETE FROM kill_matrix {where}", map_id)
    db.run(f"UPDATE player_stats SET kpr = NULL, dpr = NULL, impact = NULL, mk_rating = NULL {where}", map_id)
    db.run(f"UPDATE maps SET perf_economy_at = NULL, perf_economy_version = NULL {where}", map_id)


ROWS = UnitTable(
    table="maps",
    key="mapstatsid",
    attempts="mapstats_attempts",
    done="mapstats_at",
    attempts_version="mapstats_attempts_version",
    version="mapstats_version",
    # A mapstatsid, no scoreboard yet.
    pending=f"u.mapstatsid IS NOT NULL AND u.mapstats_at IS NULL AND NOT {HAS_SCOREBOARD}",
    select=MAP_SELECT,
    called="maps",
)

COUNTS = (
    ("maps", "SELECT count(*) FROM maps"),
    ("maps with a stats page", "SELECT count(*) FROM maps WHERE mapstatsid IS NOT NULL"),
    ("maps with scoreboard", "SELECT count(*) FROM maps WHERE mapstats_at IS NOT NULL"),
)

EXPORTS = (
    ExportedTable("maps", ("match_id", "map_number"), OF_MAP),
    ExportedTable("player_stats", ("match_id", "map_number", "player_id"), OF_MAP),
    ExportedTable("round_history", ("match_id", "map_number", "round_number"), OF_MAP),
)
