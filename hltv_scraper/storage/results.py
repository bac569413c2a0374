"""Writing one results listing page: its entries become matches pending for the match stage.

Runs inside the caller's transaction. The listing is the first word on a match, not the
last: what only the listing shows (stars, its format text, the completion time) is kept
up to date, and everything else fills only what is still empty (the match page, when
stored, says it better).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._errors import SaveResult
from hltv_scraper.storage._sql import listed
from hltv_scraper.storage.stages import Read

if TYPE_CHECKING:
    from hltv_scraper.items import ResultsPages
    from hltv_scraper.storage._sql import Row, Sql, Stamp
    from hltv_scraper.storage.stages import Check

_FILLED = ("slug", "team1_name", "team2_name", "team1_score", "team2_score", "event_name",
           "best_of", "is_forfeit")
_LISTING_ONLY = ("stars", "format", "completed_unix_ms", "listed_at")


def write_results(
    db: Sql, key: Row | None, pages: ResultsPages, *, now: str, parser_version: str,
    check: Check | None, stamp: Stamp,
) -> SaveResult:
    page = pages.results
    if check is not None:
        check(pages, Read(unit=key))
    ids = [entry.match_id for entry in page.entries]
    known = known_match_ids(db, ids)
    columns = ("match_id", *_FILLED, *_LISTING_ONLY)
    # Once the match page is stored, it alone speaks for these (a NULL there is its word).
    updates = [
        f"{c} = CASE WHEN matches.match_page_at IS NULL THEN COALESCE(matches.{c}, excluded.{c}) "
        f"ELSE matches.{c} END"
        for c in _FILLED
    ]
    updates += [f"{c} = excluded.{c}" for c in _LISTING_ONLY]
    # A row is touched only when the listing says something new: a re-read page changes
    # nothing, so an export of what changed since last night stays small.
    changed = " OR ".join(
        [f"matches.{c} IS DISTINCT FROM excluded.{c}" for c in _LISTING_ONLY if c != "listed_at"]
        + [f"(matches.match_page_at IS NULL AND matches.{c} IS NULL AND excluded.{c} IS NOT NULL)"
           for c in _FILLED]
    )
    db.many(
        f"""INSERT INTO matches ({", ".join(columns)}, scraped_at, updated_at, source_url,
              parser_version)
            VALUES ({", ".join(":" + c for c in columns)}, :now, :now, :url, :version)
            ON CONFLICT (match_id) DO UPDATE SET {", ".join(updates)},
              updated_at = excluded.updated_at
            WHERE {changed}""",
        [
            {
                "match_id": entry.match_id, "slug": entry.slug,
                "team1_name": entry.team1_name, "team2_name": entry.team2_name,
                "team1_score": entry.team1_score, "team2_score": entry.team2_score,
                "event_name": entry.event_name, "best_of": entry.best_of,
                "is_forfeit": None if entry.is_forfeit is None else int(entry.is_forfeit),
                "stars": entry.stars, "format": entry.format,
                "completed_unix_ms": entry.completed_unix_ms, "listed_at": now,
                "now": now, "url": page.url, "version": parser_version,
            }
            for entry in page.entries
        ],
    )
    new = len(set(ids) - known)
    return SaveResult(rows={"matches": new}, counts={"new": new, "known": len(known)})


def known_match_ids(db: Sql, ids: list[int]) -> set[int]:
    """The ids among ``ids`` the database holds a match for."""
    if not ids:
        return set()
    among, params = listed("id", ids)
    rows = db.all(f"SELECT match_id FROM matches WHERE match_id IN {among}", params)
    return {row["match_id"] for row in rows}
