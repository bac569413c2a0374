"""Units a stage must read again, their pages fetched anew: ``scrapy refresh`` and
``scrapy requeue`` ask for them, the stage's next store of the unit takes the ask back.

A re-read changes no data by itself: the stored rows stay until the re-read commits
(and a re-read whose page now fails keeps them). The ``rereads`` row makes the unit
pending for its stage (:func:`asked_for` in its ``UnitTable.pending``) and its requests
skip the archive (:func:`fetch_anew` in its ``UnitTable.select``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hltv_scraper.storage._sql import Sql

REFRESH = "refresh"
REQUEUE = "requeue"
#: the map stats stage's re-read took back the map's performance and economy
SCOREBOARD = "scoreboard"


def asked_for(stage: str, key: str) -> str:
    """SQL over ``u``: the unit is due for a re-read by ``stage`` (``scrapy refresh``,
    ``scrapy requeue``)."""
    # not correlated, so read once per statement, and looked into only when the stage
    # has any: most of the time none is asked for, and the test per row then costs nothing
    asked = f"SELECT r.unit_id FROM rereads r WHERE r.stage = '{stage}'"
    return f"(EXISTS ({asked}) AND u.{key} IN ({asked}))"


def fetch_anew(stage: str, rows_key: str, attempts: str, done: str, *more: str) -> str:
    """The ``fetch_anew`` column of a unit row: a unit whose last attempt failed
    (attempts counted, not stored), or that is read again on purpose, is fetched from
    the site, never served from the archive."""
    anew = " OR ".join([f"(u.{attempts} > 0 AND u.{done} IS NULL)", asked_for(stage, rows_key), *more])
    return f"(CASE WHEN {anew} THEN 1 ELSE 0 END) AS fetch_anew"


def ask(db: Sql, stage: str, unit_ids: Sequence[int], *, reason: str, now: str) -> None:
    """The stage reads these units again, fetching their pages anew."""
    db.many(
        "INSERT INTO rereads (stage, unit_id, reason, asked_at) VALUES (:stage, :unit_id, :reason, :now) "
        "ON CONFLICT (stage, unit_id) DO UPDATE SET reason = excluded.reason, asked_at = excluded.asked_at",
        [{"stage": stage, "unit_id": unit_id, "reason": reason, "now": now} for unit_id in unit_ids],
    )


def asked(db: Sql, stage: str, unit_id: int) -> str | None:
    """Why the stage reads the unit again (None: it was not asked to)."""
    return db.value(
        "SELECT reason FROM rereads WHERE stage = :stage AND unit_id = :unit_id",
        {"stage": stage, "unit_id": unit_id},
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
