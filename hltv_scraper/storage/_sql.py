"""Statements on one connection, the same way on SQLite and PostgreSQL.

Every query of the storage layer goes through :class:`Sql`: ``:named`` parameters, rows
as mappings (``row["match_id"]``), a list of parameter mappings for a batch.

SQLAlchemy opens the connection, compiles each statement once per database into the
driver's own parameter style (SQLite's driver takes ``:named`` as it is), and turns a
driver's error into its own error classes (``IntegrityError``, ``OperationalError``...),
the same for both databases. The statement itself goes straight to the driver's
cursor: SQLAlchemy's per-execution machinery cost more than SQLite's own work on a
map's write, a third of the whole-map commits per second. :meth:`Sql.result` gives
SQLAlchemy's result object where that is wanted (streaming reads, tests).

On PostgreSQL a transaction's statements go out in psycopg's pipeline mode
(:func:`pipelined`): the client waits for the server only where it reads a result, so a
whole map's write (a dozen statements) costs three round trips, not one per statement.
A statement's error may then surface where a later result is read, or at the commit:
both are raised as SQLAlchemy's errors too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, CursorResult, Dialect
    from sqlalchemy.sql.elements import TextClause


#: A row as the storage layer hands it on: column name -> value.
Row = dict[str, Any]

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

#: The database's own clock in seconds since the epoch: leases compare against one clock
#: however many machines hold them.
NOW_EPOCH = {
    SQLITE: "((julianday('now') - 2440587.5) * 86400.0)",
    POSTGRESQL: "extract(epoch FROM clock_timestamp())",
}
#: Claiming units: the rows another transaction is claiming are skipped, not waited
#: for (SQLite has one writer at a time: its write transaction is the lock).
SKIP_LOCKED = {SQLITE: "", POSTGRESQL: "FOR UPDATE OF u SKIP LOCKED"}
#: What a read of the unit row a write decides on ends with: on PostgreSQL the row stays
#: locked to the commit (SQLite's write transaction holds the whole file already).
FOR_UPDATE = {SQLITE: "", POSTGRESQL: "FOR UPDATE OF u"}

def dialect(connection: Connection) -> str:
    return connection.dialect.name


@lru_cache(maxsize=512)
def sql(statement: str) -> TextClause:
    """A statement with ``:named`` parameters, built once per text."""
    return text(statement)


class Sql:
    def __init__(self, connection: Connection, *, reopen: Callable[[], bool] | None = None) -> None:
        self.connection = connection
        #: opens the connection again when the server dropped it (see Database.reopen_if_lost)
        self.reopen = reopen
        self.dialect = dialect(connection)
        #: the database's clock, in seconds since the epoch (an SQL expression)
        self.now_epoch = NOW_EPOCH[self.dialect]
        #: what a claiming sub-select ends with
        self.skip_locked = SKIP_LOCKED[self.dialect]
        #: what a read of a row to update ends with
        self.for_update = FOR_UPDATE[self.dialect]

    def run(self, statement: str, params: Mapping[str, Any] | None = None) -> Any:
        """Execute one statement; the driver's cursor, its rows not yet fetched."""
        return self._execute("execute", statement, params or {})

    def many(self, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for each of ``rows`` (nothing for none)."""
        if rows:
            self._execute("executemany", statement, rows)

    def one(self, statement: str, params: Mapping[str, Any] | None = None) -> Row | None:
        found = self.all(statement, params)
        return found[0] if found else None

    def all(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self._rows(self.run(statement, params))

    def all_of(self, *queries: tuple[str, Mapping[str, Any]]) -> list[list[Row]]:
        """The rows of each query. Every query is sent before any result is read: in a
        pipeline (PostgreSQL) they travel together, one round trip for all."""
        cursors = [self.run(statement, params) for statement, params in queries]
        return [self._rows(cursor) for cursor in cursors]

    def value(self, statement: str, params: Mapping[str, Any] | None = None) -> Any:
        cursor = self.run(statement, params)
        row = self._read(cursor.fetchone)
        return None if row is None else row[0]

    def result(self, statement: str, params: Mapping[str, Any] | None = None) -> CursorResult:
        """Execute one statement through SQLAlchemy: its result object."""
        return self.connection.execute(sql(statement), dict(params or {}))

    def _rows(self, cursor: Any) -> list[Row]:
        rows = self._read(cursor.fetchall)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in rows]

    def _read(self, fetch: Callable[[], Any]) -> Any:
        """A cursor's result; in a pipeline, an error of any statement sent before it
        surfaces here: as SQLAlchemy's error, like one raised when it was sent."""
        try:
            return fetch()
        except self.connection.dialect.loaded_dbapi.Error as exc:
            raise _error(exc, self.connection.dialect) from exc

    def _execute(self, method: str, statement: str, params: Any) -> Any:
        dialect = self.connection.dialect
        text, values = _compiled(statement, dialect)
        if values is not None:  # a positional style: the values in the statement's order
            params = list(map(values, params)) if method == "executemany" else values(params)
        # a statement outside a transaction (a read) is run again, once, on a connection
        # opened anew when the server dropped the old one; one inside is the caller's
        alone = self.reopen is not None and self.dialect == POSTGRESQL and _idle(self.connection)
        try:
            cursor = self._cursor()
            getattr(cursor, method)(text, params)
        except dialect.loaded_dbapi.Error as exc:
            if not (alone and self.reopen()):
                raise DBAPIError.instance(text, params, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
            cursor = self._cursor()
            try:
                getattr(cursor, method)(text, params)
            except dialect.loaded_dbapi.Error as again:
                raise DBAPIError.instance(text, params, again, dialect.loaded_dbapi.Error,
                                          dialect=dialect) from again
        return cursor

    def _cursor(self) -> Any:
        return self.connection.connection.driver_connection.cursor()


def _idle(connection: Connection) -> bool:
    """Is the PostgreSQL connection outside any transaction?"""
    return connection.connection.driver_connection.info.transaction_status == 0  # psycopg: IDLE


def alive(connection: Connection) -> bool:
    """Does the connection still answer? (Straight to the driver: no retry of its own.)"""
    try:
        connection.connection.driver_connection.execute("SELECT 1")
    except Exception:  # noqa: BLE001 (a closed connection fails before the driver's errors)
        return False
    return True


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Inside, PostgreSQL statements are sent without waiting for their results (psycopg's
    pipeline mode): the client waits only where it reads one, and at the end. Nothing
    changes on SQLite, where every statement is a call into the same process."""
    if dialect(connection) != POSTGRESQL:
        yield
        return
    dialect_ = connection.dialect
    try:
        with connection.connection.driver_connection.pipeline():
            yield
    except dialect_.loaded_dbapi.Error as exc:  # a statement's error, surfacing at the end
        raise _error(exc, dialect_) from exc


def _error(exc: Exception, dialect: Dialect) -> DBAPIError:
    return DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect)


def listed(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:name0, :name1, ...)`` for ``IN``/``NOT IN``, and its parameters (``values``
    must not be empty: ``IN ()`` is no SQL)."""
    params = {f"{name}{n}": value for n, value in enumerate(values)}
    return "(" + ", ".join(f":{param}" for param in params) + ")", params


@lru_cache(maxsize=512)
def _compiled(statement: str, dialect: Dialect) -> tuple[str, Callable[[Mapping[str, Any]], tuple] | None]:
    """The statement in the driver's parameter style (``?`` for SQLite, ``%(name)s`` for
    psycopg), and, when that style is positional, what takes a row's values in the
    statement's order. SQLite binds positional values faster than named ones: a fifth
    of a map's write."""
    compiled = sql(statement).compile(dialect=dialect)
    if not compiled.positional:
        return compiled.string, None
    names = tuple(compiled.positiontup)
    if not names:
        return compiled.string, lambda row: ()
    if len(names) == 1:
        return compiled.string, lambda row: (row[names[0]],)
    return compiled.string, itemgetter(*names)


@dataclass(frozen=True)
class Stamp:
    """What a save adds to the one UPDATE of the unit's row its writer runs: the parser
    version the stage stored it with and, for a crawl, its lease given back (so the
    row is updated once per save, not once by the writer and again after it)."""

    assignments: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def iso_date(unix_ms: int | None) -> str | None:
    if unix_ms is None:
        return None
    return datetime.fromtimestamp(unix_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
