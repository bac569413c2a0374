"""What a re-read changed: one ``corrections`` row per stored value that differs.

A unit read again from the site (``scrapy refresh``, a match waiting for its stats
links, a unit whose earlier attempt failed) is written by its stage's writer as any
unit is. Around that write, inside the same transaction, :func:`snapshot` reads the
unit's rows of every table the stage compares (its ``UnitTable.corrected``), by primary key, and :func:`record`
reads them again and stores the difference: a value before and after the re-read,
never a step in between, and nothing for rows deleted and written again alike.

Each stage answers for its own columns. The scoreboard's re-read may take back the
performance columns (a scoreboard with other players); what they became is the
performance page's re-read to say, so the scoreboard's stage leaves them out and hands
the performance stage (its ``UnitTable.takes_back``) what they were before (``rereads.baseline``): its re-read
compares with that, never with the NULLs in between.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from hltv_scraper.storage import _rereads
from hltv_scraper.storage._sql import Row

if TYPE_CHECKING:
    from collections.abc import Callable

    from hltv_scraper.storage._sql import Sql
    from hltv_scraper.storage.stages import CorrectedTable, UnitTable

T = TypeVar("T")

#: Columns that say how and when a row was written, not what HLTV says.
_BOOKKEEPING = frozenset(
    "scraped_at updated_at source_url parser_version lease_worker lease_expires "
    "match_page_at mapstats_at perf_economy_at match_page_version mapstats_version "
    "perf_economy_version match_attempts mapstats_attempts perf_attempts "
    "match_attempts_version mapstats_attempts_version perf_attempts_version "
    "stats_checks stats_due_at no_stats_at".split()
)

Snapshot = dict[str, dict[tuple[Any, ...], Row]]


def written(
    db: Sql, stage: str, rows: UnitTable, unit_id: int, unit: Row, write: Callable[[], T], *,
    reread: bool, now: str, parser_version: str,
) -> T:
    """``write()`` the unit; when that is a re-read of what the stage stored (or the
    stage was handed what an earlier re-read took back), record what changed in its
    ``rows.corrected`` tables. A unit asked for a re-read (its ``fetch_anew``) has the
    ask answered."""
    tables = rows.corrected
    handed = _rereads.baseline(db, stage, unit_id) if unit["fetch_anew"] else None
    before = from_json(tables, handed) if handed is not None else snapshot(db, tables, unit) if reread else None
    later = rows.takes_back if before is not None else None
    kept = snapshot(db, later[1], unit) if later is not None else None
    result = write()
    if before is not None:
        record(db, stage, tables, unit_id, unit, before, now=now, parser_version=parser_version)
    if later is not None and snapshot(db, later[1], unit) != kept:  # taken back: the later stage's to say
        _rereads.hand_over(db, later[0], unit_id, to_json(kept), reason=_rereads.SCOREBOARD, now=now)
    if unit["fetch_anew"]:  # only a unit read anew can have an ask on record
        _rereads.done(db, stage, unit_id)
    return result


def snapshot(db: Sql, tables: tuple[CorrectedTable, ...], unit: Row) -> Snapshot:
    """The unit's rows in each of ``tables``, by primary key."""
    taken: Snapshot = {}
    for table in tables:
        where = " AND ".join(f"{column} = :{column}" for column in table.of)
        rows = db.all(f"SELECT * FROM {table.name} WHERE {where}", {c: unit[c] for c in table.of})
        taken[table.name] = {tuple(row[c] for c in table.key): row for row in rows}
    return taken


def record(
    db: Sql, stage: str, tables: tuple[CorrectedTable, ...], unit_id: int, unit: Row, before: Snapshot, *,
    now: str, parser_version: str,
) -> int:
    """Store one correction per value that differs between ``before`` and now; how many."""
    after = snapshot(db, tables, unit)
    rows = []
    for table in tables:
        old_rows, new_rows = before[table.name], after[table.name]
        for key in sorted(old_rows.keys() | new_rows.keys(), key=_sortable):
            old, new = old_rows.get(key, {}), new_rows.get(key, {})
            for column in _columns(table, old, new):
                if old.get(column) != new.get(column):
                    rows.append({
                        "stage": stage, "unit": str(unit_id), "table_name": table.name,
                        "row_key": ",".join(f"{c}={v}" for c, v in zip(table.key, key)),
                        "column_name": column, "old_value": _text(old.get(column)),
                        "new_value": _text(new.get(column)), "seen_at": now, "version": parser_version,
                    })
    db.many(
        "INSERT INTO corrections (stage, unit, table_name, row_key, column_name, old_value, "
        "new_value, seen_at, parser_version) VALUES (:stage, :unit, :table_name, :row_key, "
        ":column_name, :old_value, :new_value, :seen_at, :version)",
        rows,
    )
    return len(rows)


def to_json(taken: Snapshot) -> str:
    return json.dumps({table: list(rows.values()) for table, rows in taken.items()})


def from_json(tables: tuple[CorrectedTable, ...], text: str) -> Snapshot:
    stored = json.loads(text)
    return {
        table.name: {tuple(row[c] for c in table.key): row for row in stored.get(table.name, [])}
        for table in tables
    }


def _columns(table: CorrectedTable, old: Row, new: Row) -> list[str]:
    names = table.only or [c for c in (new or old) if c not in _BOOKKEEPING]
    return [c for c in names if c not in table.key and c not in table.leave]


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(part) for part in key)


def _text(value: Any) -> str | None:
    """A value as the text the table keeps: numbers as Python writes them."""
    return None if value is None else str(value)
