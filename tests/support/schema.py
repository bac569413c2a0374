"""Databases of an older schema of ours, made from the migrations that ship."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from hltv_scraper.storage._schema import _statements, migrations


def sqlite_at_version(path: Path, version: int) -> Path:
    """A new SQLite file at ``path`` migrated up to schema ``version`` only, by hand (as
    an earlier release of the project left it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as connection:
        for _, _, script in migrations("sqlite")[:version]:
            for statement in _statements(script):
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {version}")
        connection.commit()
    return path
