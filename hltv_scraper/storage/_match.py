"""Writing one match page: the match, its veto, both lineups and one row per map.

Runs inside the caller's transaction. The match page is the authority on a match: it
overwrites what the results listing said, and its team order (team 1 = the left team)
is the match's. A map stats page stored earlier in the other team order has its map
row's team columns swapped to follow. Maps with a mapstatsid become pending for the map
stats stage; unplayed and forfeited maps are stored but never requested; a match deleted
by forfeit is stored with no map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult, ValidationError
from hltv_scraper.storage._map_stats import iso_date

if TYPE_CHECKING:

    from hltv_scraper.items import MatchMap, MatchPage
    from hltv_scraper.storage._sql import Row, Sql

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


def write_match(db: Sql, key: Row, pages: dict, *, now: str, parser_version: str) -> SaveResult:
    page: MatchPage = pages["match"]
    match_id = key["match_id"]
    _validate(page, match_id)
    provenance = {"now": now, "url": page.url, "version": parser_version}
    _follow_team_order(db, key, page)

    full_forfeit = bool(page.is_forfeit) and page.team1_score is None and page.team2_score is None
    values = {column: _value(getattr(page, column)) for column in _MATCH_COLUMNS}
    derived_format = "def" if full_forfeit else f"bo{page.best_of}" if page.best_of else None
    db.run(
        f"""UPDATE matches SET {", ".join(f"{c} = :{c}" for c in _MATCH_COLUMNS)},
              date = :date, format = COALESCE(format, :format), slug = COALESCE(slug, :slug),
              match_page_at = :now, updated_at = :now, source_url = :url, parser_version = :version
            WHERE match_id = :match_id""",
        {**values, "date": iso_date(page.date_unix_ms), "format": derived_format,
         "slug": _slug(page.url), "match_id": match_id, **provenance},
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
    _check_maps(db, match_id, maps)
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


def _validate(page: MatchPage, match_id: int) -> None:
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


def _follow_team_order(db: Sql, key: Row, page: MatchPage) -> None:
    """Check the stored teams are the page's; swap stored map rows if their order differs."""
    stored = {key["team1_id"], key["team2_id"]} - {None}
    if not stored <= {page.team1_id, page.team2_id}:
        raise ValidationError(
            "match",
            f"the page's teams {page.team1_id}, {page.team2_id} are not the stored teams "
            f"{key['team1_id']}, {key['team2_id']}",
        )
    if key["team1_id"] is not None and key["team1_id"] == page.team2_id:
        db.run(f"UPDATE maps SET {_SWAP} WHERE match_id = :match_id", {"match_id": key["match_id"]})


def _check_maps(db: Sql, match_id: int, maps: list[MatchMap]) -> None:
    """A map the page places elsewhere than the database does fails the match: one of
    the two is wrong, and guessing which would corrupt a map."""
    stored = {
        row["map_number"]: row["mapstatsid"]
        for row in db.all("SELECT map_number, mapstatsid FROM maps WHERE match_id = :match_id",
                          {"match_id": match_id})
    }
    for m in maps:
        if not m.mapstatsid:
            continue
        if stored.get(m.map_number) not in (None, m.mapstatsid):
            raise ValidationError(
                "match",
                f"map {m.map_number} has mapstatsid {m.mapstatsid} on the page, "
                f"{stored[m.map_number]} in the database",
            )
        elsewhere = db.one(
            "SELECT match_id, map_number FROM maps WHERE mapstatsid = :mapstatsid",
            {"mapstatsid": m.mapstatsid},
        )
        if elsewhere and (elsewhere["match_id"], elsewhere["map_number"]) != (match_id, m.map_number):
            raise ValidationError(
                "match",
                f"mapstatsid {m.mapstatsid} (map {m.map_number} on the page) is stored as map "
                f"{elsewhere['map_number']} of match {elsewhere['match_id']}",
            )
