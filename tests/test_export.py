"""``scrapy export``: the demo dataset written as Parquet, CSV and JSON lines and read back
value by value against the database; which rows --since, --until, --changed-since and
--include-incomplete select; empty databases; bad folders; exports that fail halfway.

What the files should hold is worked out here from the database's rows in Python (the
joins and filters too), not with the export's own queries.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hltv_scraper.export as export_module
from hltv_scraper.export import ExportError, export_dataset, selection
from hltv_scraper.storage import Database
from tests.support.crawl import database_settings
from tests.support.dataset import (
    KEYS, MAP_TABLES, MAP_VIEWS, MATCH_TABLES, SNAPSHOT_TABLES, VIEWS, copy_sqlite, demo_maps, table_rows,
)
from tests.support.pages import load_expected

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("parquet", "csv", "jsonl", "duckdb")
TABLES = [*KEYS, *VIEWS]
PROVENANCE = ("scraped_at", "updated_at", "source_url", "parser_version")
SMALL_BATCHES = 97  # pages through every table of the demo more than once, off any round number


def export(database: Path | str, out: Path, file_format: str = "parquet", batch_rows: int = SMALL_BATCHES,
           **options: Any):
    db = Database.open(database)
    try:
        return export_dataset(db, out, file_format=file_format, rows=selection(**options), batch_rows=batch_rows)
    finally:
        db.close()


def read_back(path: Path, file_format: str) -> tuple[list[str] | None, list[dict[str, Any]]]:
    """The file's columns (None: JSON lines have none of their own) and rows; for DuckDB,
    ``path`` is ``DIR/hltv.duckdb/TABLE``: that table of the file."""
    if file_format == "duckdb":
        with duckdb.connect(str(path.parent), read_only=True) as connection:
            table = connection.table(path.name).to_arrow_table()
        return table.column_names, table.to_pylist()
    if file_format == "parquet":
        table = pq.read_table(path)
        return table.column_names, table.to_pylist()
    if file_format == "csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            return header, [dict(zip(header, row, strict=True)) for row in reader]
    lines = path.read_text("utf-8").splitlines()
    return None, [json.loads(line) for line in lines]


def rendered(value: Any, file_format: str) -> Any:
    """A database value (as its meaning) as the file holds it."""
    if file_format in ("parquet", "duckdb"):
        return value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if file_format == "jsonl":
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


# -- what the files should hold ---------------------------------------------------------


def expected(
    database: Path | str, *, complete_only: bool = True, since: date | None = None,
    until: date | None = None, changed_since: datetime | None = None,
) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    everything = {table: table_rows(database, table) for table in KEYS}
    complete = {(m["match_id"], m["map_number"]) for m in everything["maps"][1] if m["perf_economy_at"]}
    matches = {m["match_id"]: m for m in everything["matches"][1]}

    def day(match_id: int) -> date | None:
        ms = matches[match_id]["date_unix_ms"] or matches[match_id]["completed_unix_ms"]
        return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc).date()

    def taken(table: str, row: dict[str, Any]) -> bool:
        if table in SNAPSHOT_TABLES:
            return True  # no match's: every stored snapshot
        if complete_only and table in MAP_TABLES and (row["match_id"], row["map_number"]) not in complete:
            return False
        if complete_only and table not in MAP_TABLES and row["match_id"] not in {m for m, _ in complete}:
            return False
        if since and not (day(row["match_id"]) and day(row["match_id"]) >= since):
            return False
        if until and not (day(row["match_id"]) and day(row["match_id"]) <= until):
            return False
        return True

    # a complete-only export takes, as changed, the rows of maps completed since
    completed_since = {(m["match_id"], m["map_number"]) for m in everything["maps"][1]
                       if changed_since and m["perf_economy_at"] and m["perf_economy_at"] > changed_since}

    def changed(table: str, row: dict[str, Any]) -> bool:
        if not changed_since or row["updated_at"] > changed_since:
            return True
        if not complete_only or table in SNAPSHOT_TABLES:
            return False
        if table in MAP_TABLES:
            return (row["match_id"], row["map_number"]) in completed_since
        return row["match_id"] in {m for m, _ in completed_since}

    maps = {(m["match_id"], m["map_number"]): m for m in everything["maps"][1]}
    files = {}
    for table, (names, rows) in everything.items():
        if table in MAP_TABLES and table != "maps":  # the map's stats id after its number
            at = names.index("map_number") + 1
            names = [*names[:at], "mapstatsid", *names[at:]]
            rows = [{n: r["mapstatsid"] if n == "mapstatsid" else r[n] for n in names}
                    for r in ({**r, "mapstatsid": maps[r["match_id"], r["map_number"]]["mapstatsid"]}
                              for r in rows)]
        files[table] = (names, [r for r in rows if taken(table, r) and changed(table, r)])
    players = [p for p in everything["player_stats"][1] if taken("player_stats", p)]
    rows = [player_map(p, maps[p["match_id"], p["map_number"]], matches[p["match_id"]]) for p in players]
    if changed_since:
        rows = [r for r in rows if r["updated_at"] > changed_since]
    files["player_maps"] = (list(rows[0]) if rows else [], rows)

    def changed_view(map_key: tuple[int, int], *parts: dict[str, Any] | None) -> bool:
        """A view's row is changed when one of the rows it is made of is, or (complete
        only) its map completed since."""
        if not changed_since:
            return True
        if any(part is not None and part["updated_at"] > changed_since for part in parts):
            return True
        return complete_only and map_key in completed_since

    economy = {(e["match_id"], e["map_number"], e["round_number"], e["team_id"]): e
               for e in everything["economy"][1]}
    rounds = []
    for r in everything["round_history"][1]:
        match, key = matches[r["match_id"]], (r["match_id"], r["map_number"])
        sides = [economy.get((*key, r["round_number"], match[f"team{n}_id"])) for n in (1, 2)]
        if not taken("round_history", r) or sides == [None, None] or not changed_view(key, r, match, *sides):
            continue
        rounds.append(economy_round(r, maps[key], match, *sides))
    files["economy_rounds"] = (list(rounds[0]) if rounds else [], rounds)

    by_map: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in everything["round_history"][1]:
        by_map.setdefault((r["match_id"], r["map_number"]), []).append(r)
    rounds = []
    for key, played in by_map.items():
        match = matches[key[0]]
        if not taken("round_history", played[0]):
            continue
        for row, r in zip(map_rounds(played, maps[key], match, economy), played):
            sides = [economy.get((*key, r["round_number"], match[f"team{n}_id"])) for n in (1, 2)]
            if changed_view(key, *played, match, *sides):
                rounds.append(row)
    files["rounds"] = (list(rounds[0]) if rounds else [], rounds)

    stats = {(p["match_id"], p["map_number"], p["player_id"]): p for p in everything["player_stats"][1]}
    pairs = []
    for k in everything["kill_matrix"][1]:
        key = (k["match_id"], k["map_number"])
        one, other = stats.get((*key, k["player1_id"])), stats.get((*key, k["player2_id"]))
        if taken("kill_matrix", k) and changed_view(key, k, one, other):
            pairs += kill_pairs(k, maps[key], one, other)
    files["kill_pairs"] = (list(pairs[0]) if pairs else [], pairs)
    files["match_ranks"] = match_ranks(database, taken, changed)
    return files


def match_ranks(database: Path | str, taken, changed) -> tuple[list[str], list[dict[str, Any]]]:
    """Each team of each match with the latest stored snapshot on or before the match's
    day, worked out from the rows (the demo stores none: no row)."""
    db = Database.open(database)
    try:
        snapshots = sorted(r[0] for r in db.sql.result(
            "SELECT ranking_date FROM ranking_snapshots WHERE ranking_at IS NOT NULL"))
        ranked = {(r.ranking_date, r.team_id): r for r in db.sql.result(
            "SELECT ranking_date, team_id, rank, points, updated_at FROM team_rankings")}
        matches = list(db.sql.result("SELECT match_id, date, team1_id, team2_id, updated_at FROM matches"))
    finally:
        db.close()
    rows = []
    for match in sorted(matches, key=lambda m: m.match_id):
        day = match.date and match.date[:10]
        before = [s for s in snapshots if day and s <= day]
        for team_id in sorted({match.team1_id, match.team2_id} - {None}):
            ranking = before and ranked.get((before[-1], team_id))
            if not ranking:
                continue
            row = {"match_id": match.match_id, "team_id": team_id, "ranking_date": ranking.ranking_date,
                   "rank": ranking.rank, "points": ranking.points}
            updated = datetime.strptime(max(match.updated_at, ranking.updated_at), "%Y-%m-%dT%H:%M:%S%z")
            if taken("matches", row) and changed("matches", {**row, "updated_at": updated}):
                rows.append(row)
    return (list(rows[0]) if rows else [], rows)


def economy_round(r: dict, game: dict, match: dict, team1: dict | None, team2: dict | None) -> dict[str, Any]:
    """One row of economy_rounds, from the round, its map and match, and each team's economy."""
    row = {"match_id": r["match_id"], "map_number": r["map_number"], "mapstatsid": game["mapstatsid"],
           "round_number": r["round_number"]}
    for n, economy in ((1, team1), (2, team2)):
        row |= {f"team{n}_id": match[f"team{n}_id"], f"team{n}_name": match[f"team{n}_name"],
                **{f"team{n}_{c}": economy and economy[c] for c in ("equipment_value", "buy_type", "side")}}
    return row | {c: r[c] for c in ("winner_team_id", "winner_side", "win_type")}


OTHER_SIDE = {"CT": "T", "T": "CT", None: None}


def map_rounds(played: list[dict], game: dict, match: dict, economy: dict) -> list[dict[str, Any]]:
    """The rows of ``rounds`` of one map, from its round history (in round order), the
    map, the match and the economy rows by (match, map, round, team)."""
    team1, team2 = match["team1_id"], match["team2_id"]
    seen = {r["round_number"]: r["winner_side"] if r["winner_team_id"] == team1 else
            OTHER_SIDE[r["winner_side"]] if r["winner_team_id"] == team2 else None for r in played}
    known = [n for n in sorted(seen) if seen[n]]
    # MR12 switches sides after round 12, MR15 after 15: which one rounds 13-15 say
    switch = next((n for n in known if seen[n] != seen[known[0]]), None)
    regulation = None if switch is None else 24 if switch <= 15 else 30

    def half(n: int) -> int | None:
        if regulation is None:
            return 1 if n <= 12 else None
        return 1 if n <= regulation // 2 else 2 if n <= regulation else 3 + (n - regulation - 1) // 3

    side_of_half = {}
    for n in known:
        side_of_half.setdefault(half(n), seen[n])
    score = {team1: 0, team2: 0}
    rows = []
    for r in played:
        n = r["round_number"]
        side = side_of_half.get(half(n))
        key = (r["match_id"], r["map_number"], n)
        e1, e2 = economy.get((*key, team1)), economy.get((*key, team2))
        rows.append({
            "match_id": r["match_id"], "map_number": r["map_number"], "mapstatsid": game["mapstatsid"],
            "round_number": n, "half": half(n),
            "is_pistol": n == 1 or (regulation is not None and n == regulation // 2 + 1)
            if regulation is not None or n <= 12 else None,
            "regulation_rounds": regulation,
            "team1_id": team1, "team1_name": match["team1_name"], "team1_side": side,
            "team2_id": team2, "team2_name": match["team2_name"], "team2_side": OTHER_SIDE[side],
            "team1_score_before": score[team1], "team2_score_before": score[team2],
            **{c: r[c] for c in ("winner_team_id", "winner_side", "win_type")},
            "team1_equipment_value": e1 and e1["equipment_value"], "team1_buy_type": e1 and e1["buy_type"],
            "team2_equipment_value": e2 and e2["equipment_value"], "team2_buy_type": e2 and e2["buy_type"],
        })
        if r["winner_team_id"] in score:
            score[r["winner_team_id"]] += 1
    return rows


def kill_pairs(k: dict, game: dict, one: dict | None, other: dict | None) -> list[dict[str, Any]]:
    """The two rows of kill_pairs of one kill_matrix row: the row player as killer, then as victim."""
    head = {"match_id": k["match_id"], "map_number": k["map_number"], "mapstatsid": game["mapstatsid"],
            "matrix_type": k["matrix_type"]}

    def pair(killer: int, killer_row: dict | None, victim: int, victim_row: dict | None, kills: int) -> dict:
        return {**head, "killer_id": killer, "killer_name": killer_row and killer_row["player_name"],
                "killer_team_id": killer_row and killer_row["team_id"], "victim_id": victim,
                "victim_name": victim_row and victim_row["player_name"],
                "victim_team_id": victim_row and victim_row["team_id"], "kills": kills}

    return [pair(k["player1_id"], one, k["player2_id"], other, k["player1_kills"]),
            pair(k["player2_id"], other, k["player1_id"], one, k["player2_kills"])]


def player_map(player: dict, game: dict, match: dict) -> dict[str, Any]:
    """One row of player_maps, worked out from the three rows it joins."""
    assert player["team_id"] in (match["team1_id"], match["team2_id"])
    us, them = ("team1", "team2") if player["team_id"] == match["team1_id"] else ("team2", "team1")
    side = game["team1_starting_side"]
    scoreboard = {k: v for k, v in player.items()
                  if k not in ("match_id", "map_number", "player_id", "player_name", "team_id", *PROVENANCE)}
    return {
        "match_id": player["match_id"], "map_number": player["map_number"], "mapstatsid": game["mapstatsid"],
        "date": match["date"], "event_id": match["event_id"], "event_name": match["event_name"],
        "stage": match["stage"], "best_of": match["best_of"], "is_lan": match["is_lan"],
        "map_name": game["map_name"], "player_id": player["player_id"], "player_name": player["player_name"],
        "team_id": player["team_id"], "team_name": match[f"{us}_name"], "team_rank": match[f"{us}_rank"],
        "opponent_id": match[f"{them}_id"], "opponent_name": match[f"{them}_name"],
        "opponent_rank": match[f"{them}_rank"], "won": game[f"{us}_rounds"] > game[f"{them}_rounds"],
        "team_rounds": game[f"{us}_rounds"], "opponent_rounds": game[f"{them}_rounds"],
        "rounds": game["team1_rounds"] + game["team2_rounds"],
        **{f"{who}_{half}_rounds": game[f"{team}_{half}_rounds"]
           for who, team in (("team", us), ("opponent", them)) for half in ("ct", "t", "ot")},
        "team_starting_side": side if us == "team1" else {"CT": "T", "T": "CT"}[side],
        **scoreboard,
        "updated_at": max(player["updated_at"], game["updated_at"], match["updated_at"]),
    }


def file_name(table: str, file_format: str) -> str:
    """The name the export reports the table under (DuckDB: ``hltv.duckdb:table``)."""
    return f"hltv.duckdb:{table}" if file_format == "duckdb" else f"{table}.{file_format}"


def assert_files_hold(out: Path, file_format: str, files: dict, result) -> None:
    assert list(result.files) == [file_name(table, file_format) for table in TABLES]
    if file_format == "duckdb":
        assert sorted(p.name for p in out.iterdir()) == ["hltv.duckdb"]
    for table, (names, rows) in files.items():
        got_names, got_rows = read_back(out / file_name(table, file_format).replace(":", "/"), file_format)
        if got_names is not None and rows:
            assert got_names == names, table
        assert result.files[file_name(table, file_format)] == len(rows), table
        want = [{k: rendered(v, file_format) for k, v in row.items()} for row in rows]
        for n, (got, wanted) in enumerate(zip(got_rows, want)):
            assert got == wanted, f"{table} row {n}"
        assert len(got_rows) == len(want), table


# -- round trip ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.both_backends
@pytest.mark.parametrize("file_format", FORMATS)
def test_every_value_and_null_comes_back(demo_database, tmp_path, file_format):
    out = tmp_path / "export"

    result = export(demo_database, out, file_format)

    files = expected(demo_database)
    assert_files_hold(out, file_format, files, result)
    complete_maps = len(files["maps"][1])
    assert complete_maps == len(demo_maps()) == 10
    assert len(files["player_maps"][1]) == 10 * complete_maps
    if file_format != "duckdb":
        assert sorted(p.name for p in out.iterdir()) == sorted(result.files)  # no leftovers
    # the demo has what this test is about: NULLs, flags, both rating versions, vetoes
    stats = files["player_stats"][1]
    assert any(p["impact"] is None for p in stats) and any(p["impact"] is not None for p in stats)
    assert {m["is_lan"] for m in files["matches"][1]} == {True, False}
    assert files["vetoes"][1] and files["lineups"][1]


def test_parquet_columns_have_proper_types(demo_sqlite, tmp_path):
    export(demo_sqlite, tmp_path / "out")

    def schema(table: str) -> pa.Schema:
        return pq.read_schema(tmp_path / "out" / f"{table}.parquet")

    utc_ms = pa.timestamp("ms", tz="UTC")
    assert schema("matches").field("date").type == utc_ms
    assert schema("matches").field("date_unix_ms").type == pa.int64()
    assert schema("matches").field("is_lan").type == pa.bool_()
    assert schema("maps").field("perf_economy_at").type == utc_ms
    assert schema("economy").field("won").type == pa.bool_()
    assert schema("economy").field("equipment_value").type == pa.int64()
    stats = pq.read_table(tmp_path / "out" / "player_stats.parquet")
    assert stats.schema.field("kast").type == pa.float64()
    # integers stay integers when some are NULL (rating 2.0 maps have no eco-adjusted kills)
    assert stats.schema.field("e_kills").type == pa.int64()
    assert 0 < stats.column("e_kills").null_count < stats.num_rows
    assert {"lease_worker", "lease_expires", "perf_attempts"}.isdisjoint(schema("maps").names)
    player_maps = schema("player_maps")
    assert player_maps.field("won").type == pa.bool_() and player_maps.field("date").type == utc_ms


# -- DuckDB against the fixture truths ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.both_backends
def test_the_duckdb_file_holds_every_table_and_view_as_the_fixture_truths_say(demo_database, tmp_path):
    out = tmp_path / "export"

    result = export(demo_database, out, "duckdb")

    assert sorted(p.name for p in out.iterdir()) == ["hltv.duckdb"]  # written aside, renamed in
    with duckdb.connect(str(out / "hltv.duckdb"), read_only=True) as db:
        assert sorted(name for (name,) in db.sql("SHOW TABLES").fetchall()) == sorted(TABLES)
        for table in TABLES:
            (count,), = db.sql(f"SELECT count(*) FROM {table}").fetchall()
            assert count == result.files[f"hltv.duckdb:{table}"], table
        match_teams = dict(((m, (t1, t2)) for m, t1, t2 in
                            db.sql("SELECT match_id, team1_id, team2_id FROM matches").fetchall()))
        for match_id, map_number, mapstatsid in demo_maps():
            truth = load_expected(mapstatsid)
            map_key = {"i": mapstatsid}
            # the map's stats id on every per-map table and view, on every row of the map
            for table in (*MAP_TABLES, *MAP_VIEWS):
                (ids,), = db.execute(f"SELECT list(DISTINCT mapstatsid) FROM {table} "
                                     "WHERE match_id = ? AND map_number = ?", [match_id, map_number]).fetchall()
                assert ids == [mapstatsid], table
            players = {p["player_id"]: p for p in truth["players"]}
            assert db.execute("SELECT DISTINCT rounds FROM player_maps WHERE mapstatsid = $i",
                              map_key).fetchall() == [(truth["total_rounds"],)]
            # kill_pairs: both directions of every cell of every matrix, names and teams
            want = set()
            for cell in truth["kill_matrix"]:
                one, other = players[cell["player1_id"]], players[cell["player2_id"]]
                for killer, victim, kills in ((one, other, cell["player1_kills"]),
                                              (other, one, cell["player2_kills"])):
                    want.add((cell["matrix_type"], killer["player_id"], killer["player_name"], killer["team_id"],
                              victim["player_id"], victim["player_name"], victim["team_id"], kills))
            got = db.execute("SELECT matrix_type, killer_id, killer_name, killer_team_id, victim_id, victim_name, "
                             "victim_team_id, kills FROM kill_pairs WHERE mapstatsid = $i", map_key).fetchall()
            assert len(got) == 2 * len(truth["kill_matrix"]) == len(set(got))
            assert set(got) == want
            # economy_rounds: both teams of every round the economy page shows, in the
            # match's team order, the winner from the round history
            economy = {(e["round_number"], e["team_id"]): e for e in truth["economy"]}
            winners = {r["round_number"]: r for r in truth["rounds"]}
            team1, team2 = match_teams[match_id]
            rows = db.execute("SELECT * FROM economy_rounds WHERE mapstatsid = $i ORDER BY round_number",
                              map_key).fetch_df().to_dict("records")
            assert [r["round_number"] for r in rows] == sorted({n for n, _ in economy})
            assert len(rows) == truth["economy_round_count"]
            for row in rows:
                number = row["round_number"]
                for n, team in ((1, team1), (2, team2)):
                    e = economy[number, team]
                    assert (row[f"team{n}_id"], row[f"team{n}_name"], row[f"team{n}_equipment_value"],
                            row[f"team{n}_buy_type"], row[f"team{n}_side"]) == (
                        team, e["team_name"], e["equipment_value"], e["buy_type"], e["side"]), (mapstatsid, number)
                won = winners[number]
                assert (row["winner_team_id"], row["winner_side"], row["win_type"]) == (
                    won["winner_team_id"], won["winner_side"], won["win_type"])
                assert economy[number, won["winner_team_id"]]["won"]


@pytest.mark.slow
def test_duckdb_tables_have_the_parquet_files_types(demo_sqlite, tmp_path):
    export(demo_sqlite, tmp_path / "parquet")
    export(demo_sqlite, tmp_path / "duckdb", "duckdb")

    with duckdb.connect(str(tmp_path / "duckdb" / "hltv.duckdb"), read_only=True) as db:
        for table in TABLES:
            parquet = str(tmp_path / "parquet" / f"{table}.parquet")
            from_parquet = db.execute("DESCRIBE SELECT * FROM read_parquet(?)", [parquet]).fetchall()
            assert db.sql(f"DESCRIBE {table}").fetchall() == from_parquet, table
        types = dict(db.sql("SELECT column_name, column_type FROM (DESCRIBE matches)").fetchall())
    assert types["date"] == "TIMESTAMP WITH TIME ZONE" and types["is_lan"] == "BOOLEAN"
    assert types["match_id"] == "BIGINT"


@pytest.mark.slow
def test_scrapy_export_duckdb_replaces_the_file_of_the_last_run(demo_sqlite, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "hltv.duckdb").write_bytes(b"yesterday's")

    done = scrapy("export", "--format", "duckdb", "--out", str(out), database=demo_sqlite)

    assert done.returncode == 0, done.stderr
    assert "hltv.duckdb:kill_pairs" in done.stdout and "1500 rows" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["hltv.duckdb"]
    with duckdb.connect(str(out / "hltv.duckdb"), read_only=True) as db:
        assert db.sql("SELECT count(*) FROM kill_pairs").fetchall() == [(1500,)]


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["parquet", "duckdb"])
def test_matches_carry_their_demo_id(demo_sqlite, tmp_path, file_format):
    """``matches.demo_id`` (migration 0004) is exported as it is stored: set on one
    match, NULL on the others."""
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    match_id = demo_maps()[0][0]
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            if "demo_id" not in sql.result("SELECT * FROM matches LIMIT 0").keys():
                sql.run("ALTER TABLE matches ADD COLUMN demo_id INTEGER")  # before migration 0004
            sql.run("UPDATE matches SET demo_id = NULL")
            sql.run("UPDATE matches SET demo_id = 95012 WHERE match_id = :m", {"m": match_id})
    finally:
        db.close()
    out = tmp_path / "out"

    result = export(database, out, file_format)

    assert_files_hold(out, file_format, expected(database), result)
    _, matches = read_back(out / file_name("matches", file_format).replace(":", "/"), file_format)
    assert {m["match_id"]: m["demo_id"] for m in matches} == {
        m: 95012 if m == match_id else None for m in {m for m, _, _ in demo_maps()}}


# -- which rows ---------------------------------------------------------------------------


def match_days(database) -> dict[int, date]:
    """The start day of each match with a complete map (the others are not exported)."""
    complete = {match_id for match_id, _, _ in demo_maps()}
    _, matches = table_rows(database, "matches")
    return {m["match_id"]: m["date"].date() for m in matches if m["match_id"] in complete}


@pytest.mark.slow
def test_since_and_until_select_whole_utc_days_of_the_match_date(demo_sqlite, tmp_path):
    days = sorted(set(match_days(demo_sqlite).values()))
    assert len(days) >= 4
    windows = [
        (days[1], days[-2]),            # both ends on a match's day: both matches in
        (days[1] + timedelta(days=1), None),  # the day after a match: that match out
        (None, days[0]),                # up to the first match's day: only it
        (days[-1] + timedelta(days=1), None),  # after every match: nothing
    ]
    for n, (since, until) in enumerate(windows):
        out = tmp_path / f"window{n}"
        result = export(demo_sqlite, out, "jsonl", since=since and since.isoformat(),
                        until=until and until.isoformat())
        files = expected(demo_sqlite, since=since, until=until)
        assert_files_hold(out, "jsonl", files, result)
        wanted = {m for m, d in match_days(demo_sqlite).items()
                  if (since is None or d >= since) and (until is None or d <= until)}
        assert {row["match_id"] for row in read_back(out / "player_maps.jsonl", "jsonl")[1]} == wanted
    assert not expected(demo_sqlite, since=windows[3][0])["matches"][1]
    assert len(expected(demo_sqlite, until=days[0])["matches"][1]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["parquet", "duckdb"])
def test_changed_since_takes_only_rows_updated_after_it(demo_sqlite, tmp_path, file_format):
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    (match_a, map_a, _), (match_b, map_b, _) = demo_maps()[0], demo_maps()[1]
    later = "2030-01-02T00:00:00+00:00"
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            sql.run("UPDATE maps SET updated_at = :t WHERE match_id = :m AND map_number = :n",
                    {"t": later, "m": match_a, "n": map_a})
            player = sql.value("SELECT min(player_id) FROM player_stats WHERE match_id = :m AND map_number = :n",
                               {"m": match_b, "n": map_b})
            sql.run("UPDATE player_stats SET updated_at = :t WHERE match_id = :m AND map_number = :n "
                    "AND player_id = :p", {"t": later, "m": match_b, "n": map_b, "p": player})
            sql.run("UPDATE vetoes SET updated_at = :t WHERE match_id = :m AND step = 1", {"t": later, "m": match_b})
    finally:
        db.close()

    for given, changed in [
        ("2030-01-01", True),
        ("2030-01-01T23:59:59Z", True),
        ("2030-01-02T01:00:00+02:00", True),   # 23:00 UTC
        ("2030-01-02T00:00:00Z", False),       # not later than itself
        ("2030-01-02", False),
    ]:
        out = tmp_path / given.replace(":", "-")
        result = export(database, out, file_format, changed_since=given)
        threshold = datetime.fromisoformat(given.replace("Z", "+00:00"))
        if threshold.tzinfo is None:
            threshold = threshold.replace(tzinfo=timezone.utc)
        files = expected(database, changed_since=threshold)
        assert_files_hold(out, file_format, files, result)
        counts = {table: len(rows) for table, (_, rows) in files.items()}
        if changed:
            # kill_pairs: the pairs of that player (their name comes from the row): five
            # opponents, three matrices, both directions
            assert counts == {**dict.fromkeys(TABLES, 0), "maps": 1, "player_stats": 1, "vetoes": 1,
                              "player_maps": 10 + 1, "kill_pairs": 5 * 3 * 2}
        else:
            assert set(counts.values()) == {0}


def test_a_map_completed_after_an_export_brings_its_older_rows_to_the_next(demo_sqlite, tmp_path):
    """Its match, veto, lineups and round history were written before it was complete,
    and left out then: the next incremental export must take them, not only the rows
    the perf_economy write touched."""
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    match_id, map_number, _ = demo_maps()[0]
    before, completed = "2030-01-01T00:00:00+00:00", "2030-01-02T00:00:00+00:00"
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            for table in KEYS:
                sql.run(f"UPDATE {table} SET updated_at = :t", {"t": before})
            sql.run("UPDATE maps SET perf_economy_at = :t WHERE perf_economy_at IS NOT NULL", {"t": before})
            # as the perf_economy write does: the map and its performance and economy rows
            for table in ("maps", "player_stats", "economy", "kill_matrix"):
                sql.run(f"UPDATE {table} SET updated_at = :t WHERE match_id = :m AND map_number = :n",
                        {"t": completed, "m": match_id, "n": map_number})
            sql.run("UPDATE maps SET perf_economy_at = :t WHERE match_id = :m AND map_number = :n",
                    {"t": completed, "m": match_id, "n": map_number})
    finally:
        db.close()
    out = tmp_path / "next"

    result = export(database, out, "parquet", changed_since="2030-01-01T12:00:00Z")

    files = expected(database, changed_since=datetime(2030, 1, 1, 12, tzinfo=timezone.utc))
    assert_files_hold(out, "parquet", files, result)
    for table in (*MATCH_TABLES, "round_history"):
        rows = files[table][1]
        assert rows and {r["match_id"] for r in rows} == {match_id}, table
    assert {(r["match_id"], r["map_number"]) for r in files["round_history"][1]} == {(match_id, map_number)}
    # and the next run starts a minute early: writes committing while this one read
    assert datetime.fromisoformat(result.as_of) - datetime.fromisoformat(result.next_changed_since) == timedelta(minutes=1)


@pytest.mark.slow
def test_only_complete_maps_unless_include_incomplete(demo_sqlite, tmp_path):
    database = copy_sqlite(demo_sqlite, tmp_path / "db" / "hltv.sqlite3")
    match_id, map_number, _ = demo_maps()[3]
    db = Database.open(database)
    try:
        with db.transaction() as sql:  # performance and economy not stored (yet): not complete
            sql.run("UPDATE maps SET perf_economy_at = NULL WHERE match_id = :m AND map_number = :n",
                    {"m": match_id, "n": map_number})
    finally:
        db.close()

    complete = export(database, tmp_path / "complete", "csv")
    everything = export(database, tmp_path / "all", "csv", include_incomplete=True)

    assert_files_hold(tmp_path / "complete", "csv", expected(database), complete)
    assert_files_hold(tmp_path / "all", "csv", expected(database, complete_only=False), everything)
    assert complete.files["player_maps.csv"] == 90 and everything.files["player_maps.csv"] == 100
    # the demo's matches have unplayed and forfeited maps besides the ten complete ones
    assert complete.files["maps.csv"] == 9 and everything.files["maps.csv"] > 10
    assert 0 < complete.files["economy.csv"] < everything.files["economy.csv"]


# -- edges ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("file_format", FORMATS)
def test_an_empty_database_gives_empty_files_with_headers(tmp_path, file_format):
    database = tmp_path / "empty.sqlite3"

    result = export(database, tmp_path / "out", file_format)

    assert result.files == {file_name(table, file_format): 0 for table in TABLES}
    for table in TABLES:
        path = tmp_path / "out" / f"{table}.{file_format}"
        first = "ranking_date" if table in SNAPSHOT_TABLES else "match_id"
        if file_format == "duckdb":
            names, rows = read_back(tmp_path / "out" / "hltv.duckdb" / table, "duckdb")
            assert rows == [] and names[0] == first
        elif file_format == "parquet":
            read = pq.read_table(path)
            assert read.num_rows == 0 and read.column_names[0] == first
        elif file_format == "csv":
            lines = path.read_text("utf-8").splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"{first},")
        else:
            assert path.read_bytes() == b""
    if file_format == "parquet":
        assert pq.read_schema(tmp_path / "out" / "player_maps.parquet").names[:3] == [
            "match_id", "map_number", "mapstatsid"]


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder nothing can be created in (root ignores permissions: /sys refuses it)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").mkdir()
    except PermissionError:
        return folder
    (folder / "probe").rmdir()
    return Path("/sys")


def test_an_out_that_cannot_be_a_folder_is_a_clear_error_and_nothing_is_written(demo_sqlite, tmp_path):
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    read_only = unwritable_folder(tmp_path)
    before = sorted(read_only.iterdir()) if read_only != Path("/sys") else None

    with pytest.raises(ExportError, match="is a file, not a folder"):
        export(demo_sqlite, a_file)
    with pytest.raises(ExportError, match="cannot write to --out"):
        export(demo_sqlite, a_file / "below")
    with pytest.raises(ExportError, match="cannot write to --out"):
        export(demo_sqlite, read_only)

    assert a_file.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["read-only", "taken.txt"]
    if before is not None:
        assert sorted(read_only.iterdir()) == before


def test_an_export_failing_halfway_leaves_nothing_half_written(demo_sqlite, tmp_path, monkeypatch):
    real = export_module.read_batches

    def failing(db, table, selected, **kwargs):
        if table.name == "kill_matrix":
            raise OSError("disk full")
        return real(db, table, selected, **kwargs)

    monkeypatch.setattr(export_module, "read_batches", failing)
    fresh = tmp_path / "new" / "nested" / "export"
    with pytest.raises(OSError, match="disk full"):
        export(demo_sqlite, fresh)
    assert not (tmp_path / "new").exists()  # the folders it made are gone too
    with pytest.raises(OSError, match="disk full"):
        export(demo_sqlite, fresh, "duckdb")  # the database file half loaded, closed and removed
    assert not (tmp_path / "new").exists()

    shared = tmp_path / "shared"

    def another_export_meanwhile(db, table, selected, **kwargs):
        (shared / "other").mkdir(exist_ok=True)
        return failing(db, table, selected, **kwargs)

    monkeypatch.setattr(export_module, "read_batches", another_export_meanwhile)
    with pytest.raises(OSError, match="disk full"):
        export(demo_sqlite, shared / "mine")
    assert [p.name for p in shared.iterdir()] == ["other"]  # ours gone, theirs kept

    used = tmp_path / "used"
    used.mkdir()
    (used / "maps.parquet").write_bytes(b"yesterday's export")
    with pytest.raises(OSError, match="disk full"):
        export(demo_sqlite, used)
    assert [p.name for p in used.iterdir()] == ["maps.parquet"]
    assert (used / "maps.parquet").read_bytes() == b"yesterday's export"


@pytest.mark.parametrize(("options", "message"), [
    ({"since": "2024-13-01"}, "--since must be a day as YYYY-MM-DD"),
    ({"until": "yesterday"}, "--until must be a day as YYYY-MM-DD"),
    ({"since": "2024-05-02", "until": "2024-05-01"}, "is after --until"),
    ({"changed_since": "last tuesday"}, "--changed-since must be a day or an ISO-8601 time"),
])
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(ExportError, match=message):
        selection(**options)


# -- the command ----------------------------------------------------------------------------


def scrapy(*args: str, database: Path | str) -> subprocess.CompletedProcess:
    settings = [item for name, value in database_settings(database).items() for item in ("-s", f"{name}={value}")]
    return subprocess.run([sys.executable, "-m", "scrapy", *args, *settings],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_scrapy_export_writes_the_files_and_says_what_to_append_with(demo_sqlite, tmp_path):
    out = tmp_path / "export"

    done = scrapy("export", "--format", "csv", "--out", str(out), database=demo_sqlite)

    assert done.returncode == 0, done.stderr
    assert "player_maps.csv" in done.stdout and "100 rows" in done.stdout
    assert "Next incremental export: --changed-since 20" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in TABLES)

    refused = [
        scrapy("export", "--out", str(tmp_path / "x"), "--changed-since", "soon", database=demo_sqlite),
        scrapy("export", "--out", str(tmp_path / "x"), "--format", "xlsx", database=demo_sqlite),
        scrapy("export", "--out", str(out / "player_maps.csv"), database=demo_sqlite),
    ]
    for done, message in zip(refused, ["--changed-since must be", "--format must be one of", "is a file"]):
        assert done.returncode != 0
        assert message in done.stdout + done.stderr
    assert not (tmp_path / "x").exists()
    assert os.path.getsize(out / "player_maps.csv") > 0
