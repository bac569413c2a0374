"""The README's "Six questions, one query each", run as written against the demo's export.

Each ``<!-- example: NAME -->`` in the README is followed by a DuckDB query (run on the
demo's ``hltv.duckdb``) and a pandas block (run on the demo's Parquet files, the README's
``data/demo/export/`` pointed at this test's export); both answers are checked against
the answer worked out here from the fixture truths, not from the export.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hltv_scraper.export import export_dataset, selection
from hltv_scraper.storage import Database
from tests.support.pages import MAPSTATSIDS, load_expected

README = Path(__file__).resolve().parent.parent / "README.md"
DEMO_EXPORT = "data/demo/export/"
EXAMPLES = ("adr", "buy_types", "head_to_head", "pistols", "eco_conversion", "halves")
#: the two players of the README's head-to-head example
PAIR = (14347, 14094)


def examples() -> dict[str, tuple[str, str]]:
    """``name -> (the SQL, the Python)`` of each example in the README."""
    text = README.read_text("utf-8")
    found = {}
    for marker in re.finditer(r"<!-- example: (\w+) -->", text):
        sql = re.compile(r"```sql\n(.*?)```", re.S).search(text, marker.end())
        python = re.compile(r"```python\n(.*?)```", re.S).search(text, sql.end())
        found[marker.group(1)] = (sql.group(1), python.group(1))
    return found


@pytest.fixture(scope="module")
def exported(demo_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("readme") / "export"
    db = Database.open(demo_sqlite)
    try:
        for file_format in ("parquet", "duckdb"):
            export_dataset(db, out, file_format=file_format, rows=selection())
    finally:
        db.close()
    return out


def run_sql(exported: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(exported / "hltv.duckdb"), read_only=True) as db:
        result = db.sql(sql)
        names = result.columns
        return [dict(zip(names, row)) for row in result.fetchall()]


def run_python(exported: Path, code: str) -> list[dict[str, Any]]:
    """The block run as written (but for where the files are); its last assignment's
    value, as rows."""
    tree = ast.parse(code)
    result = next(node for node in reversed(tree.body) if isinstance(node, ast.Assign)).targets[0].id
    namespace: dict[str, Any] = {}
    exec(compile(code.replace(DEMO_EXPORT, f"{exported}/"), "README.md", "exec"), namespace)
    return namespace[result].reset_index().to_dict("records")


# -- the answers, from the fixture truths ------------------------------------------------


def truth_adr() -> dict[int, tuple[str, float, int]]:
    damage: dict[int, float] = defaultdict(float)
    rounds: dict[int, int] = defaultdict(int)
    names = {}
    for mapstatsid in MAPSTATSIDS:
        truth = load_expected(mapstatsid)
        for player in (p for p in truth["players"] if p["adr"] is not None):  # "-": not known
            damage[player["player_id"]] += player["adr"] * truth["total_rounds"]
            rounds[player["player_id"]] += truth["total_rounds"]
            names[player["player_id"]] = player["player_name"]
    return {p: (names[p], damage[p] / rounds[p], rounds[p]) for p in damage}


def truth_buy_types() -> dict[tuple[str, str], tuple[int, float]]:
    rounds: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for mapstatsid in MAPSTATSIDS:
        by_round: dict[int, list[dict]] = defaultdict(list)
        for row in load_expected(mapstatsid)["economy"]:
            by_round[row["round_number"]].append(row)
        for one, other in (pair for pair in by_round.values()):
            for us, them in ((one, other), (other, one)):
                rounds[us["buy_type"], them["buy_type"]].append(us["won"])
    return {key: (len(won), sum(won) / len(won)) for key, won in rounds.items()}


def pistol_rounds(truth: dict) -> tuple[int, int]:
    """The first rounds of the two regulation halves of the truth's map."""
    return 1, {"MR12": 13, "MR15": 16}[truth["regulation"]]


def truth_pistols() -> dict[int, tuple[str, int, float]]:
    won: dict[int, list[bool]] = defaultdict(list)
    names = {}
    for mapstatsid in MAPSTATSIDS:
        truth = load_expected(mapstatsid)
        match = truth["match"]
        for r in (r for r in truth["rounds"] if r["round_number"] in pistol_rounds(truth)):
            for n in (1, 2):
                team = match[f"team{n}_id"]
                names[team] = match[f"team{n}_name"]
                won[team].append(r["winner_team_id"] == team)
    return {team: (names[team], len(w), sum(w) / len(w)) for team, w in won.items()}


def truth_eco_conversion() -> dict[tuple[str, str], tuple[int, float]]:
    rounds: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for mapstatsid in MAPSTATSIDS:
        truth = load_expected(mapstatsid)
        by_round: dict[int, list[dict]] = defaultdict(list)
        for row in truth["economy"]:
            if row["round_number"] not in pistol_rounds(truth):
                by_round[row["round_number"]].append(row)
        for one, other in by_round.values():
            for us, them in ((one, other), (other, one)):
                if us["buy_type"] in ("full_eco", "semi_eco"):
                    rounds[us["buy_type"], them["buy_type"]].append(us["won"])
    return {key: (len(won), sum(won) / len(won)) for key, won in rounds.items()}


def truth_head_to_head() -> dict[tuple[str, str], tuple[int, int]]:
    kills: dict[tuple[int, int], list[int]] = defaultdict(list)
    names = {}
    for mapstatsid in MAPSTATSIDS:
        truth = load_expected(mapstatsid)
        names |= {p["player_id"]: p["player_name"] for p in truth["players"]}
        for cell in truth["kill_matrix"]:
            if cell["matrix_type"] == "all" and {cell["player1_id"], cell["player2_id"]} == set(PAIR):
                kills[cell["player1_id"], cell["player2_id"]].append(cell["player1_kills"])
                kills[cell["player2_id"], cell["player1_id"]].append(cell["player2_kills"])
    return {(names[a], names[b]): (sum(k), len(k)) for (a, b), k in kills.items()}


# -- the examples --------------------------------------------------------------------------


def test_the_readme_has_each_example_in_duckdb_and_pandas():
    found = examples()
    assert sorted(found) == sorted(EXAMPLES)
    for name, (sql, python) in found.items():
        assert sql.count(";") == 1, f"{name}: one query"
        assert "pd.read_parquet" in python, name


@pytest.mark.slow
@pytest.mark.parametrize("language", ["sql", "python"])
def test_round_weighted_adr_per_player(exported, language):
    sql, python = examples()["adr"]
    rows = run_sql(exported, sql) if language == "sql" else run_python(exported, python)

    truth = truth_adr()
    assert len(rows) == len(truth) > 10  # one row per player (a substitute too)
    for row in rows:
        name, adr, rounds = truth[row["player_id"]]
        assert (row["player_name"], row["rounds"]) == (name, rounds)
        assert row["adr"] == pytest.approx(adr)
    assert [r["adr"] for r in rows] == sorted((r["adr"] for r in rows), reverse=True)
    # weighted by rounds, not the mean of the maps' ADRs (the two differ on the demo)
    assert any(r["rounds"] > 40 for r in rows)


@pytest.mark.parametrize("language", ["sql", "python"])
def test_win_rate_by_buy_type_against_the_opponent_s(exported, language):
    sql, python = examples()["buy_types"]
    rows = run_sql(exported, sql) if language == "sql" else run_python(exported, python)

    truth = truth_buy_types()
    got = {(r["buy_type"], r["opponent_buy_type"]): (r["rounds"], r["win_rate"]) for r in rows}
    assert got.keys() == truth.keys()
    for key, (rounds, rate) in truth.items():
        assert got[key][0] == rounds, key
        assert got[key][1] == pytest.approx(rate), key
    # every round seen from both teams: all rounds of the economy pages, twice
    assert sum(n for n, _ in got.values()) == sum(len(load_expected(m)["economy"]) for m in MAPSTATSIDS)
    # a round won by one side is lost by the other: the rates of a pairing and its
    # mirror add up to one
    for (us, them), (rounds, rate) in got.items():
        assert got[them, us][0] == rounds and rate + got[them, us][1] == pytest.approx(1)


@pytest.mark.parametrize("language", ["sql", "python"])
def test_head_to_head_kills_of_two_players(exported, language):
    sql, python = examples()["head_to_head"]
    rows = run_sql(exported, sql) if language == "sql" else run_python(exported, python)

    got = {(r["killer_name"], r["victim_name"]): (r["kills"], r["maps"]) for r in rows}
    assert got == truth_head_to_head()
    assert got == {("rEk4", "Kaiis"): (9, 3), ("Kaiis", "rEk4"): (12, 3)}


@pytest.mark.parametrize("language", ["sql", "python"])
def test_pistol_round_win_rate_per_team(exported, language):
    sql, python = examples()["pistols"]
    rows = run_sql(exported, sql) if language == "sql" else run_python(exported, python)

    truth = truth_pistols()
    got = {r["team_id"]: (r["team_name"], r["pistol_rounds"], r["win_rate"]) for r in rows}
    assert got.keys() == truth.keys()
    for team, (name, rounds, rate) in truth.items():
        assert got[team][:2] == (name, rounds), team
        assert got[team][2] == pytest.approx(rate), team
    # two pistol rounds a map, each seen from both teams; the MR15 map's second is round 16
    assert sum(n for _, n, _ in got.values()) == 2 * 2 * len(MAPSTATSIDS)
    assert [r["win_rate"] for r in rows] == sorted((r["win_rate"] for r in rows), reverse=True)


@pytest.mark.parametrize("language", ["sql", "python"])
def test_eco_round_conversion_without_pistol_rounds(exported, language):
    sql, python = examples()["eco_conversion"]
    rows = run_sql(exported, sql) if language == "sql" else run_python(exported, python)

    truth = truth_eco_conversion()
    got = {(r["buy_type"], r["opponent_buy_type"]): (r["rounds"], r["win_rate"]) for r in rows}
    assert got.keys() == truth.keys()
    for key, (rounds, rate) in truth.items():
        assert got[key][0] == rounds, key
        assert got[key][1] == pytest.approx(rate), key
    # pistol rounds are full_eco for both teams by their value (docs/data.md says so):
    # counted, they would add every team's two pistol rounds a map to full_eco
    pistols = [e for m in MAPSTATSIDS for truth in [load_expected(m)] for e in truth["economy"]
               if e["round_number"] in pistol_rounds(truth)]
    assert len(pistols) == 2 * 2 * len(MAPSTATSIDS) and {e["buy_type"] for e in pistols} == {"full_eco"}
    full_eco = sum(n for (buy, _), (n, _) in got.items() if buy == "full_eco")
    assert full_eco == sum(n for (buy, _), (n, _) in truth.items() if buy == "full_eco") > 0


@pytest.mark.parametrize("language", ["sql", "python"])
def test_the_score_by_half(exported, language):
    sql, python = examples()["halves"]
    rows = run_sql(exported, sql) if language == "sql" else run_python(exported, python)

    by_map: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_map[row["mapstatsid"]].append(row)
    assert sorted(by_map) == sorted(MAPSTATSIDS)
    for mapstatsid, halves in by_map.items():
        match = load_expected(mapstatsid)["match"]
        regulation, overtime = halves[:2], halves[2:]
        assert [h["half"] for h in halves] == list(range(1, len(halves) + 1))
        assert {h["team1_side"] for h in regulation} == {"CT", "T"}
        # HLTV's own split of the score: team 1's CT and T rounds, and overtime
        for side in ("CT", "T"):
            half = next(h for h in regulation if h["team1_side"] == side)
            assert (half["team1_rounds"], half["team2_rounds"]) == (
                match[f"team1_{side.lower()}_rounds"], match[f"team2_{'t' if side == 'CT' else 'ct'}_rounds"])
        assert (sum(h["team1_rounds"] for h in overtime), sum(h["team2_rounds"] for h in overtime)) == (
            match["team1_ot_rounds"], match["team2_ot_rounds"])
    assert len(by_map[206389]) == 6  # 19-17: two overtimes of two halves
