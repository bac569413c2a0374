"""Opening a database: connection pragmas and the numbered SQL migrations.

Migrations are ``migrations/NNNN_name.sql`` inside the package, read with
``importlib.resources`` so they work from a zipped scrapyd egg too. The schema version
is SQLite's ``user_version``; each migration runs in its own transaction, so a crash
leaves the database at the previous version, never between two.
"""

from __future__ import annotations

import re
import sqlite3
import time
from importlib import resources
from pathlib import Path

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Long enough to wait out another crawl's commit on the same file, short enough that a
# wedged writer surfaces as an error rather than a silent hang.
BUSY_TIMEOUT_MS = 30_000


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every shipped migration, in order."""
    found = []
    for entry in resources.files("hltv_scraper.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..N: {versions}")
    return found


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode: transactions are opened explicitly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if _switch_to_wal(connection).lower() != "wal":
        raise RuntimeError(f"{path}: could not switch the database to WAL mode")
    # Safe with WAL: a crash may lose the last commits, never half of one.
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


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


def schema_version(connection: sqlite3.Connection) -> int:
    return connection.execute("PRAGMA user_version").fetchone()[0]


def migrate(connection: sqlite3.Connection) -> list[str]:
    """Apply the migrations the database is behind on; the names of those applied."""
    applied = []
    for version, name, sql in migrations():
        if schema_version(connection) >= version:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if schema_version(connection) >= version:
                connection.execute("ROLLBACK")
                continue
            for statement in _statements(sql):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        applied.append(name)
    latest = len(migrations())
    if schema_version(connection) > latest:
        raise RuntimeError(
            f"the database is at schema version {schema_version(connection)}, newer than "
            f"this code knows ({latest}): update hltv-scraper"
        )
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
    return statements
