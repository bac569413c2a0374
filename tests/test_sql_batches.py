"""Sql.insert and Sql.update store many rows as a statement per row would, on both
databases (on PostgreSQL they go as one JSON array in one statement)."""

from __future__ import annotations

import pytest

from hltv_scraper.storage import Database, ValidationError
from tests.support.seed import rows, seed_scoreboard

MAP = 188093
TEXTS = ["plain", "it's \"quoted\"", "back\\slash", "two\nlines", "ünïcødé ✓", "", None]


@pytest.mark.both_backends
def test_inserted_rows_come_back_as_they_were_given(database):
    seed_scoreboard(database, MAP)
    with Database.open(database) as db, db.transaction() as sql:
        sql.insert(
            "corrections",
            [{"row_key": f"r{n}", "old_value": text, "new_value": str(n)} for n, text in enumerate(TEXTS)],
            same={"stage": "s", "unit": "u", "table_name": "t", "column_name": "c", "seen_at": "now",
                  "parser_version": None},
        )
    stored = rows(database, "SELECT stage, unit, table_name, row_key, column_name, old_value, new_value, "
                            "seen_at, parser_version FROM corrections ORDER BY correction_id")
    assert stored == [("s", "u", "t", f"r{n}", "c", text, str(n), "now", None) for n, text in enumerate(TEXTS)]


@pytest.mark.both_backends
def test_a_column_of_nulls_only_is_stored_as_nulls_in_every_row(database):
    with Database.open(database) as db, db.transaction() as sql:
        sql.insert("failures", [{"unit_id": 1, "url": None}, {"unit_id": 2, "url": None}],
                   same={"stage": "s", "page": "p", "reason": "r", "failed_at": "now"})
        sql.insert("failures", [{"url": None}, {"url": None}, {"url": None}],
                   same={"unit_id": 3, "stage": "s", "page": "p", "reason": "r", "failed_at": "now"})
    assert rows(database, "SELECT unit_id, url FROM failures ORDER BY failure_id") == [
        (1, None), (2, None), (3, None), (3, None), (3, None)]


@pytest.mark.both_backends
def test_updated_rows_take_their_values_and_the_later_of_two_rows_with_one_key_wins(database):
    truth = seed_scoreboard(database, MAP)
    match_id, map_number = truth["match"]["match_id"], truth["match"]["map_number"]
    first, second, *others = [p["player_id"] for p in truth["players"]]
    with Database.open(database) as db, db.transaction() as sql:
        sql.update(
            "player_stats",
            [{"player_id": first, "kpr": 0.1 + 0.2, "impact": None},
             {"player_id": second, "kpr": 1e-7, "impact": 1.5},
             {"player_id": first, "kpr": 2 / 3, "impact": 0.25}],
            key=("match_id", "map_number", "player_id"),
            same={"match_id": match_id, "map_number": map_number, "updated_at": "later"},
        )
    stored = dict(((player, (kpr, impact, updated)) for player, kpr, impact, updated in rows(
        database, "SELECT player_id, kpr, impact, updated_at FROM player_stats WHERE match_id = ? AND "
                  "map_number = ?", match_id, map_number)))
    assert stored[first] == (2 / 3, 0.25, "later")
    assert stored[second] == (1e-7, 1.5, "later")
    assert all(stored[player][2] != "later" for player in others)  # rows not named stay as they were


@pytest.mark.both_backends
def test_a_number_too_large_for_its_column_stores_none_of_the_rows(database):
    seed_scoreboard(database, MAP)
    with Database.open(database) as db:
        with pytest.raises(ValidationError, match="too large"), db.transaction() as sql:
            sql.insert("failures", [{"unit_id": 1, "reason": "fine"}, {"unit_id": 2**63, "reason": "too big"}],
                       same={"stage": "s", "page": "p", "failed_at": "now"})
    assert rows(database, "SELECT count(*) FROM failures") == [(0,)]
