"""Parser versions in the database: what migration 0003 finds in a database that had none,
and attempts counted per version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from hltv_scraper.storage._schema import (
    _set_version,
    _statements,
    begin,
    commit,
    connect,
    database_url,
    migrate,
    migrations,
)
from hltv_scraper.storage._sql import Sql
from tests.support.seed import is_postgres, rows

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

pytestmark = pytest.mark.both_backends


def database_at_version_2(database) -> Connection:
    """A connection to a new database migrated to version 2 only (before parser versions)."""
    url = database_url(url=str(database), path="") if is_postgres(database) else database_url(url=None, path=database)
    connection = connect(url)
    for version, name, script in migrations(connection.dialect.name)[:2]:
        begin(connection)
        for statement in _statements(script):
            connection.exec_driver_sql(statement)
        _set_version(connection, version, name)
        commit(connection)
    return connection


def test_migration_0003_finds_the_versions_that_stored_and_failed_each_unit(database):
    connection = database_at_version_2(database)
    try:
        sql = Sql(connection)
        now = {"now": "2025-01-01T00:00:00+00:00"}
        sql.run("INSERT INTO matches (match_id, match_page_at, match_attempts, parser_version, scraped_at, "
                "updated_at) VALUES (1, :now, 0, '1.0.0', :now, :now), (2, NULL, 2, NULL, :now, :now)", now)
        sql.run("INSERT INTO maps (match_id, map_number, mapstatsid, mapstats_at, perf_economy_at, parser_version, "
                "perf_attempts, mapstats_attempts, scraped_at, updated_at) VALUES "
                "(1, 1, 11, :now, :now, '1.0.0', 0, 0, :now, :now), (1, 2, 12, :now, NULL, '0.9.0', 3, 0, :now, :now)",
                now)
        sql.run("INSERT INTO kill_matrix (match_id, map_number, matrix_type, player1_id, player2_id, player1_kills, "
                "player2_kills, scraped_at, updated_at, parser_version) "
                "VALUES (1, 1, 'all', 5, 6, 1, 2, :now, :now, '1.0.5')", now)
        sql.run("INSERT INTO failures (stage, unit_id, mapstatsid, page, reason, parser_version, failed_at) VALUES "
                "('perf_economy', 12, 12, 'economy', 'old', '0.8.0', :now), "
                "('perf_economy', 12, 12, 'economy', 'newer', '0.9.0', :now), "
                "('matches', 2, NULL, 'match', 'broken', '1.0.0', :now)", now)
        assert migrate(connection)[0] == "0003_parser_versions.sql"
    finally:
        connection.close()

    assert rows(database, "SELECT match_id, match_page_version, match_attempts_version FROM matches ORDER BY 1") == [
        (1, "1.0.0", None), (2, None, "1.0.0")]
    # map 12's three attempts were counted under the version of its latest failure
    assert rows(database, "SELECT mapstatsid, mapstats_version, perf_economy_version, perf_attempts_version, "
                          "mapstats_attempts_version FROM maps ORDER BY 1") == [
        (11, "1.0.0", "1.0.5", None, None), (12, "0.9.0", None, "0.9.0", None)]


def test_a_failure_under_another_version_starts_the_count_again(database):
    db = Database.open(database)
    try:
        db.add_maps([(1, 1, 11)])
        for version in ("1.0", "1.0", "1.0", "2.0", "2.0"):
            db.record_failure(STAGES["map_stats"], 11, failures=[("mapstats", "broken", None)], parser_version=version)
            if version == "1.0":
                counted = rows(database, "SELECT mapstats_attempts FROM maps")[0][0]
        assert counted == 3
        assert rows(database, "SELECT mapstats_attempts, mapstats_attempts_version FROM maps") == [(2, "2.0")]
        assert db.count_pending(STAGES["map_stats"], max_attempts=3, parser_version="2.0") == 1
        assert db.count_pending(STAGES["map_stats"], max_attempts=2, parser_version="2.0") == 0
        assert db.count_pending(STAGES["map_stats"], max_attempts=2, parser_version="3.0") == 1
    finally:
        db.close()


# -- 1.2.0: demo ids ------------------------------------------------------------------------


def test_migration_0004_adds_a_demo_id_that_is_null_for_stored_matches(database):
    connection = database_at_version_2(database)
    try:
        for version, name, script in migrations(connection.dialect.name)[2:3]:
            begin(connection)
            for statement in _statements(script):
                connection.exec_driver_sql(statement)
            _set_version(connection, version, name)
            commit(connection)
        Sql(connection).run("INSERT INTO matches (match_id, match_page_at, scraped_at, updated_at) "
                            "VALUES (7, 'then', 'then', 'then')")
        assert migrate(connection)[0] == "0004_demo_ids.sql"
    finally:
        connection.close()
    assert rows(database, "SELECT match_id, demo_id FROM matches") == [(7, None)]
    rows(database, "UPDATE matches SET demo_id = 9876543210 WHERE match_id = 7")  # an INTEGER wide enough
    assert rows(database, "SELECT demo_id FROM matches") == [(9876543210,)]


MATCH = 2366498


def save_match(database, *, demo_id=..., parser_version="t") -> None:
    from hltv_scraper.items import MatchPages
    from hltv_scraper.parsers.match import parse_match
    from hltv_scraper.validation import check_match
    from tests.support.pages import load_page

    page = parse_match(load_page(f"match-{MATCH}"))
    if demo_id is not ...:
        page.demo_id = demo_id  # the parsers' field; set here whether or not it exists yet
    elif hasattr(page, "demo_id"):
        page.demo_id = None
    with Database.open(database) as db:
        db.add_matches([(MATCH, None)])
        db.save(STAGES["matches"], MATCH, MatchPages(page), parser_version=parser_version, check=check_match)


def test_the_match_writer_stores_the_demo_id(database):
    save_match(database, demo_id=80123)
    assert rows(database, "SELECT demo_id FROM matches WHERE match_id = ?", MATCH) == [(80123,)]
    save_match(database)  # a re-parse of a page that links no demo
    assert rows(database, "SELECT demo_id FROM matches WHERE match_id = ?", MATCH) == [(None,)]


def test_the_demo_id_version_makes_matches_stale_and_gives_failed_maps_their_attempts_back(database):
    from hltv_scraper.parsers import current_parser_version

    assert current_parser_version() == "1.2.0"
    save_match(database, parser_version="1.1.0")
    with Database.open(database) as db:
        mapstatsids = sorted(r["mapstatsid"] for r in db.sql.all("SELECT mapstatsid FROM maps WHERE mapstatsid IS NOT NULL"))
        assert mapstatsids
        for _ in range(3):  # an MR15 map the old parser refused, out of attempts
            db.record_failure(STAGES["map_stats"], mapstatsids[0], parser_version="1.1.0",
                              failures=[("mapstats", "round 22 has outcome icons ['emptyHistory', 'emptyHistory']", None)])
        assert db.count_pending(STAGES["map_stats"], max_attempts=3, parser_version="1.1.0") == len(mapstatsids) - 1
        assert db.count_pending(STAGES["map_stats"], max_attempts=3, parser_version=current_parser_version()) == len(mapstatsids)
        assert [u.id for u in db.claim(STAGES["map_stats"], worker="w", lease_seconds=60, max_attempts=3,
                                       parser_version=current_parser_version())] == mapstatsids
        # the stored match is stale: -a reparse=stale refills its demo id
        assert db.count_pending(STAGES["matches"], max_attempts=3, parser_version=current_parser_version(), stale=True) == 1
        assert db.count_pending(STAGES["matches"], max_attempts=3, parser_version="1.1.0", stale=True) == 0
