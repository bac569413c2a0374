"""Writing one world ranking snapshot: its row, its teams and the lineups they are shown with.

Runs inside the caller's transaction, after the check the caller passes
(``hltv_scraper.validation.check_ranking``) has passed the page with the unit row. A
snapshot is written whole: its teams and players replace whatever that date held, so
writing the same page again (a re-parse) leaves the same rows. The snapshot's row is
created when the walk did not create it first, and keeps the date it was first stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult
from hltv_scraper.storage.stages import OF_SNAPSHOT, ExportedTable, Read, UnitTable

if TYPE_CHECKING:
    from hltv_scraper.items import RankingPages
    from hltv_scraper.storage._sql import Row, Sql, Stamp
    from hltv_scraper.storage.stages import Check

_PROVENANCE = "scraped_at, updated_at, source_url, parser_version"
_PROVENANCE_VALUES = ":now, :now, :url, :version"


def ranking_id(ranking_date: str) -> int:
    """The snapshot's date as the number YYYYMMDD: its id where a unit id is a number."""
    return int(ranking_date.replace("-", ""))


def write_rankings(
    db: Sql, key: Row | None, pages: RankingPages, *, now: str, parser_version: str,
    check: Check | None, stamp: Stamp,
) -> SaveResult:
    page = pages.ranking
    if check is not None:
        check(pages, Read(unit=key))
    date = page.ranking_date
    provenance = {"now": now, "url": page.url, "version": parser_version}
    snapshot = {
        "ranking_date": date, "ranking_id": ranking_id(date), "prev_date": page.prev_date,
        "next_date": page.next_date, "team_count": len(page.teams), **provenance,
    }
    db.run(
        f"""INSERT INTO ranking_snapshots (ranking_date, ranking_id, {_PROVENANCE})
            VALUES (:ranking_date, :ranking_id, {_PROVENANCE_VALUES})
            ON CONFLICT (ranking_date) DO NOTHING""",
        snapshot,
    )
    db.run(
        f"""UPDATE ranking_snapshots SET prev_date = :prev_date, next_date = :next_date,
              team_count = :team_count, ranking_at = :now, updated_at = :now,
              source_url = :url, parser_version = :version{stamp.assignments}
            WHERE ranking_date = :ranking_date""",
        {**snapshot, **stamp.params},
    )

    dated = {"ranking_date": date}
    db.run("DELETE FROM team_ranking_players WHERE ranking_date = :ranking_date", dated)
    db.run("DELETE FROM team_rankings WHERE ranking_date = :ranking_date", dated)
    db.many(
        f"""INSERT INTO team_rankings (ranking_date, rank, team_id, team_name, points,
              rank_change, is_new, {_PROVENANCE})
            VALUES (:ranking_date, :rank, :team_id, :team_name, :points,
              :rank_change, :is_new, {_PROVENANCE_VALUES})""",
        [
            {**dated, "rank": team.rank, "team_id": team.team_id, "team_name": team.team_name,
             "points": team.points, "rank_change": team.rank_change,
             "is_new": int(bool(team.is_new)), **provenance}
            for team in page.teams
        ],
    )
    players = [
        {**dated, "team_id": team.team_id, "position": position, "player_id": player.player_id,
         "player_name": player.player_name, **provenance}
        for team in page.teams
        for position, player in enumerate(team.players, start=1)
    ]
    db.many(
        f"""INSERT INTO team_ranking_players (ranking_date, team_id, position, player_id,
              player_name, {_PROVENANCE})
            VALUES (:ranking_date, :team_id, :position, :player_id, :player_name,
              {_PROVENANCE_VALUES})""",
        players,
    )
    return SaveResult(
        rows={"ranking_snapshots": 1, "team_rankings": len(page.teams),
              "team_ranking_players": len(players)},
        counts={"new_teams": sum(1 for team in page.teams if team.is_new)},
    )


#: A snapshot's row, made by the writer when it stores the snapshot: the walk finds
#: snapshots through the pages' links, so none is ever pending in the table.
ROWS = UnitTable(
    table="ranking_snapshots",
    key="ranking_id",
    attempts="ranking_attempts",
    done="ranking_at",
    attempts_version="ranking_attempts_version",
    version="ranking_version",
    pending="1 = 0",
    select=(
        "SELECT u.ranking_id AS unit_id, u.ranking_date, u.ranking_at, u.lease_worker, u.lease_expires "
        "FROM ranking_snapshots u"
    ),
    called="snapshots",
    of_match=False,
    made_by_writer=True,
)

COUNTS = (
    ("ranking snapshots", "SELECT count(*) FROM ranking_snapshots WHERE ranking_at IS NOT NULL"),
    ("ranked teams", "SELECT count(*) FROM team_rankings"),
    ("ranked teams' players", "SELECT count(*) FROM team_ranking_players"),
)

EXPORTS = (
    ExportedTable("ranking_snapshots", ("ranking_date",), OF_SNAPSHOT),
    ExportedTable("team_rankings", ("ranking_date", "team_id"), OF_SNAPSHOT),
    ExportedTable("team_ranking_players", ("ranking_date", "team_id", "position"), OF_SNAPSHOT),
)
