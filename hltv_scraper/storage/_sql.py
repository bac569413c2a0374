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
whole map's write (a dozen statements) costs two round trips, not one per statement: the
unit's row with what the writer reads, then every write and the commit.
A statement's error may then surface where a later result is read, or at the commit:
both are raised as SQLAlchemy's errors too.

Many rows of one table go through :meth:`Sql.insert` and :meth:`Sql.update`: on
PostgreSQL as one statement, a binary array per column (a statement per row cost each
row its own messages and execution on the server, most of a map's write), on SQLite as
one per row.
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

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]], same: Mapping[str, Any] | None = None) -> None:
        """``INSERT`` ``rows`` into ``table`` (nothing for none): each row's keys are
        columns, the same in every row, and a column's values of one Python type (or
        None); ``same`` has the columns whose value is the same in every row (the unit's
        key, when and how the rows were read).

        On PostgreSQL, one statement for all the rows (:func:`_batch`)."""
        if rows:
            self._batch(_inserted, table, (), rows, same or {})

    def update(
        self, table: str, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str],
        same: Mapping[str, Any] | None = None,
    ) -> None:
        """``UPDATE`` the rows of ``table`` whose ``key`` columns have the values of one of
        ``rows`` (or of ``same``) with that row's (and ``same``'s) other columns, as
        :meth:`insert` writes them. Where two rows have one key, the later one wins."""
        if rows:
            rows = list({tuple(row[c] for c in key if c in row): row for row in rows}.values())
            self._batch(_updated, table, tuple(key), rows, same or {})

    def _batch(self, build: Callable[..., str], table: str, key: tuple[str, ...],
               rows: Sequence[Mapping[str, Any]], same: Mapping[str, Any]) -> None:
        """One statement for many rows. SQLite runs it once per row: a call into the same
        process each. On PostgreSQL a statement per row costs its own messages and its own
        execution on the server: there each column goes as one array, in binary (psycopg
        types it by its values), the rows made by ``unnest``, in one statement."""
        fixed, columns = tuple(same), tuple(rows[0])
        get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        values = list(map(get, rows))
        if self.dialect == POSTGRESQL:
            arrays = [list(column) for column in zip(*values)]
            # a column of NULLs only is a NULL, typed by where it goes: an array of
            # nothing but None has no type
            empty = tuple(all(v is None for v in array) for array in arrays)
            text = build(self.dialect, table, key, fixed, columns, empty)
            params = {f"s{n}": value for n, value in enumerate(same.values())} | {"count": len(values)}
            params.update((f"c{n}", array) for n, array in enumerate(arrays) if not empty[n])
            self._send("execute", text, params)
            return
        text = build(self.dialect, table, key, fixed, columns, ())
        shared = tuple(same.values())
        self._send("executemany", text, [shared + row for row in values])

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
        if self.dialect == POSTGRESQL:  # the names as psycopg reads them, not its description's objects
            from psycopg.rows import dict_row  # only here: a SQLite process never loads psycopg

            return list(map(dict_row(cursor), rows))
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
        text, values = _compiled(statement, self.connection.dialect)
        if values is not None:  # a positional style: the values in the statement's order
            params = list(map(values, params)) if method == "executemany" else values(params)
        return self._send(method, text, params)

    def _send(self, method: str, text: str, params: Any) -> Any:
        """A statement in the driver's own parameter style, to the driver."""
        dialect = self.connection.dialect
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


def _taken(fixed: tuple[str, ...], columns: tuple[str, ...], empty: tuple[bool, ...]) -> dict[str, str]:
    """On PostgreSQL, where each column's value comes from in a batch: ``same``'s from
    their parameters, the rows' from ``u``, the arrays unnested (NULL where empty)."""
    return {
        **{c: f"%(s{n})s" for n, c in enumerate(fixed)},
        **{c: "NULL" if none else f"u.{c}" for c, none in zip(columns, empty)},
    }


def _unnested(columns: tuple[str, ...], empty: tuple[bool, ...]) -> str:
    """``unnest(...) AS u(...)`` over the columns' arrays (binary: ``%b``)."""
    kept = [(n, c) for n, c in enumerate(columns) if not empty[n]]
    if not kept:  # as many rows as given
        return "generate_series(1, %(count)s) AS u"
    return f"unnest({', '.join(f'%(c{n})b' for n, _ in kept)}) AS u({', '.join(c for _, c in kept)})"


@lru_cache(maxsize=64)
def _inserted(dialect: str, table: str, key: tuple[str, ...], fixed: tuple[str, ...],
              columns: tuple[str, ...], empty: tuple[bool, ...]) -> str:
    """Sql.insert's statement: on SQLite with the values of ``fixed``, then of ``columns``."""
    names = ", ".join((*fixed, *columns))
    if dialect == POSTGRESQL:
        values = ", ".join(_taken(fixed, columns, empty).values())
        return f"INSERT INTO {table} ({names}) SELECT {values} FROM {_unnested(columns, empty)}"
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * (len(fixed) + len(columns)))})"


@lru_cache(maxsize=64)
def _updated(dialect: str, table: str, key: tuple[str, ...], fixed: tuple[str, ...],
             columns: tuple[str, ...], empty: tuple[bool, ...]) -> str:
    """Sql.update's statement: on SQLite with the values of ``fixed``, then of ``columns``
    (numbered: ``?2``)."""
    if dialect == POSTGRESQL:
        value = _taken(fixed, columns, empty)
        where = " AND ".join(f"t.{c} = {value[c]}" for c in key)
        source = f" FROM {_unnested(columns, empty)}"
    else:
        value = {c: f"?{n}" for n, c in enumerate((*fixed, *columns), start=1)}
        where = " AND ".join(f"{c} = {value[c]}" for c in key)
        source = ""
    assignments = ", ".join(f"{c} = {v}" for c, v in value.items() if c not in key)
    table_as = f"{table} AS t" if dialect == POSTGRESQL else table
    return f"UPDATE {table_as} SET {assignments}{source} WHERE {where}"


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
