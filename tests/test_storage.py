"""The database: migrations, pending maps, team resolution, adding maps."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from scrapy.settings import Settings

from hltv_scraper.config import HltvConfig
from hltv_scraper.items import PerfEconomyPages
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import AlreadyStored, Database
from hltv_scraper.storage._schema import connect, database_url, migrate, migrations, schema_version
from hltv_scraper.validation import TeamResolutionError, check_perf_economy, resolve_team_ids, team_ids_by_column
from tests.support.pages import load_page
from tests.support.schema import sqlite_at_version
from tests.support.seed import is_postgres, rows, seed_scoreboard


def test_migrations_apply_once_and_set_the_schema_version(database):
    connection = connect(database_url(url=None, path=database))
    try:
        assert migrate(connection) == [name for _, name, _ in migrations()]
        assert migrate(connection) == []
        assert schema_version(connection) == len(migrations())
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        connection.close()


def table_columns(database) -> dict[str, set[str]]:
    db = Database.open(database)
    try:
        inspector = inspect(db.connection)
        return {table: {c["name"] for c in inspector.get_columns(table)} for table in inspector.get_table_names()}
    finally:
        db.close()


def test_both_backends_have_the_same_tables_and_columns(tmp_path, postgres):
    sqlite_tables = table_columns(tmp_path / "hltv.sqlite3")
    postgres_tables = table_columns(postgres.new_database())
    postgres_tables.pop("schema_migrations")  # PostgreSQL's home of the schema version
    assert sqlite_tables == postgres_tables
    assert {"matches", "maps", "player_stats", "round_history", "economy", "kill_matrix",
            "vetoes", "lineups", "failures"} <= set(sqlite_tables)
    for table in ("matches", "maps", "player_stats", "round_history", "economy", "kill_matrix", "vetoes", "lineups"):
        assert {"scraped_at", "updated_at", "source_url", "parser_version"} <= sqlite_tables[table], table


@pytest.mark.both_backends
def test_concurrent_openers_migrate_exactly_once(database):
    errors = []

    def open_db():
        try:
            Database.open(database).close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_db) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = Database.open(database)
    try:
        assert schema_version(db.connection) == len(migrations())
    finally:
        db.close()


@pytest.mark.both_backends
def test_a_database_newer_than_the_code_is_refused(database):
    Database.open(database).close()
    if is_postgres(database):
        rows(database, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    else:
        rows(database, "PRAGMA user_version = 999")
    with pytest.raises(RuntimeError, match="newer than"):
        Database.open(database)


@pytest.mark.both_backends
def test_economy_rows_need_their_round_in_round_history(database):
    seed_scoreboard(database, 188093)
    with pytest.raises(IntegrityError):
        rows(database,
             "INSERT INTO economy (match_id, map_number, round_number, team_id, scraped_at, updated_at) "
             "VALUES (2377467, 1, 99, 1, 'x', 'x')")


@pytest.mark.both_backends
def test_pending_maps_are_streamed_in_mapstatsid_order_and_respect_attempts(database):
    for mapstatsid in (219128, 162345, 188093):
        seed_scoreboard(database, mapstatsid)
    rows(database, "UPDATE maps SET perf_attempts = 3 WHERE mapstatsid = 188093")
    db = Database.open(database)
    try:
        assert [k.id for k in db.iter_pending(STAGES["perf_economy"], max_attempts=3)] == [162345, 219128]
        assert [k.id for k in db.iter_pending(STAGES["perf_economy"], max_attempts=4)] == [162345, 188093, 219128]
        assert db.count_pending(STAGES["perf_economy"], max_attempts=3) == 2
        # their scoreboard is stored: nothing left for the map stats stage
        assert list(db.iter_pending(STAGES["map_stats"], max_attempts=3)) == []
        first = next(db.iter_pending(STAGES["perf_economy"], max_attempts=3))
        assert (first.id, first.slug, first.team_names) == (162345, None, ("Outpost", "Kingsfall"))
    finally:
        db.close()


@pytest.mark.both_backends
def test_a_map_with_a_stored_kpr_is_done(database):
    seed_scoreboard(database, 188093)
    rows(database, "UPDATE player_stats SET kpr = 0.5 WHERE player_id = (SELECT min(player_id) FROM player_stats)")
    db = Database.open(database)
    try:
        assert list(db.iter_pending(STAGES["perf_economy"], max_attempts=3)) == []
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


@pytest.mark.both_backends
def test_add_maps_is_idempotent_and_refuses_contradictions(database):
    db = Database.open(database)
    try:
        assert db.add_maps([(1, 1, 100), (1, 2, 101)]) == (2, 0)
        assert db.add_maps([(1, 1, 100)]) == (0, 1)
        with pytest.raises(ValueError, match="contradicts"):
            db.add_maps([(1, 3, 102), (2, 1, 100)])
        assert [k.id for k in db.iter_pending(STAGES["map_stats"], max_attempts=3)] == [100, 101]
    finally:
        db.close()
    assert rows(database, "SELECT count(*) FROM maps") == [(2,)]


# -- leases ----------------------------------------------------------------------------


def claim(db: Database, worker: str, *, lease: float = 60, limit: int = 16, after: int = -1) -> list[int]:
    units = db.claim(STAGES["map_stats"], worker=worker, lease_seconds=lease, max_attempts=3, after=after, limit=limit)
    return [unit.id for unit in units]


@pytest.mark.both_backends
def test_a_claim_hands_each_unit_to_one_crawl(database):
    db, other = Database.open(database), Database.open(database)
    try:
        db.add_maps([(1, n, 100 + n) for n in range(1, 6)])
        assert claim(db, "a", limit=2) == [101, 102]
        assert claim(other, "b", limit=10) == [103, 104, 105]  # a's live leases are skipped
        assert claim(db, "a") == [] and claim(other, "b") == []
        assert {(r["worker"], r["units"]) for r in db.leases(STAGES.values())} == {("a", 2), ("b", 3)}
        assert 0 < db.foreign_lease_wait(STAGES["map_stats"], worker="a", max_attempts=3) <= 60
        # keyset: a crawl asks only for units after the last it was given
        db.release(STAGES["map_stats"], 101, worker="a")
        assert claim(db, "a", after=102) == [] and claim(db, "a") == [101]
    finally:
        db.close()
        other.close()


@pytest.mark.both_backends
def test_many_crawls_claiming_at_once_never_share_a_unit(database):
    setup = Database.open(database)
    setup.add_maps([(n, 1, 1000 + n) for n in range(200)])
    setup.close()
    claimed: dict[str, list[int]] = {}

    def crawl(worker: str) -> None:
        db = Database.open(database)
        try:
            mine = claimed.setdefault(worker, [])
            while batch := claim(db, worker, limit=3, after=mine[-1] if mine else -1):
                mine.extend(batch)
        finally:
            db.close()

    threads = [threading.Thread(target=crawl, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [unit for units in claimed.values() for unit in units]
    assert sorted(every) == list(range(1000, 1200))  # each unit once, none lost


@pytest.mark.both_backends
def test_an_expired_lease_may_be_claimed_by_another_crawl(database):
    db = Database.open(database)
    try:
        db.add_maps([(1, 1, 101)])
        assert claim(db, "dead", lease=60) == [101]
        assert claim(db, "alive") == []
        with db.transaction() as sql:  # the dead crawl's lease runs out
            sql.run("UPDATE maps SET lease_expires = lease_expires - 61 WHERE mapstatsid = 101")
        assert db.foreign_lease_wait(STAGES["map_stats"], worker="alive", max_attempts=3) == 0  # claim now
        assert claim(db, "alive") == [101]
        assert db.foreign_lease_wait(STAGES["map_stats"], worker="alive", max_attempts=3) is None
        # renewing keeps it; a renewal by the crawl that lost it changes nothing
        db.renew(STAGES["map_stats"], [101], worker="dead", lease_seconds=60)
        assert [(r["worker"], r["units"]) for r in db.leases(STAGES.values())] == [("alive", 1)]
    finally:
        db.close()


@pytest.mark.both_backends
def test_storing_failing_and_releasing_clear_the_lease(database):
    seed_scoreboard(database, 188093)
    db = Database.open(database)
    try:
        db.add_maps([(1, 1, 101), (1, 2, 102)])
        db.claim_named(STAGES["perf_economy"], [188093], worker="w", lease_seconds=60)
        assert claim(db, "w") == [101, 102]
        db.record_failure(STAGES["map_stats"], 101, failures=[("mapstats", "broken", None)], parser_version="t", worker="w")
        db.release(STAGES["map_stats"], 102, worker="w")
        pages = PerfEconomyPages(performance=parse_performance(load_page("performance-188093")),
                                 economy=parse_economy(load_page("economy-188093")))
        db.save(STAGES["perf_economy"], 188093, pages, parser_version="t", worker="w", check=check_perf_economy)
        assert db.leases(STAGES.values()) == []
    finally:
        db.close()
    assert rows(database, "SELECT mapstatsid, mapstats_attempts FROM maps WHERE match_id = 1 ORDER BY 1") == [(101, 1), (102, 0)]


@pytest.mark.both_backends
def test_a_unit_another_live_crawl_holds_is_not_written(database):
    seed_scoreboard(database, 188093)
    db = Database.open(database)
    try:
        db.claim_named(STAGES["perf_economy"], [188093], worker="holder", lease_seconds=60)
        pages = PerfEconomyPages(performance=parse_performance(load_page("performance-188093")),
                                 economy=parse_economy(load_page("economy-188093")))
        with pytest.raises(AlreadyStored):
            db.save(STAGES["perf_economy"], 188093, pages, parser_version="t", worker="late", check=check_perf_economy)
        assert [(r["worker"], r["units"]) for r in db.leases(STAGES.values())] == [("holder", 1)]
    finally:
        db.close()
    assert rows(database, "SELECT count(*) FROM economy") == [(0,)]


def test_a_password_never_appears_in_what_is_shown(postgres):
    url = postgres.new_database()
    password = url.split(":")[2].split("@")[0]
    db = Database.open(url)
    try:
        assert password not in db.location and "***" in db.location
        assert password not in repr(HltvConfig.from_settings(Settings({"HLTV_DB_URL": url})))
    finally:
        db.close()
    wrong = url.replace(password, "not-the-password")
    with pytest.raises(Exception) as refused:
        Database.open(wrong)
    assert "not-the-password" not in str(refused.value)


def test_a_postgresql_session_plans_without_jit(postgres):
    """The pending rules' cost estimates would set LLVM compiling longer than a count runs."""
    with Database.open(postgres.new_database()) as db:
        assert db.sql.value("SHOW jit") == "off"
        with db.transaction() as sql:  # the setting's own transaction is over
            assert sql.value("SHOW jit") == "off"


#: the tables 0007 stores clustered by their key, children after their parents
CLUSTERED = ("round_history", "economy", "player_stats", "kill_matrix", "vetoes", "lineups")


def test_a_database_stored_before_0007_keeps_every_row_and_reads_in_key_order(demo_sqlite, tmp_path):
    """0007 copies six tables into trees of their key: a database of the schema before it,
    holding the demo's rows, comes out with the same rows, every foreign key whole (the
    economy's names the new round history) and no rowid to jump through."""
    import sqlite3
    from contextlib import closing

    shipped = migrations("sqlite")
    before = next(version for version, name, _ in shipped if name.startswith("0007_")) - 1
    path = sqlite_at_version(tmp_path / "older.sqlite3", before)
    tables = [name for (name,) in sqlite3.connect(demo_sqlite).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rootpage")]
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("ATTACH DATABASE ? AS demo", (str(demo_sqlite),))
        for table in tables:  # parents first: the demo's tables in the order they were made
            connection.execute(f"DELETE FROM {table}")
            connection.execute(f"INSERT INTO {table} SELECT * FROM demo.{table}")
        connection.commit()
        assert "WITHOUT ROWID" not in connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'kill_matrix'").fetchone()[0]

    with Database.open(path) as db:
        assert db.applied == [name for _, name, _ in shipped[before:]]

    def content(database, table):
        with closing(sqlite3.connect(database)) as connection:
            key = key_of(connection, table)
            return connection.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()

    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        made = dict(connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    for table in CLUSTERED:
        assert made[table].rstrip().endswith("WITHOUT ROWID"), table
        assert f"{table}_new" not in made
        assert content(path, table) == content(demo_sqlite, table) != []
    assert 'REFERENCES "round_history"' in made["economy"]


def key_of(connection, table: str) -> str:
    """The primary key's columns of a SQLite table, in key order."""
    columns = connection.execute(f"PRAGMA table_info({table})").fetchall()
    return ", ".join(name for _, name, *_, pk in sorted(columns, key=lambda c: c[5]) if pk)
