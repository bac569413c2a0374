"""The database: migrations, pending maps, team resolution, adding maps."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from hltv_scraper.storage import Database
from hltv_scraper.storage._schema import connect, migrate, migrations, schema_version
from hltv_scraper.storage._teams import TeamResolutionError, resolve_team_ids, team_ids_by_column
from tests.seed import rows, seed_scoreboard


def test_migrations_apply_once_and_set_the_schema_version(db_path):
    connection = connect(db_path)
    assert migrate(connection) == [name for _, name, _ in migrations()]
    assert migrate(connection) == []
    assert schema_version(connection) == len(migrations())
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"matches", "maps", "player_stats", "round_history", "economy", "kill_matrix", "failures"} <= tables
    for table in ("matches", "maps", "player_stats", "round_history", "economy", "kill_matrix"):
        columns = {r[1] for r in connection.execute(f"PRAGMA table_info({table})")}
        assert {"scraped_at", "updated_at", "source_url", "parser_version"} <= columns, table


def test_concurrent_openers_migrate_exactly_once(db_path):
    errors = []

    def open_db():
        try:
            Database.open(db_path).close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_db) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert rows(db_path, "PRAGMA user_version") == [(len(migrations()),)]


def test_a_database_newer_than_the_code_is_refused(db_path):
    Database.open(db_path).close()
    rows(db_path, "PRAGMA user_version = 999")
    with pytest.raises(RuntimeError, match="newer than"):
        Database.open(db_path)


def test_economy_rows_need_their_round_in_round_history(db_path):
    seed_scoreboard(db_path, 188093)
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute(
            "INSERT INTO economy (match_id, map_number, round_number, team_id, scraped_at, updated_at) "
            "VALUES (2377467, 1, 99, 1, 'x', 'x')"
        )


def test_pending_maps_are_streamed_in_mapstatsid_order_and_respect_attempts(db_path):
    for mapstatsid in (219128, 162345, 188093):
        seed_scoreboard(db_path, mapstatsid)
    rows(db_path, "UPDATE maps SET perf_attempts = 3 WHERE mapstatsid = 188093")
    db = Database.open(db_path)
    try:
        assert [k.mapstatsid for k in db.iter_pending("perf_economy", max_attempts=3)] == [162345, 219128]
        assert [k.mapstatsid for k in db.iter_pending("perf_economy", max_attempts=4)] == [162345, 188093, 219128]
        assert db.count_pending("perf_economy", max_attempts=3) == 2
        # their scoreboard is stored: nothing left for the map stats stage
        assert list(db.iter_pending("map_stats", max_attempts=3)) == []
        key = db.map_key(219128)
        assert (key.match_id, key.map_number, key.slug) == (2389951, 1, "northwind-vs-blue-harbor")
    finally:
        db.close()


def test_a_map_with_a_stored_kpr_is_done(db_path):
    seed_scoreboard(db_path, 188093)
    rows(db_path, "UPDATE player_stats SET kpr = 0.5 WHERE rowid = (SELECT min(rowid) FROM player_stats)")
    db = Database.open(db_path)
    try:
        assert list(db.iter_pending("perf_economy", max_attempts=3)) == []
    finally:
        db.close()


def test_team_names_resolve_from_the_match_record_then_the_players():
    stored_team_of = {1: 10, 2: 10, 3: 20, 4: 20}
    columns = team_ids_by_column({"Smoke &amp; Mirrors": [1, 2], "Copperhead": [3, 4]}, stored_team_of)
    resolved = resolve_team_ids(
        ["SMOKE & MIRRORS", "Copperhead"],
        match_teams={"copperhead": 20},
        column_teams=columns,
        valid_ids={10, 20},
    )
    assert resolved == {"SMOKE & MIRRORS": 10, "Copperhead": 20}


@pytest.mark.parametrize(
    ("names", "match_teams", "columns"),
    [
        (["Unknown", "Copperhead"], {}, {"smoke & mirrors": 10, "copperhead": 20}),
        (["Smoke", "Copperhead"], {"smoke": 20}, {"copperhead": 20}),  # both to one id
        (["Smoke", "Copperhead"], {"smoke": 10, "copperhead": 10}, {"copperhead": 20}),  # sources disagree
        (["Smoke", "Copperhead"], {"smoke": 0, "copperhead": 20}, {}),  # id 0 is no id
    ],
)
def test_team_names_that_cannot_be_pinned_down_fail(names, match_teams, columns):
    with pytest.raises(TeamResolutionError):
        resolve_team_ids(names, match_teams=match_teams, column_teams=columns, valid_ids={10, 20})


def test_a_team_column_with_players_of_two_teams_fails():
    with pytest.raises(TeamResolutionError):
        team_ids_by_column({"A": [1, 3]}, {1: 10, 3: 20})


def test_add_maps_is_idempotent_and_refuses_contradictions(db_path):
    db = Database.open(db_path)
    try:
        assert db.add_maps([(1, 1, 100), (1, 2, 101)]) == (2, 0)
        assert db.add_maps([(1, 1, 100)]) == (0, 1)
        with pytest.raises(ValueError, match="contradicts"):
            db.add_maps([(1, 3, 102), (2, 1, 100)])
        assert [k.mapstatsid for k in db.iter_pending("map_stats", max_attempts=3)] == [100, 101]
    finally:
        db.close()
    assert rows(db_path, "SELECT count(*) FROM maps") == [(2,)]
