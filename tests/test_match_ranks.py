"""The export's ``match_ranks``: each team of each match with its world rank and points in
the latest snapshot stored on or before the match's day, on SQLite and PostgreSQL, in
Parquet and DuckDB. What the files should hold is worked out here from the snapshots'
truth files and the matches' dates, not with the export's query."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from hltv_scraper.export import export_dataset, selection
from hltv_scraper.items import RankingPages
from hltv_scraper.parsers.ranking import parse_ranking
from hltv_scraper.storage import Database
from hltv_scraper.storage.rankings import write_rankings
from hltv_scraper.storage._sql import Stamp
from tests.support.pages import load_expected, load_page

SNAPSHOTS = ["ranking-2025-11-17", "ranking-2025-11-24", "ranking-2025-12-01"]
TRUTHS = {load_expected(name)["ranking_date"]: load_expected(name) for name in SNAPSHOTS}
COLUMNS = ["match_id", "team_id", "ranking_date", "rank", "points"]
UNRANKED = 999_999


def team_ids(date: str) -> set[int]:
    return {team["team_id"] for team in TRUTHS[date]["teams"]}


def matches() -> list[tuple[int, str | None, int | None, int | None]]:
    """``(match_id, date, team1_id, team2_id)``: days between, on and before snapshots."""
    first, second, third = (sorted(team_ids(date)) for date in sorted(TRUTHS))
    dropped = sorted(team_ids("2025-11-17") - team_ids("2025-11-24"))
    new = [t["team_id"] for t in TRUTHS["2025-12-01"]["teams"] if t["is_new"]]
    assert dropped and new, "the fixtures rank a team one week and not the next, and new teams"
    return [
        (1, "2025-11-20 15:00", first[0], first[1]),  # between two snapshots: the earlier
        (2, "2025-11-24 09:00", second[2], second[3]),  # on a Monday: that Monday's
        (3, "2025-11-16 23:59", first[0], first[1]),  # before the first snapshot: none
        (4, "2025-12-05 18:30", new[0], UNRANKED),  # a new team; an unranked one: no row
        (5, "2025-11-30 12:00", dropped[0], second[0]),  # ranked the week before, not in this one
        (6, None, first[0], first[1]),  # no date yet: none
        (7, "2026-03-01 12:00", third[0], None),  # long after the last: the last
    ]


def expected_rows() -> list[dict]:
    rows = []
    for match_id, day, *teams in matches():
        before = [date for date in sorted(TRUTHS) if day and date <= day[:10]]
        if not before:
            continue
        ranked = {t["team_id"]: t for t in TRUTHS[before[-1]]["teams"]}
        for team_id in sorted(t for t in teams if t in ranked):
            rows.append({"match_id": match_id, "team_id": team_id, "ranking_date": before[-1],
                         "rank": ranked[team_id]["rank"], "points": ranked[team_id]["points"]})
    return rows


def seeded(database: Path | str) -> Path | str:
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            sql.many(
                "INSERT INTO matches (match_id, date, team1_id, team2_id, scraped_at, updated_at) "
                "VALUES (:match_id, :date, :team1_id, :team2_id, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
                [{"match_id": m, "date": d, "team1_id": t1, "team2_id": t2} for m, d, t1, t2 in matches()],
            )
            for name in SNAPSHOTS:
                write_rankings(sql, None, RankingPages(parse_ranking(load_page(name))),
                               now="2026-01-05T10:00:00+00:00", parser_version="t", check=None, stamp=Stamp())
            # a snapshot row the walk has found but not stored yet is no snapshot
            sql.run("INSERT INTO ranking_snapshots (ranking_date, ranking_id, scraped_at, updated_at) "
                    "VALUES ('2025-12-08', 20251208, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')")
    finally:
        db.close()
    return database


def export(database: Path | str, out: Path, file_format: str) -> dict[str, int]:
    db = Database.open(database)
    try:
        result = export_dataset(db, out, file_format=file_format,
                                rows=selection(include_incomplete=True), batch_rows=3)
    finally:
        db.close()
    return result.files


@pytest.mark.slow
@pytest.mark.both_backends
def test_match_ranks_in_parquet_and_duckdb(database, tmp_path):
    seeded(database)
    want = expected_rows()
    assert {row["match_id"] for row in want} == {1, 2, 4, 5, 7}

    files = export(database, tmp_path / "parquet", "parquet")
    table = pq.read_table(tmp_path / "parquet" / "match_ranks.parquet")
    assert table.column_names == COLUMNS
    assert table.to_pylist() == want
    assert files["match_ranks.parquet"] == len(want)

    export(database, tmp_path / "duckdb", "duckdb")
    with duckdb.connect(str(tmp_path / "duckdb" / "hltv.duckdb"), read_only=True) as db:
        got = db.sql("SELECT * FROM match_ranks ORDER BY match_id, team_id").fetchall()
        types = dict(db.sql("SELECT column_name, column_type FROM (DESCRIBE match_ranks)").fetchall())
    assert [dict(zip(COLUMNS, row)) for row in got] == want
    assert types == {"match_id": "BIGINT", "team_id": "BIGINT", "ranking_date": "VARCHAR",
                     "rank": "BIGINT", "points": "BIGINT"}


def test_a_complete_only_export_takes_the_ranks_of_complete_matches_only(tmp_path):
    database = seeded(tmp_path / "hltv.sqlite3")
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            sql.run("INSERT INTO maps (match_id, map_number, perf_economy_at, scraped_at, updated_at) "
                    "VALUES (2, 1, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')")
        export_dataset(db, tmp_path / "out", file_format="parquet", rows=selection())
    finally:
        db.close()
    got = pq.read_table(tmp_path / "out" / "match_ranks.parquet").to_pylist()
    assert got == [row for row in expected_rows() if row["match_id"] == 2] and len(got) == 2
