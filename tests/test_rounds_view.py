"""The exported ``rounds`` view against the fixture truths: every round of every demo map
in its half, with its sides, pistol flag, score before it and both teams' economy, on
SQLite and PostgreSQL, in the DuckDB file and the Parquet files; and the same from round
histories read off the 2022 map stats template.

What each row should hold is worked out here from the truth files only (the regulation
the generator played, the sides the economy page shows, the winners in order), not from
the view's own logic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.storage import Database
from tests.support.dataset import copy_sqlite, demo_maps
from tests.support.pages import load_expected, load_page
from tests.test_export import export

OTHER = {"CT": "T", "T": "CT"}
#: the maps whose 2022 map stats page the fixtures hold (MR15, MR12 overtime, MR12)
OLD_TEMPLATE = [162345, 206389, 173424, 219128]


def truth_rows(mapstatsid: int) -> list[dict[str, Any]]:
    """The rows of ``rounds`` the truth file of a map says, in round order."""
    truth = load_expected(mapstatsid)
    match = truth["match"]
    team1, team2 = match["team1_id"], match["team2_id"]
    regulation = {"MR12": 24, "MR15": 30}[truth["regulation"]]
    economy = {(e["round_number"], e["team_id"]): e for e in truth["economy"]}
    score = {team1: 0, team2: 0}
    rows = []
    for r in truth["rounds"]:
        n = r["round_number"]
        if n <= regulation:
            half = 1 if n <= regulation // 2 else 2
        else:
            half = 3 + (n - regulation - 1) // 3
        winner_side = r["winner_side"]
        team1_side = winner_side if r["winner_team_id"] == team1 else OTHER[winner_side]
        e1, e2 = economy.get((n, team1)), economy.get((n, team2))
        for e, side in ((e1, team1_side), (e2, OTHER[team1_side])):
            assert e is None or e["side"] == side, (mapstatsid, n)  # the economy page agrees
        rows.append({
            "match_id": match["match_id"], "map_number": match["map_number"], "mapstatsid": mapstatsid,
            "round_number": n, "half": half, "is_pistol": n in (1, regulation // 2 + 1),
            "regulation_rounds": regulation,
            "team1_id": team1, "team1_name": match["team1_name"], "team1_side": team1_side,
            "team2_id": team2, "team2_name": match["team2_name"], "team2_side": OTHER[team1_side],
            "team1_score_before": score[team1], "team2_score_before": score[team2],
            "winner_team_id": r["winner_team_id"], "winner_side": winner_side, "win_type": r["win_type"],
            "team1_equipment_value": e1 and e1["equipment_value"], "team1_buy_type": e1 and e1["buy_type"],
            "team2_equipment_value": e2 and e2["equipment_value"], "team2_buy_type": e2 and e2["buy_type"],
        })
        score[r["winner_team_id"]] += 1
    assert (score[team1], score[team2]) == (match["team1_rounds"], match["team2_rounds"])
    return rows


def exported_rounds(out: Path, file_format: str) -> list[dict[str, Any]]:
    if file_format == "duckdb":
        with duckdb.connect(str(out / "hltv.duckdb"), read_only=True) as db:
            return db.sql("SELECT * FROM rounds ORDER BY match_id, map_number, round_number").to_arrow_table().to_pylist()
    return pq.read_table(out / "rounds.parquet").to_pylist()


def assert_rounds_as_the_truths_say(rows: list[dict[str, Any]]) -> None:
    by_map: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_map.setdefault(row["mapstatsid"], []).append(row)
    assert sorted(by_map) == sorted(m for _, _, m in demo_maps())
    for mapstatsid, got in by_map.items():
        want = truth_rows(mapstatsid)
        assert len(got) == len(want) == load_expected(mapstatsid)["total_rounds"], mapstatsid
        for g, w in zip(got, want):
            assert g == w, (mapstatsid, g["round_number"])


@pytest.mark.slow
@pytest.mark.both_backends
@pytest.mark.parametrize("file_format", ["duckdb", "parquet"])
def test_every_round_of_every_map_as_the_fixture_truths_say(demo_database, tmp_path, file_format):
    out = tmp_path / "export"

    result = export(demo_database, out, file_format)

    rows = exported_rounds(out, file_format)
    assert len(rows) == result.files["hltv.duckdb:rounds" if file_format == "duckdb" else "rounds.parquet"]
    assert list(rows[0]) == [
        "match_id", "map_number", "mapstatsid", "round_number", "half", "is_pistol", "regulation_rounds",
        "team1_id", "team1_name", "team1_side", "team2_id", "team2_name", "team2_side",
        "team1_score_before", "team2_score_before", "winner_team_id", "winner_side", "win_type",
        "team1_equipment_value", "team1_buy_type", "team2_equipment_value", "team2_buy_type",
    ]
    assert_rounds_as_the_truths_say(rows)
    # what the demo has: an MR15 map, MR12 overtime whose economy page stops at 24
    mr15 = [r for r in rows if r["mapstatsid"] == 162345]
    assert {r["regulation_rounds"] for r in mr15} == {30}
    assert [r["round_number"] for r in mr15 if r["is_pistol"]] == [1, 16]
    overtime = [r for r in rows if r["mapstatsid"] == 206389]
    assert [r["half"] for r in overtime[24:]] == [3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]
    assert {r["team1_buy_type"] for r in overtime[24:]} == {None} != {r["team1_buy_type"] for r in overtime[:24]}
    assert (overtime[-1]["team1_score_before"], overtime[-1]["team2_score_before"]) == (18, 17)


@pytest.mark.slow
def test_round_histories_of_the_2022_template_give_the_same_rounds(demo_sqlite, tmp_path):
    """The 2022 map stats page lays its round history out otherwise (an MR15 map's 30
    slots in one row per team, overtime in a second container): stored as the map stats
    stage stores it, the view says the same of every round."""
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            for mapstatsid in OLD_TEMPLATE:
                match = load_expected(mapstatsid)["match"]
                key = {"m": match["match_id"], "n": match["map_number"]}
                sql.run("UPDATE round_history SET winner_side = NULL, winner_team_id = NULL, win_type = NULL "
                        "WHERE match_id = :m AND map_number = :n", key)
                rounds = parse_mapstats(load_page(f"old-mapstats-{mapstatsid}")).rounds
                assert len(rounds) == load_expected(mapstatsid)["total_rounds"]
                sql.many("UPDATE round_history SET winner_side = :side, winner_team_id = :team, win_type = :how "
                         "WHERE match_id = :m AND map_number = :n AND round_number = :r",
                         [{**key, "r": r.round_number, "side": r.winner_side, "team": r.winner_team_id,
                           "how": r.win_type} for r in rounds])
    finally:
        db.close()

    export(database, tmp_path / "out", "parquet")

    assert_rounds_as_the_truths_say(exported_rounds(tmp_path / "out", "parquet"))


@pytest.mark.slow
def test_a_round_without_a_known_winner_takes_its_half_from_the_others(demo_sqlite, tmp_path):
    """A side holds for a half: a round whose winner is not known (NULL) still has both
    teams' sides, the half and the pistol flag, in regulation and in overtime; the score
    before the next round counts it for no one."""
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    match = load_expected(206389)["match"]
    unknown = (1, 13, 14, 26, 36)
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            for n in unknown:
                sql.run("UPDATE round_history SET winner_side = NULL, winner_team_id = NULL "
                        "WHERE match_id = :m AND map_number = :n AND round_number = :r",
                        {"m": match["match_id"], "n": match["map_number"], "r": n})
    finally:
        db.close()

    export(database, tmp_path / "out", "parquet")

    got = [r for r in exported_rounds(tmp_path / "out", "parquet") if r["mapstatsid"] == 206389]
    want = truth_rows(206389)
    for g, w in zip(got, want):
        for name in ("half", "is_pistol", "regulation_rounds", "team1_side", "team2_side"):
            assert g[name] == w[name], (g["round_number"], name)
    assert [g["winner_team_id"] for g in got if g["round_number"] in unknown] == [None] * len(unknown)
    # round 1's winner unknown (the truth: team 2): round 2 starts 0-0, not 0-1
    assert (want[1]["team1_score_before"], want[1]["team2_score_before"]) == (0, 1)
    assert (got[1]["team1_score_before"], got[1]["team2_score_before"]) == (0, 0)


@pytest.mark.slow
def test_a_map_stopped_before_half_time_has_no_regulation_length_but_its_first_half(demo_sqlite, tmp_path):
    """No round shows the sides switching: MR12 or MR15 is not known, so
    ``regulation_rounds`` is NULL; rounds 1-12 are the first half either way."""
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    match = load_expected(219128)["match"]
    key = {"m": match["match_id"], "n": match["map_number"]}
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            for table in ("economy", "round_history"):
                sql.run(f"DELETE FROM {table} WHERE match_id = :m AND map_number = :n AND round_number > 10", key)
    finally:
        db.close()

    export(database, tmp_path / "out", "parquet")

    got = [r for r in exported_rounds(tmp_path / "out", "parquet") if r["mapstatsid"] == 219128]
    want = truth_rows(219128)[:10]
    assert [r["round_number"] for r in got] == list(range(1, 11))
    assert {r["regulation_rounds"] for r in got} == {None}
    assert [(r["half"], r["is_pistol"]) for r in got] == [(1, n == 1) for n in range(1, 11)]
    for g, w in zip(got, want):
        for name in ("team1_side", "team2_side", "team1_score_before", "team2_score_before", "team1_buy_type"):
            assert g[name] == w[name], (g["round_number"], name)
