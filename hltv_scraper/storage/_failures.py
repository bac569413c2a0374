"""What the failures table tells a person, and putting failed units back in the queue.

When HLTV changes a page, a thousand maps fail for one reason that names a thousand
players and teams: ``failure_groups`` folds the numbers and quoted names out of the
reasons, so the change reads as one line per stage and page.

A unit that failed ``HLTV_MAX_ATTEMPTS`` times is no longer pending. When the cause was
not the unit's (a page HLTV has since fixed, a parser bug fixed without a version bump),
``requeue`` gives the failed units of a stage their attempts back, chosen by the reason
of their latest failure and by id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hltv_scraper.storage._sql import listed

if TYPE_CHECKING:
    from hltv_scraper.storage._sql import Sql
    from hltv_scraper.storage.stages import UnitTable


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_NUMBERS = re.compile(r"#(?:, #)+")


@dataclass
class FailureGroup:
    """Failures of one stage's page for one reason, ids and names folded out."""

    stage: str
    page: str
    #: the reason with ids and names folded out (:func:`normalise_reason`)
    reason: str
    failures: int = 0
    #: distinct units (maps, matches, results pages) that failed this way
    units: int = 0
    parser_versions: set[str] = field(default_factory=set)
    latest: str = ""
    #: the latest failure's own reason, with its real ids and names
    example: str = ""


def normalise_reason(reason: str) -> str:
    """The reason with quoted names as ``'…'``, numbers as ``#`` and lists of them as ``#…``."""
    folded = _NUMBER.sub("#", _QUOTED.sub("'…'", reason))
    return _NUMBERS.sub("#…", folded)


def failure_groups(db: Sql, *, recent: int | None) -> list[FailureGroup]:
    """The latest ``recent`` failures (all with None) grouped by stage, page and
    normalised reason, most frequent first: the one rule ``scrapy summary`` and the
    report both show failures by."""
    source = (
        "(SELECT stage, page, reason, unit_id, parser_version, failed_at FROM failures "
        "ORDER BY failure_id DESC LIMIT :recent)" if recent is not None else "failures"
    )
    rows = db.all(
        f"""SELECT stage, page, reason, unit_id, parser_version, count(*) AS failures,
                  max(failed_at) AS latest
           FROM {source} f
           GROUP BY stage, page, reason, unit_id, parser_version""",
        {"recent": recent} if recent is not None else {},
    )
    groups: dict[tuple[str, str, str], FailureGroup] = {}
    units: dict[tuple[str, str, str], set[int]] = {}
    for row in rows:
        reason = normalise_reason(row["reason"])
        name = (row["stage"], row["page"], reason)
        group = groups.setdefault(name, FailureGroup(row["stage"], row["page"], reason))
        group.failures += row["failures"]
        units.setdefault(name, set()).add(row["unit_id"])
        group.parser_versions.add(row["parser_version"] or "?")
        if row["latest"] > group.latest or not group.example:
            group.latest = max(group.latest, row["latest"])
            group.example = row["reason"]
    for name, group in groups.items():
        group.units = len(units[name])
    return sorted(groups.values(), key=lambda g: (-g.failures, g.stage, g.page, g.reason))


def requeue(
    db: Sql,
    stage: str,
    rows: UnitTable,
    *,
    reason: str | None = None,
    unit_ids: list[int] | None = None,
    match_ids: list[int] | None = None,
) -> list[int]:
    """Reset the attempts of the stage's failed units; the keys of those reset.

    Failed units are those with attempts counted and a failure on record; with
    ``reason``, only those whose latest failure's reason contains it (any case). Ids
    the database does not hold raise KeyError with the list of them.
    """
    params: dict[str, object] = {"stage": stage}
    conditions = [
        f"u.{rows.attempts} > 0",
        # the failures recorded at the unit's latest failed attempt
        f"""EXISTS (SELECT 1 FROM failures f WHERE f.stage = :stage AND f.unit_id = u.{rows.key}
              AND f.failed_at = (SELECT max(g.failed_at) FROM failures g
                                 WHERE g.stage = :stage AND g.unit_id = u.{rows.key})
              {"AND lower(f.reason) LIKE :reason ESCAPE '!'" if reason else ""})""",
    ]
    if reason:
        params["reason"] = "%" + _like_escaped(reason.lower()) + "%"
    for column, ids in ((rows.key, unit_ids), ("match_id", match_ids)):
        if ids:
            _check_known(db, rows, column, ids)
            among, named = listed(column, ids)
            params.update(named)
            conditions.append(f"u.{column} IN {among}")
    reset = db.all(
        f"""UPDATE {rows.table} SET {rows.attempts} = 0, {rows.attempts_version} = NULL
            WHERE {rows.key} IN (SELECT u.{rows.key} FROM {rows.table} u
                                  WHERE {' AND '.join(conditions)})
            RETURNING {rows.key}""",
        params,
    )
    return sorted(row[rows.key] for row in reset)


def _check_known(db: Sql, rows: UnitTable, column: str, ids: list[int]) -> None:
    among, params = listed("id", ids)
    found = db.all(f"SELECT DISTINCT {column} FROM {rows.table} WHERE {column} IN {among}", params)
    known = {row[column] for row in found}
    missing = [unit_id for unit_id in ids if unit_id not in known]
    if missing:
        raise KeyError(column, missing)


def _like_escaped(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '!' (the same on SQLite and PostgreSQL)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
