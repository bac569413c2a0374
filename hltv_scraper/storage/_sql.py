"""Statements on one connection, the same way on SQLite and PostgreSQL.

Every query of the storage layer goes through :class:`Sql`: ``:named`` parameters, rows
as mappings (``row["match_id"]``), a list of parameter mappings for a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hltv_scraper.storage._schema import NOW_EPOCH, SKIP_LOCKED, dialect, sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, CursorResult, RowMapping


class Sql:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = dialect(connection)
        #: the database's clock, in seconds since the epoch (an SQL expression)
        self.now_epoch = NOW_EPOCH[self.dialect]
        #: what a claiming sub-select ends with
        self.skip_locked = SKIP_LOCKED[self.dialect]

    def run(self, statement: str, params: Mapping[str, Any] | None = None) -> CursorResult:
        return self.connection.execute(sql(statement), dict(params or {}))

    def many(self, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for each of ``rows`` (nothing for none)."""
        if rows:
            self.connection.execute(sql(statement), list(rows))

    def one(self, statement: str, params: Mapping[str, Any] | None = None) -> RowMapping | None:
        return self.run(statement, params).mappings().first()

    def all(self, statement: str, params: Mapping[str, Any] | None = None) -> list[RowMapping]:
        return list(self.run(statement, params).mappings())

    def value(self, statement: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.run(statement, params).scalar()


def listed(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:name0, :name1, ...)`` for ``IN``/``NOT IN``, and its parameters (``values``
    must not be empty: ``IN ()`` is no SQL)."""
    params = {f"{name}{n}": value for n, value in enumerate(values)}
    return "(" + ", ".join(f":{param}" for param in params) + ")", params
