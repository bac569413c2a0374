"""Units a stage must read again, their pages fetched anew: ``scrapy refresh`` and
``scrapy requeue`` ask for them, the stage's next store of the unit takes the ask back.

A re-read changes no data by itself: the stored rows stay until the re-read commits
(and a re-read whose page now fails keeps them). The ``rereads`` row makes the unit
pending for its stage (``Stage.pending``) and its requests skip the archive
(``fetch_anew`` in ``Stage.select``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hltv_scraper.storage._sql import listed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hltv_scraper.storage._sql import Sql
    from hltv_scraper.storage.stages import Stage

REFRESH = "refresh"
REQUEUE = "requeue"
#: the map stats stage's re-read took back the map's performance and economy
SCOREBOARD = "scoreboard"


def ask(db: Sql, stage: Stage, unit_ids: Sequence[int], *, reason: str, now: str) -> None:
    """The stage reads these units again, fetching their pages anew."""
    db.many(
        "INSERT INTO rereads (stage, unit_id, reason, asked_at) VALUES (:stage, :unit_id, :reason, :now) "
        "ON CONFLICT (stage, unit_id) DO UPDATE SET reason = excluded.reason, asked_at = excluded.asked_at",
        [{"stage": stage.name, "unit_id": unit_id, "reason": reason, "now": now} for unit_id in unit_ids],
    )


def asked(db: Sql, stage: Stage, unit_id: int) -> str | None:
    """Why the stage reads the unit again (None: it was not asked to)."""
    return db.value(
        "SELECT reason FROM rereads WHERE stage = :stage AND unit_id = :unit_id",
        {"stage": stage.name, "unit_id": unit_id},
    )


def hand_over(db: Sql, stage: str, unit_id: int, baseline: str, *, reason: str, now: str) -> None:
    """Another stage's re-read took back some of this stage's rows of the unit: the
    stage reads it again, comparing with ``baseline`` (the earliest one kept)."""
    db.run(
        "INSERT INTO rereads (stage, unit_id, reason, asked_at, baseline) VALUES (:stage, :unit_id, "
        ":reason, :now, :baseline) ON CONFLICT (stage, unit_id) DO UPDATE SET "
        "baseline = COALESCE(rereads.baseline, excluded.baseline)",
        {"stage": stage, "unit_id": unit_id, "reason": reason, "now": now, "baseline": baseline},
    )


def baseline(db: Sql, stage: str, unit_id: int) -> str | None:
    """The unit's rows as they were before another stage's re-read took some back."""
    return db.value("SELECT baseline FROM rereads WHERE stage = :stage AND unit_id = :unit_id",
                    {"stage": stage, "unit_id": unit_id})


def done(db: Sql, stage: str, unit_id: int) -> None:
    """The stage stored the unit: the ask is answered."""
    db.run("DELETE FROM rereads WHERE stage = :stage AND unit_id = :unit_id",
           {"stage": stage, "unit_id": unit_id})


def refresh(
    db: Sql,
    stage: Stage,
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
    on_matches = stage.table == "matches"
    conditions = [f"u.{stage.done} IS NOT NULL"]
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
    source = f"{stage.table} u" if on_matches else "maps u JOIN matches m ON m.match_id = u.match_id"
    ids = [row["unit_id"] for row in db.all(
        f"SELECT u.{stage.key} AS unit_id FROM {source} WHERE {' AND '.join(conditions)}", params
    )]
    ask(db, stage, ids, reason=REFRESH, now=now)
    for start in range(0, len(ids), 500):
        among, named = listed("id", ids[start:start + 500])
        db.run(f"UPDATE {stage.table} SET {stage.attempts} = 0, {stage.attempts_version} = NULL "
               f"WHERE {stage.key} IN {among}", named)
    return len(ids)
