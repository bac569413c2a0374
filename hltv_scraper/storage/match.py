"""Writing one match page: the match, its veto, both lineups and one row per map.

Runs inside the caller's transaction, after the check the caller passes
(``hltv_scraper.validation.check_match``) has passed the page with the rows read here
(the match row, its stored maps, the stored maps with the page's mapstatsids). The match page is the authority on a match: it
overwrites what the results listing said, and its team order (team 1 = the left team)
is the match's. A map stats page stored earlier in the other team order has its map
row's team columns swapped to follow. Maps with a mapstatsid become pending for the map
stats stage; unplayed and forfeited maps are stored but never requested; a match deleted
by forfeit is stored with no map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult
from hltv_scraper.storage.stages import OF_MATCH, ExportedTable, MatchRead, UnitTable
from hltv_scraper.storage._sql import iso_date, listed

if TYPE_CHECKING:
    from hltv_scraper.items import MatchPage, MatchPages
    from hltv_scraper.storage._sql import Row, Sql, Stamp
    from hltv_scraper.storage.stages import Check

_MATCH_COLUMNS = (
    "team1_id team1_name team2_id team2_name team1_score team2_score team1_rank team2_rank "
    "best_of is_lan event_id event_name date_unix_ms status format_text stage is_forfeit"
).split()
_MAP_COLUMNS = (
    "mapstatsid map_name played is_forfeit team1_rounds team2_rounds team1_ct_rounds "
    "team1_t_rounds team2_ct_rounds team2_t_rounds team1_ot_rounds team2_ot_rounds "
    "team1_starting_side"
).split()
# Swapping the team order of a map row: each team1 column with its team2 twin.
_SWAP = ", ".join(
    f"team1_{c} = team2_{c}, team2_{c} = team1_{c}"
    for c in ("rounds", "ct_rounds", "t_rounds", "ot_rounds")
) + ", team1_starting_side = CASE team1_starting_side WHEN 'CT' THEN 'T' WHEN 'T' THEN 'CT' END"


def write_match(
    db: Sql, key: Row, pages: MatchPages, *, now: str, parser_version: str,
    check: Check | None, stamp: Stamp,
) -> SaveResult:
    page = pages.match
    match_id = key["match_id"]
    if check is not None:
        check(pages, _rows(db, key, page))
    provenance = {"now": now, "url": page.url, "version": parser_version}
    if key["team1_id"] is not None and key["team1_id"] == page.team2_id:
        # the page's team order is the match's: stored map rows follow it
        db.run(f"UPDATE maps SET {_SWAP} WHERE match_id = :match_id", {"match_id": match_id})

    full_forfeit = bool(page.is_forfeit) and page.team1_score is None and page.team2_score is None
    values = {column: _value(getattr(page, column)) for column in _MATCH_COLUMNS}
    derived_format = "def" if full_forfeit else f"bo{page.best_of}" if page.best_of else None
    db.run(
        f"""UPDATE matches SET {", ".join(f"{c} = :{c}" for c in _MATCH_COLUMNS)},
              date = :date, demo_id = :demo_id, format = COALESCE(format, :format), slug = COALESCE(slug, :slug),
              match_page_at = :now, updated_at = :now, source_url = :url,
              parser_version = :version{stamp.assignments}
            WHERE match_id = :match_id""",
        {**values, "date": iso_date(page.date_unix_ms), "format": derived_format,
         # the GOTV demo the page links (None: it links none)
         "demo_id": getattr(page, "demo_id", None),
         "slug": _slug(page.url), "match_id": match_id, **provenance, **stamp.params},
    )

    db.run("DELETE FROM vetoes WHERE match_id = :match_id", {"match_id": match_id})
    db.many(
        """INSERT INTO vetoes (match_id, step, team_id, team_name, action, map_name,
              scraped_at, updated_at, source_url, parser_version)
            VALUES (:match_id, :step, :team_id, :team_name, :action, :map_name,
              :now, :now, :url, :version)""",
        [{"match_id": match_id, **vars(step), **provenance} for step in page.vetoes],
    )
    db.run("DELETE FROM lineups WHERE match_id = :match_id", {"match_id": match_id})
    db.many(
        """INSERT INTO lineups (match_id, team_id, player_id, player_name,
              scraped_at, updated_at, source_url, parser_version)
            VALUES (:match_id, :team_id, :player_id, :player_name, :now, :now, :url, :version)""",
        [{"match_id": match_id, **vars(player), **provenance} for player in page.lineups],
    )

    maps = [] if full_forfeit else page.maps
    db.many(
        f"""INSERT INTO maps (match_id, map_number, {", ".join(_MAP_COLUMNS)},
              scraped_at, updated_at, source_url, parser_version)
            VALUES (:match_id, :map_number, {", ".join(":" + c for c in _MAP_COLUMNS)},
              :now, :now, :url, :version)
            ON CONFLICT (match_id, map_number) DO UPDATE SET
              {", ".join(f"{c} = COALESCE(excluded.{c}, maps.{c})" for c in _MAP_COLUMNS)},
              updated_at = excluded.updated_at""",
        [
            {"match_id": match_id, "map_number": m.map_number,
             **{c: _value(getattr(m, c)) for c in _MAP_COLUMNS}, **provenance}
            for m in maps
        ],
    )
    with_stats = sum(1 for m in maps if m.mapstatsid)
    return SaveResult(
        rows={"matches": 1, "vetoes": len(page.vetoes), "lineups": len(page.lineups), "maps": len(maps)},
        counts={"maps_with_stats": with_stats},
    )


def _value(value: object) -> object:
    """Booleans as the 0/1 the schema holds."""
    return int(value) if isinstance(value, bool) else value


def _slug(url: str | None) -> str | None:
    parts = (url or "").split("?")[0].rstrip("/").split("/")
    return parts[-1] if len(parts) >= 3 and parts[-3] == "matches" else None


def _rows(db: Sql, key: Row, page: MatchPage) -> MatchRead:
    """What the match check compares the page with."""
    mapstatsids = [m.mapstatsid for m in page.maps if m.mapstatsid]
    elsewhere: list[Row] = []
    if mapstatsids:
        among, params = listed("mapstatsid", mapstatsids)
        elsewhere = db.all(
            f"SELECT match_id, map_number, mapstatsid FROM maps WHERE mapstatsid IN {among}", params
        )
    return MatchRead(
        unit=key,
        maps=db.all("SELECT map_number, mapstatsid FROM maps WHERE match_id = :match_id", {"match_id": key["match_id"]}),
        maps_elsewhere=elsewhere,
    )


#: A match is pending until its page is stored.
ROWS = UnitTable(
    table="matches",
    key="match_id",
    attempts="match_attempts",
    done="match_page_at",
    attempts_version="match_attempts_version",
    version="match_page_version",
    pending="u.match_page_at IS NULL",
    select=(
        "SELECT u.match_id AS unit_id, u.match_id, u.match_page_at, u.lease_worker, "
        "u.lease_expires, u.slug, u.team1_id, u.team1_name, u.team2_id, u.team2_name "
        "FROM matches u"
    ),
    called="matches",
)

COUNTS = (
    ("matches", "SELECT count(*) FROM matches"),
    ("matches with match page", "SELECT count(*) FROM matches WHERE match_page_at IS NOT NULL"),
    ("veto steps", "SELECT count(*) FROM vetoes"),
    ("lineup players", "SELECT count(*) FROM lineups"),
)

EXPORTS = (
    ExportedTable("matches", ("match_id",), OF_MATCH),
    ExportedTable("vetoes", ("match_id", "step"), OF_MATCH),
    ExportedTable("lineups", ("match_id", "team_id", "player_id"), OF_MATCH),
)
