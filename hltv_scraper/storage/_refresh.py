"""``scrapy refresh``: ask the stages to read stored units again (``rereads``).

Which units: those of matches played in a date window, of maps whose rating is of a
version, or named maps. Their attempts start again; nothing else changes until each
re-read commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._rereads import REFRESH, ask
from hltv_scraper.storage._sql import listed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hltv_scraper.storage._sql import Sql
    from hltv_scraper.storage.stages import UnitTable


def refresh(
    db: Sql,
    stage: str,
    rows: UnitTable,
    *,
    since_ms: int | None,
    until_ms: int | None,
    rating_version: str | None,
    mapstatsids: Sequence[int],
    now: str,
) -> int:
    """Ask the stage to read again the units it stored whose match was played at or
    after ``since_ms`` and before ``until_ms`` (its start, else when the listing says it
    ended, as the export dates matches), whose map's rating is of ``rating_version``, or
    that are among ``mapstatsids`` (the conditions given must all hold). Their attempts
    start again. Returns how many units were asked for."""
    on_matches = rows.table == "matches"
    conditions = [f"u.{rows.done} IS NOT NULL"]
    params: dict[str, object] = {}
    match = "u" if on_matches else "m"
    day = f"COALESCE({match}.date_unix_ms, {match}.completed_unix_ms)"
    if since_ms is not None:
        conditions.append(f"{day} >= :since_ms")
        params["since_ms"] = since_ms
    if until_ms is not None:
        conditions.append(f"{day} < :until_ms")
        params["until_ms"] = until_ms
    if rating_version and not on_matches:
        conditions.append("u.rating_version = :rating_version")
        params["rating_version"] = rating_version
    if mapstatsids:
        among, named = listed("mapstatsid", list(mapstatsids))
        params.update(named)
        if on_matches:
            conditions.append(f"u.match_id IN (SELECT match_id FROM maps WHERE mapstatsid IN {among})")
        else:
            conditions.append(f"u.mapstatsid IN {among}")
    if rating_version and on_matches:
        conditions.append("u.match_id IN (SELECT match_id FROM maps WHERE rating_version = :rating_version)")
        params["rating_version"] = rating_version
    source = f"{rows.table} u" if on_matches else "maps u JOIN matches m ON m.match_id = u.match_id"
    ids = [row["unit_id"] for row in db.all(
        f"SELECT u.{rows.key} AS unit_id FROM {source} WHERE {' AND '.join(conditions)}", params
    )]
    ask(db, stage, ids, reason=REFRESH, now=now)
    for start in range(0, len(ids), 500):
        among, named = listed("id", ids[start:start + 500])
        db.run(f"UPDATE {rows.table} SET {rows.attempts} = 0, {rows.attempts_version} = NULL "
               f"WHERE {rows.key} IN {among}", named)
    return len(ids)
