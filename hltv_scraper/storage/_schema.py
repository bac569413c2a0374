"""Opening a database, SQLite or PostgreSQL, and bringing its schema up to date.

SQLAlchemy Core does the connecting, the parameters and the error types for both; what
still differs between the two is kept here, in one place: the connection settings, how a
write transaction starts, the schema version's home, and the database's clock.

Migrations are numbered ``migrations/{dialect}/NNNN_name.sql`` files inside the package
(read with ``importlib.resources``, so they work from a zipped scrapyd egg too), one
folder per dialect with the same numbers: version N is the same schema on both. Each
migration runs in its own transaction, so a crash leaves the database at the previous
version, never between two.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from hltv_scraper.storage._sql import dialect, POSTGRESQL, sql, SQLITE

logger = logging.getLogger(__name__)


_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Long enough to wait out another crawl's commit on the same file, short enough that a
# wedged writer surfaces as an error rather than a silent hang.
BUSY_TIMEOUT_MS = 30_000
# Every process migrating a PostgreSQL database takes this lock first: one migrates,
# the others wait and then find nothing to do.
_MIGRATION_LOCK = 48_170_523

_BEGIN = {SQLITE: "BEGIN IMMEDIATE", POSTGRESQL: "BEGIN"}
#: A read that sees one state of the database from its first query to its end (SQLite in
#: WAL mode keeps a deferred transaction's first snapshot).
_BEGIN_READ = {SQLITE: "BEGIN", POSTGRESQL: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"}


def database_url(*, url: str | None, path: Path | str) -> URL:
    """The URL to open: ``HLTV_DB_URL`` when set (PostgreSQL), else the SQLite file."""
    if not url:
        return URL.create("sqlite", database=str(path))
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError("HLTV_DB_URL is not a database URL (postgresql://user:password@host:port/db)") from None
    if parsed.get_backend_name() != POSTGRESQL:
        raise ValueError(
            f"HLTV_DB_URL must be a postgresql:// URL, not {parsed.drivername}:// "
            "(leave it unset for the SQLite file at HLTV_DB_PATH)"
        )
    return parsed.set(drivername="postgresql+psycopg")


def describe(url: URL) -> str:
    """The URL as it may be shown: never with its password."""
    if url.get_backend_name() == SQLITE:
        return str(url.database)
    return url.render_as_string(hide_password=True)


def connect(url: URL) -> Connection:
    """One connection in autocommit mode: write transactions are opened explicitly
    (:func:`begin`), so a read never holds a lock or a snapshot. A SQLite file's
    missing folders are made (``Database.open`` has checked the file is there when it
    must not create one)."""
    if url.get_backend_name() == SQLITE:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 30})
        event.listen(engine, "connect", _postgresql_settings)
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def begin(connection: Connection) -> None:
    """Start a write transaction. On SQLite it takes the write lock at once, so two
    crawls never both read a unit and then both write it."""
    _control(connection, _BEGIN[dialect(connection)])


def begin_read(connection: Connection) -> None:
    """Start a read-only transaction: every query until its end sees one snapshot, while
    crawls go on writing."""
    connection.exec_driver_sql(_BEGIN_READ[dialect(connection)])


def commit(connection: Connection) -> None:
    _control(connection, "COMMIT")


def rollback(connection: Connection) -> None:
    _control(connection, "ROLLBACK")


def _control(connection: Connection, statement: str) -> None:
    """A transaction statement straight to the driver (as every statement of a write
    goes: see ``_sql``), its error as SQLAlchemy's."""
    dbapi = connection.dialect.loaded_dbapi
    try:
        connection.connection.driver_connection.execute(statement)
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=connection.dialect) from exc


def in_transaction(connection: Connection) -> bool:
    raw = connection.connection.driver_connection
    if dialect(connection) == SQLITE:
        return raw.in_transaction
    return raw.info.transaction_status != 0  # psycopg: 0 is IDLE




def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, record: Any) -> None:
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if _switch_to_wal(dbapi_connection).lower() != "wal":
        raise RuntimeError("could not switch the SQLite database to WAL mode")
    # Safe with WAL: a crash may lose the last commits, never half of one.
    dbapi_connection.execute("PRAGMA synchronous = NORMAL")


def _postgresql_settings(dbapi_connection: Any, record: Any) -> None:
    """No JIT compilation. The pending rules test player_stats in an OR, behind cheap
    columns; the planner costs that test for every row all the same (the progress
    line's count over 200,000 complete maps: 1.7 million), past the thresholds where
    LLVM compiles and optimizes, which took 1 s of the count's 1.2 s. A crawl's
    statements are short: none gains from it. Set per session, not as a startup option,
    which some connection poolers (PgBouncer) refuse."""
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.commit()  # psycopg opened a transaction for it


def _switch_to_wal(connection: sqlite3.Connection) -> str:
    """Set WAL mode. While another process creates or migrates the same new file, the
    switch can answer "locked" at once, without waiting on the busy timeout: retry it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- migrations ------------------------------------------------------------------------


def migrations(name: str = SQLITE) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every migration of dialect ``name``, in order."""
    found = []
    folder = resources.files("hltv_scraper.storage").joinpath("migrations", name)
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{name} migrations are not numbered 1..N: {versions}")
    return found


def schema_version(connection: Connection) -> int:
    if dialect(connection) == SQLITE:
        return connection.exec_driver_sql("PRAGMA user_version").scalar_one()
    # A catalog query, not to_regclass(): its answer may come from a cache that a table
    # another process just created has not reached yet.
    exists = connection.exec_driver_sql(
        "SELECT count(*) FROM pg_catalog.pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
    ).scalar_one()
    if not exists:
        return 0
    return connection.exec_driver_sql("SELECT coalesce(max(version), 0) FROM schema_migrations").scalar_one()


def migrate(connection: Connection) -> list[str]:
    """Apply the migrations the database is behind on; the names of those applied."""
    name = dialect(connection)
    shipped = migrations(name)
    applied, upgrading = [], schema_version(connection) > 0
    for version, filename, script in shipped:
        if schema_version(connection) >= version:
            continue
        begin(connection)
        try:
            if name == POSTGRESQL:
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            # Another process may have migrated while we waited for the lock.
            if schema_version(connection) >= version:
                rollback(connection)
                continue
            if upgrading:  # said before it runs: a rebuild of tables (0007) takes a
                # minute on a large database, and nothing else says why the command waits
                logger.info("Migrating the database: %s", filename)
            for statement in _statements(script):
                connection.exec_driver_sql(statement)
            _set_version(connection, version, filename)
            commit(connection)
        except BaseException:
            if in_transaction(connection):
                rollback(connection)
            raise
        applied.append(filename)
    if schema_version(connection) > len(shipped):
        raise RuntimeError(
            f"the database is at schema version {schema_version(connection)}, newer than "
            f"this code knows ({len(shipped)}): update hltv-scraper"
        )
    return applied


def _set_version(connection: Connection, version: int, filename: str) -> None:
    if dialect(connection) == SQLITE:
        connection.exec_driver_sql(f"PRAGMA user_version = {version}")
        return
    connection.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    connection.execute(
        sql("INSERT INTO schema_migrations (version, name) VALUES (:version, :name)"),
        {"version": version, "name": filename},
    )


def _statements(script: str) -> list[str]:
    """Split a migration into statements (a script runner would commit on its own)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
    return statements



def shipped_schema_version(name: str = SQLITE) -> int:
    """The schema version this code migrates a database of dialect ``name`` to."""
    return len(migrations(name))
