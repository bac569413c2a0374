"""docs/data.md against the schema and the export: every column of every table and
view is documented, fully.

The schema is read from a freshly migrated database through SQLAlchemy's inspector, so a
migration that adds a column without a line in docs/data.md fails here; so does a column
the export adds (``mapstatsid`` on the per-map tables, the views' columns).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import inspect

from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from hltv_scraper.storage.export import MATCH_RANKS, VIEWS, export_tables

DATA_MD = Path(__file__).resolve().parent.parent / "docs" / "data.md"
HEADER = ["column", "type", "meaning", "unit", "page", "NULL when", "rating"]
KINDS = {"integer", "real", "text", "boolean", "timestamp"}
_SECTION = re.compile(r"^## `([a-z_]+)`\s*$")
def documented() -> dict[str, dict[str, list[str]]]:
    """``{table: {column: [its cells]}}`` from the tables under each ``## `table` `` heading."""
    sections: dict[str, dict[str, list[str]]] = {}
    table = None
    for line in DATA_MD.read_text("utf-8").splitlines():
        if heading := _SECTION.match(line):
            table = heading.group(1)
            assert table not in sections, f"two sections for {table}"
            sections[table] = {}
        elif table and line.startswith("|") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells == HEADER:
                continue
            name = re.fullmatch(r"`([a-z0-9_]+)`", cells[0])
            assert name, f"{table}: a row that names no column: {line}"
            assert name.group(1) not in sections[table], f"{table}.{name.group(1)} twice"
            sections[table][name.group(1)] = cells
    return sections


def schema(database: Path) -> dict[str, list[str]]:
    db = Database.open(database)
    try:
        inspector = inspect(db.connection)
        return {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()}
    finally:
        db.close()


def exported(database: Path) -> dict[str, list[str]]:
    db = Database.open(database)
    try:
        return {t.name: t.column_names for t in export_tables(db.sql, STAGES.values())}
    finally:
        db.close()


def test_every_column_of_the_schema_is_documented(tmp_path):
    tables = schema(tmp_path / "hltv.sqlite3")
    files = exported(tmp_path / "hltv.sqlite3")
    docs = documented()
    assert "failures" in tables and "player_stats" in tables
    undocumented = {t: [c for c in columns if c not in docs.get(t, {})] for t, columns in tables.items()}
    assert not any(undocumented.values()), f"columns missing from docs/data.md: {undocumented}"
    # and nothing documented that neither the schema nor the export has (a renamed or
    # dropped column)
    stale = {t: sorted(set(docs[t]) - set(columns) - set(files.get(t, ())))
             for t, columns in tables.items()}
    assert not any(stale.values()), f"docs/data.md documents columns the schema lacks: {stale}"
    assert set(docs) - set(tables) == set(VIEWS)


def test_mapstatsid_is_on_every_per_map_table_of_the_export(tmp_path):
    files = exported(tmp_path / "hltv.sqlite3")
    per_map_views = [view for view in VIEWS if view != MATCH_RANKS]  # match_ranks is per match and team
    for table in ("maps", "player_stats", "round_history", "economy", "kill_matrix", *per_map_views):
        assert "mapstatsid" in files[table], table
        assert "mapstatsid" in documented()[table], table


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_is_documented_column_by_column(tmp_path, view):
    db = Database.open(tmp_path / "hltv.sqlite3")
    try:
        table = next(t for t in export_tables(db.sql, STAGES.values()) if t.name == view)
    finally:
        db.close()
    docs = documented()[view]
    assert list(docs) == table.column_names  # in the order of the file
    for column in table.columns:
        assert docs[column.name][1] == column.kind, column.name


def test_every_row_says_type_meaning_unit_page_null_and_rating_version():
    for table, columns in documented().items():
        for column, cells in columns.items():
            assert len(cells) == len(HEADER), f"{table}.{column}: {len(cells)} cells"
            assert all(cells), f"{table}.{column} has an empty cell"
            assert cells[1] in KINDS, f"{table}.{column}: type {cells[1]!r}"


def test_documented_types_are_the_exported_types(tmp_path):
    db = Database.open(tmp_path / "hltv.sqlite3")
    try:
        exported = {t.name: {c.name: c.kind for c in t.columns} for t in export_tables(db.sql, STAGES.values())}
    finally:
        db.close()
    docs = documented()
    for table, columns in exported.items():
        for column, kind in columns.items():
            assert docs[table][column][1] == kind, f"{table}.{column}: exported as {kind}"
