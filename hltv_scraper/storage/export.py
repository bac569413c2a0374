"""Reading the dataset out for ``scrapy export``: each table and the analysis views, in batches.

The views are ``player_maps`` (one row per player and map), ``economy_rounds`` (one row
per round of the economy page, both teams side by side in the match's team order, with
the round's winner), ``rounds`` (one row per round of the round history, in its context:
half, sides, pistol, score before it and both teams' economy), ``kill_pairs`` (one row
per ordered pair of opponents and kill matrix: both directions) and ``match_ranks`` (each
team of a match with its world rank on the match's day). Every per-map table carries the
map's ``mapstatsid``.

Batches follow the primary key (``WHERE key > last ORDER BY key LIMIT n``) rather than
one long cursor: psycopg's ordinary cursor holds a whole result in memory, and keyset
pages read through the key's index the same way on SQLite and PostgreSQL, so memory
stays flat however large the database is. A view that is one statement with windows
over whole maps (``rounds``) is read in one ordered pass instead, streamed in batches
(a server-side cursor on PostgreSQL): keyset pages would compute its windows again from
each page to the end. Read them inside :func:`snapshot` and every file of one export
shows the same moment, while crawls go on writing.

What a column holds (an integer, a real, text, a 0/1 flag, a timestamp) is read from the
schema itself, so a column a later migration adds is exported without a change here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.types import Float, Integer, Numeric

from hltv_scraper.storage._schema import begin_read, in_transaction, rollback
from hltv_scraper.storage.stages import OF_MAP, OF_MATCH, OF_SNAPSHOT

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hltv_scraper.storage._sql import Sql
    from hltv_scraper.storage.stages import StoredStage

INTEGER, REAL, TEXT, BOOLEAN, TIMESTAMP = "integer", "real", "text", "boolean", "timestamp"
PLAYER_MAPS, ECONOMY_ROUNDS, ROUNDS, KILL_PAIRS = "player_maps", "economy_rounds", "rounds", "kill_pairs"
MATCH_RANKS = "match_ranks"
#: What the export writes besides the database's tables, in order.
VIEWS = (PLAYER_MAPS, ECONOMY_ROUNDS, ROUNDS, KILL_PAIRS, MATCH_RANKS)
#: 0/1 columns, true or false in meaning (``is_*`` columns are too)
_BOOLEAN = frozenset({"played", "won"})
#: Columns of the crawls' own bookkeeping, not data: left out of exports.
_OPERATIONAL = frozenset({"lease_worker", "lease_expires"})
_PROVENANCE = ("scraped_at", "updated_at", "source_url", "parser_version")
_MATCH, _MAP, _SNAPSHOT = OF_MATCH, OF_MAP, OF_SNAPSHOT


@dataclass(frozen=True)
class Column:
    name: str
    #: INTEGER, REAL, TEXT, BOOLEAN (stored 0/1) or TIMESTAMP (stored as ISO-8601 UTC text)
    kind: str
    #: what is selected, over ``t`` (the table), ``mp`` (its map) and ``m`` (its match)
    expression: str = ""

    def __post_init__(self) -> None:
        if not self.expression:
            object.__setattr__(self, "expression", f"t.{self.name}")


@dataclass(frozen=True)
class ExportTable:
    name: str
    columns: tuple[Column, ...]
    #: the columns batches are ordered and paged by: the source table's primary key
    key: tuple[str, ...]
    #: whether a row belongs to a map or to a match
    unit: str
    #: the table rows are read from (``t``)
    source: str = ""
    #: a view that is one SELECT over the stored tables (CTEs, window functions), read
    #: as ``t``: it yields ``columns`` by name, the ``key`` and an ``updated_at`` (the
    #: latest change of the rows it is made of)
    statement: str = ""
    #: aliases whose ``updated_at`` makes a row changed
    changed_by: tuple[str, ...] = ("t",)
    #: whether rows read need the map (``mp``) and the match (``m``) joined
    with_map: bool = False
    with_match: bool = False
    #: further joins, after those of the map and match
    joins: str = ""
    #: a condition every row read meets
    condition: str = ""
    #: what is selected, when it is not ``columns``; ``expand`` turns each row of it into
    #: rows of ``columns``
    selected: tuple[Column, ...] = ()
    expand: Callable[[tuple], tuple[tuple, ...]] | None = None

    def __post_init__(self) -> None:
        if self.statement:
            object.__setattr__(self, "source", f"({self.statement})")
        if not self.source:
            object.__setattr__(self, "source", self.name)
        if not self.selected:
            object.__setattr__(self, "selected", self.columns)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


@dataclass(frozen=True)
class Selection:
    """Which rows an export takes."""

    #: only maps whose performance and economy are stored (and the matches of those)
    complete_only: bool = True
    #: the match's date (ms since the epoch) at or after this ...
    since_ms: int | None = None
    #: ... and before this
    until_ms: int | None = None
    #: rows updated after this ISO-8601 UTC time (the form ``updated_at`` is stored in),
    #: and, of a complete-only export, the rows of the maps completed after it
    changed_since: str | None = None
    params: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = {"since_ms": self.since_ms, "until_ms": self.until_ms, "changed_since": self.changed_since}
        object.__setattr__(self, "params", {k: v for k, v in values.items() if v is not None})


def export_tables(db: Sql, stages: Iterable[StoredStage]) -> list[ExportTable]:
    """Every table the ``stages`` write (in their order: the registry's), then the views
    (:data:`VIEWS`), with their columns."""
    inspector = inspect(db.connection)
    present = set(inspector.get_table_names())
    tables = []
    for name, key, unit in ((t.name, t.key, t.of) for stage in stages for t in stage.exports):
        if name not in present:
            continue
        columns = tuple(
            Column(column["name"], _kind(column["name"], column["type"]))
            for column in inspector.get_columns(name)
            if not _operational(column["name"])
        )
        if unit == _MAP and name != "maps":
            # the map's stats id beside its match id and number, as the commands name maps
            at = next(n for n, column in enumerate(columns) if column.name == "map_number") + 1
            columns = (*columns[:at], Column("mapstatsid", INTEGER, "mp.mapstatsid"), *columns[at:])
        tables.append(ExportTable(name, columns, key, unit, with_map=unit == _MAP and name != "maps"))
    player_stats = next(table for table in tables if table.name == "player_stats")
    tables += [_player_maps(player_stats), _economy_rounds(), _rounds(), _kill_pairs()]
    if "team_rankings" in present:
        tables.append(_match_ranks())
    return tables


@contextmanager
def snapshot(db: Sql) -> Iterator[None]:
    """Reads inside see the database as it was at their first query."""
    begin_read(db.connection)
    try:
        yield
    finally:
        if in_transaction(db.connection):
            rollback(db.connection)


def read_batches(
    db: Sql, table: ExportTable, selection: Selection, *, batch_rows: int = 10_000
) -> Iterator[list[tuple]]:
    """The table's selected rows, in key order, ``batch_rows`` at a time (as tuples of
    ``table.columns``, values as stored)."""
    if table.statement:
        # windows over whole maps: keyset pages would compute them again from the page's
        # key to the end, page after page; one ordered pass reads them once
        yield from db.stream(_statement(table, selection, paged=False), selection.params, rows=batch_rows)
        return
    names = [column.name for column in table.selected]
    key_at = [names.index(column) for column in table.key]
    expand = table.expand
    after: list[Any] | None = None
    while True:
        params = {**selection.params, "batch": batch_rows}
        if after is not None:
            params.update({f"after{n}": value for n, value in enumerate(after)})
        batch = [tuple(row) for row in db.run(_statement(table, selection, keyset=after is not None), params)]
        if batch:
            yield batch if expand is None else [row for read in batch for row in expand(read)]
        if len(batch) < batch_rows:
            return
        after = [batch[-1][index] for index in key_at]


def _statement(table: ExportTable, selection: Selection, *, keyset: bool = False, paged: bool = True) -> str:
    match = "t" if table.source == "matches" else "m"
    map_ = "t" if table.source == "maps" else "mp"
    # a ranking snapshot belongs to no match: the selection's dates and completeness
    # are the matches', and every stored snapshot is exported (changes only, if asked)
    of_matches = table.unit != _SNAPSHOT
    dated = of_matches and (selection.since_ms is not None or selection.until_ms is not None)
    needs_map = map_ != "t" and (table.with_map or (table.unit == _MAP and selection.complete_only))
    needs_match = match != "t" and (table.with_match or dated)
    source = f"{table.source} t"
    if needs_map:
        source += " JOIN maps mp ON mp.match_id = t.match_id AND mp.map_number = t.map_number"
    if needs_match:
        source += " JOIN matches m ON m.match_id = t.match_id"
    if table.joins:
        source += f" {table.joins}"
    conditions = [table.condition] if table.condition else []
    if selection.complete_only and of_matches:
        conditions.append(
            f"{map_}.perf_economy_at IS NOT NULL" if table.unit == _MAP else
            "EXISTS (SELECT 1 FROM maps c WHERE c.match_id = t.match_id AND c.perf_economy_at IS NOT NULL)"
        )
    day = f"COALESCE({match}.date_unix_ms, {match}.completed_unix_ms)"
    if dated and selection.since_ms is not None:
        conditions.append(f"{day} >= :since_ms")
    if dated and selection.until_ms is not None:
        conditions.append(f"{day} < :until_ms")
    if selection.changed_since is not None:
        changed = [f"{alias}.updated_at > :changed_since" for alias in table.changed_by]
        if selection.complete_only and of_matches:
            # a row written before its map was complete was left out then: it comes
            # with the export after its map (or one of its match's maps) completes
            changed.append(
                f"{map_}.perf_economy_at > :changed_since" if table.unit == _MAP else
                "EXISTS (SELECT 1 FROM maps c WHERE c.match_id = t.match_id AND c.perf_economy_at > :changed_since)"
            )
        conditions.append(f"({' OR '.join(changed)})")
    if keyset:
        conditions.append(
            f"({', '.join(f't.{c}' for c in table.key)}) > "
            f"({', '.join(f':after{n}' for n in range(len(table.key)))})"
        )
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT {', '.join(column.expression for column in table.selected)} FROM {source}{where} "
        f"ORDER BY {', '.join(f't.{c}' for c in table.key)}{' LIMIT :batch' if paged else ''}"
    )


def _kind(name: str, sql_type: Any) -> str:
    if name in _BOOLEAN or name.startswith("is_"):
        return BOOLEAN
    if name == "date" or name.endswith("_at"):
        return TIMESTAMP
    if isinstance(sql_type, Integer):
        return INTEGER
    if isinstance(sql_type, (Float, Numeric)):
        return REAL
    return TEXT


def _operational(name: str) -> bool:
    return name in _OPERATIONAL or name.endswith(("_attempts", "_attempts_version"))


#: A view row's map, keyed as on every per-map table (``t`` the view's table, ``mp`` maps).
_MAP_KEY = (
    Column("match_id", INTEGER, "t.match_id"),
    Column("map_number", INTEGER, "t.map_number"),
    Column("mapstatsid", INTEGER, "mp.mapstatsid"),
)


def _player_maps(player_stats: ExportTable) -> ExportTable:
    """One row per player per map: the match, the map from the player's team's side,
    and every scoreboard and performance column of ``player_stats``."""

    def team(team1: str, team2: str) -> str:
        """The value of the player's team, given team 1's and team 2's."""
        return f"CASE WHEN t.team_id = m.team1_id THEN {team1} WHEN t.team_id = m.team2_id THEN {team2} END"

    def opponent(team1: str, team2: str) -> str:
        return team(team2, team1)

    other_side = "CASE mp.team1_starting_side WHEN 'CT' THEN 'T' WHEN 'T' THEN 'CT' END"
    rounds, opponent_rounds = team("mp.team1_rounds", "mp.team2_rounds"), opponent("mp.team1_rounds", "mp.team2_rounds")
    latest_change = (
        "CASE WHEN t.updated_at >= mp.updated_at AND t.updated_at >= m.updated_at THEN t.updated_at "
        "WHEN mp.updated_at >= m.updated_at THEN mp.updated_at ELSE m.updated_at END"
    )
    head = (
        *_MAP_KEY,
        Column("date", TIMESTAMP, "m.date"),
        Column("event_id", INTEGER, "m.event_id"),
        Column("event_name", TEXT, "m.event_name"),
        Column("stage", TEXT, "m.stage"),
        Column("best_of", INTEGER, "m.best_of"),
        Column("is_lan", BOOLEAN, "m.is_lan"),
        Column("map_name", TEXT, "mp.map_name"),
        Column("player_id", INTEGER, "t.player_id"),
        Column("player_name", TEXT, "t.player_name"),
        Column("team_id", INTEGER, "t.team_id"),
        Column("team_name", TEXT, team("m.team1_name", "m.team2_name")),
        Column("team_rank", INTEGER, team("m.team1_rank", "m.team2_rank")),
        Column("opponent_id", INTEGER, opponent("m.team1_id", "m.team2_id")),
        Column("opponent_name", TEXT, opponent("m.team1_name", "m.team2_name")),
        Column("opponent_rank", INTEGER, opponent("m.team1_rank", "m.team2_rank")),
        Column("won", BOOLEAN, f"CASE WHEN {rounds} > {opponent_rounds} THEN 1 "
                               f"WHEN {rounds} < {opponent_rounds} THEN 0 END"),
        Column("team_rounds", INTEGER, rounds),
        Column("opponent_rounds", INTEGER, opponent_rounds),
        Column("rounds", INTEGER, "mp.team1_rounds + mp.team2_rounds"),
        *(
            Column(f"{whose}_{half}_rounds", INTEGER, pick(f"mp.team1_{half}_rounds", f"mp.team2_{half}_rounds"))
            for whose, pick in (("team", team), ("opponent", opponent))
            for half in ("ct", "t", "ot")
        ),
        Column("team_starting_side", TEXT, team("mp.team1_starting_side", other_side)),
    )
    taken = {column.name for column in head} | set(_PROVENANCE) | {"map_number"}
    stats = tuple(column for column in player_stats.columns if column.name not in taken)
    return ExportTable(
        PLAYER_MAPS,
        (*head, *stats, Column("updated_at", TIMESTAMP, latest_change)),
        key=("match_id", "map_number", "player_id"),
        unit=_MAP,
        source="player_stats",
        changed_by=("t", "mp", "m"),
        with_map=True,
        with_match=True,
    )


def _economy_rounds() -> ExportTable:
    """One row per round the economy page shows: team 1's and team 2's economy (the
    match's team order) side by side, and the round's winner from the round history.
    A round the economy page leaves out (MR12 overtime) has no row."""
    teams = tuple(
        column
        for n in (1, 2)
        for column in (
            Column(f"team{n}_id", INTEGER, f"m.team{n}_id"),
            Column(f"team{n}_name", TEXT, f"m.team{n}_name"),
            Column(f"team{n}_equipment_value", INTEGER, f"e{n}.equipment_value"),
            Column(f"team{n}_buy_type", TEXT, f"e{n}.buy_type"),
            Column(f"team{n}_side", TEXT, f"e{n}.side"),
        )
    )
    economy_of = " ".join(
        f"LEFT JOIN economy e{n} ON e{n}.match_id = t.match_id AND e{n}.map_number = t.map_number "
        f"AND e{n}.round_number = t.round_number AND e{n}.team_id = m.team{n}_id"
        for n in (1, 2)
    )
    return ExportTable(
        ECONOMY_ROUNDS,
        (
            *_MAP_KEY,
            Column("round_number", INTEGER, "t.round_number"),
            *teams,
            Column("winner_team_id", INTEGER, "t.winner_team_id"),
            Column("winner_side", TEXT, "t.winner_side"),
            Column("win_type", TEXT, "t.win_type"),
        ),
        key=("match_id", "map_number", "round_number"),
        unit=_MAP,
        source="round_history",
        changed_by=("t", "e1", "e2", "m"),
        with_map=True,
        with_match=True,
        joins=economy_of,
        condition="(e1.team_id IS NOT NULL OR e2.team_id IS NOT NULL)",
    )


def _latest(*stamps: str) -> str:
    """The latest of ISO-8601 times, the first never NULL (SQLite has no GREATEST)."""
    latest = stamps[0]
    for stamp in stamps[1:]:
        latest = f"CASE WHEN {stamp} > {latest} THEN {stamp} ELSE {latest} END"
    return latest


def _other_side(side: str) -> str:
    return f"CASE {side} WHEN 'CT' THEN 'T' WHEN 'T' THEN 'CT' END"


#: Every round of the round history in its context, one statement for SQLite and
#: PostgreSQL alike. Team 1's side in a round is the winner's side if team 1 won, else
#: the other. Rounds 1-12 are the first half of MR12 and MR15 alike: the first round
#: where team 1's side differs from the first round's is 13 on an MR12 map and 16 on an
#: MR15 map. The first half is on the side of the first round whose winner is known, the
#: second on the other; overtime halves are 3 rounds each, each on the side any of its
#: rounds with a known winner shows. Every window is over the map in round order, so the
#: rounds are read once, in the order of round_history's key, with no sort.
ROUNDS_STATEMENT = f"""
WITH seen AS (
    SELECT rh.match_id, rh.map_number, rh.round_number, rh.winner_team_id, rh.winner_side,
           rh.win_type, rh.updated_at, m.team1_id, m.team1_name, m.team2_id, m.team2_name,
           m.updated_at AS match_updated_at,
           CASE WHEN rh.winner_team_id = m.team1_id THEN rh.winner_side
                WHEN rh.winner_team_id = m.team2_id THEN {_other_side("rh.winner_side")} END AS team1_side_seen,
           CASE WHEN rh.winner_team_id = m.team1_id THEN 1 ELSE 0 END AS team1_won,
           CASE WHEN rh.winner_team_id = m.team2_id THEN 1 ELSE 0 END AS team2_won
    FROM round_history rh JOIN matches m ON m.match_id = rh.match_id
), mapped AS (
    SELECT seen.*,
           MIN(CASE WHEN team1_side_seen = 'CT' THEN round_number END) OVER whole AS team1_first_ct,
           MIN(CASE WHEN team1_side_seen = 'T' THEN round_number END) OVER whole AS team1_first_t,
           MAX(updated_at) OVER whole AS rounds_updated_at,
           SUM(team1_won) OVER so_far - team1_won AS team1_score_before,
           SUM(team2_won) OVER so_far - team2_won AS team2_score_before,
           LAG(team1_side_seen, 2) OVER in_order AS team1_side_2_before,
           LAG(team1_side_seen, 1) OVER in_order AS team1_side_1_before,
           LEAD(team1_side_seen, 1) OVER in_order AS team1_side_1_after,
           LEAD(team1_side_seen, 2) OVER in_order AS team1_side_2_after
    FROM seen
    WINDOW in_order AS (PARTITION BY match_id, map_number ORDER BY round_number),
           whole AS (in_order ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
           so_far AS (in_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), regulated AS (
    SELECT mapped.*,
           CASE WHEN team1_first_ct <= 15 AND team1_first_t <= 15 THEN 24
                WHEN team1_first_ct IS NOT NULL AND team1_first_t IS NOT NULL THEN 30 END AS regulation_rounds,
           CASE WHEN team1_first_t IS NULL OR team1_first_ct < team1_first_t THEN 'CT'
                WHEN team1_first_t IS NOT NULL THEN 'T' END AS team1_first_side
    FROM mapped
), halved AS (
    SELECT regulated.*,
           CASE WHEN regulation_rounds IS NULL THEN CASE WHEN round_number <= 12 THEN 1 END
                WHEN round_number <= regulation_rounds / 2 THEN 1
                WHEN round_number <= regulation_rounds THEN 2
                ELSE 3 + (round_number - regulation_rounds - 1) / 3 END AS half,
           (round_number - regulation_rounds - 1) % 3 AS overtime_place
    FROM regulated
), sided AS (
    SELECT halved.*,
           CASE WHEN half = 1 THEN team1_first_side
                WHEN half = 2 THEN {_other_side("team1_first_side")}
                WHEN half > 2 THEN COALESCE(
                    team1_side_seen,
                    CASE WHEN overtime_place > 0 THEN team1_side_1_before END,
                    CASE WHEN overtime_place > 1 THEN team1_side_2_before END,
                    CASE WHEN overtime_place < 2 THEN team1_side_1_after END,
                    CASE WHEN overtime_place < 1 THEN team1_side_2_after END) END AS team1_side
    FROM halved
)
SELECT s.match_id, s.map_number, s.round_number, s.half,
       CASE WHEN s.round_number = 1 OR s.round_number = s.regulation_rounds / 2 + 1 THEN 1
            WHEN s.regulation_rounds IS NOT NULL OR s.round_number <= 12 THEN 0 END AS is_pistol,
       s.regulation_rounds, s.team1_id, s.team1_name, s.team1_side,
       s.team2_id, s.team2_name, {_other_side("s.team1_side")} AS team2_side,
       s.team1_score_before, s.team2_score_before, s.winner_team_id, s.winner_side, s.win_type,
       e1.equipment_value AS team1_equipment_value, e1.buy_type AS team1_buy_type,
       e2.equipment_value AS team2_equipment_value, e2.buy_type AS team2_buy_type,
       {_latest("s.rounds_updated_at", "s.match_updated_at", "e1.updated_at", "e2.updated_at")} AS updated_at
FROM sided s
LEFT JOIN economy e1 ON e1.match_id = s.match_id AND e1.map_number = s.map_number
     AND e1.round_number = s.round_number AND e1.team_id = s.team1_id
LEFT JOIN economy e2 ON e2.match_id = s.match_id AND e2.map_number = s.map_number
     AND e2.round_number = s.round_number AND e2.team_id = s.team2_id"""


def _rounds() -> ExportTable:
    """One row per round of the round history, overtime included: its half, whether it
    is a pistol round, the map's regulation length, each team's side, the score before
    it, its winner and each team's economy (NULL where the economy page has no such
    round: the overtime of MR12 maps). Teams in the match's order, as in ``economy_rounds``.
    A row changes with any round of its map (the score and sides come from all of them),
    its economy rows or its match."""
    return ExportTable(
        ROUNDS,
        (
            *_MAP_KEY,
            Column("round_number", INTEGER),
            Column("half", INTEGER),
            Column("is_pistol", BOOLEAN),
            Column("regulation_rounds", INTEGER),
            *(
                column
                for n in (1, 2)
                for column in (
                    Column(f"team{n}_id", INTEGER),
                    Column(f"team{n}_name", TEXT),
                    Column(f"team{n}_side", TEXT),
                )
            ),
            Column("team1_score_before", INTEGER),
            Column("team2_score_before", INTEGER),
            Column("winner_team_id", INTEGER),
            Column("winner_side", TEXT),
            Column("win_type", TEXT),
            *(
                column
                for n in (1, 2)
                for column in (
                    Column(f"team{n}_equipment_value", INTEGER),
                    Column(f"team{n}_buy_type", TEXT),
                )
            ),
        ),
        key=("match_id", "map_number", "round_number"),
        unit=_MAP,
        statement=ROUNDS_STATEMENT,
        with_map=True,
    )


def _kill_pairs() -> ExportTable:
    """One row per kill matrix, ordered pair of opponents, in both directions: who
    killed whom how often. A row of ``kill_matrix`` holds both directions of a pair; it
    is read once and written as two rows (the row player as killer, then as victim)."""
    selected = (
        *_MAP_KEY,
        Column("matrix_type", TEXT, "t.matrix_type"),
        Column("player1_id", INTEGER, "t.player1_id"),
        Column("player1_name", TEXT, "p1.player_name"),
        Column("player1_team_id", INTEGER, "p1.team_id"),
        Column("player2_id", INTEGER, "t.player2_id"),
        Column("player2_name", TEXT, "p2.player_name"),
        Column("player2_team_id", INTEGER, "p2.team_id"),
        Column("player1_kills", INTEGER, "t.player1_kills"),
        Column("player2_kills", INTEGER, "t.player2_kills"),
    )
    players = " ".join(
        f"LEFT JOIN player_stats p{n} ON p{n}.match_id = t.match_id AND p{n}.map_number = t.map_number "
        f"AND p{n}.player_id = t.player{n}_id"
        for n in (1, 2)
    )
    return ExportTable(
        KILL_PAIRS,
        (
            Column("match_id", INTEGER),
            Column("map_number", INTEGER),
            Column("mapstatsid", INTEGER),
            Column("matrix_type", TEXT),
            Column("killer_id", INTEGER),
            Column("killer_name", TEXT),
            Column("killer_team_id", INTEGER),
            Column("victim_id", INTEGER),
            Column("victim_name", TEXT),
            Column("victim_team_id", INTEGER),
            Column("kills", INTEGER),
        ),
        key=("match_id", "map_number", "matrix_type", "player1_id", "player2_id"),
        unit=_MAP,
        source="kill_matrix",
        changed_by=("t", "p1", "p2"),
        with_map=True,
        joins=players,
        selected=selected,
        expand=_both_directions,
    )


def _both_directions(row: tuple) -> tuple[tuple, ...]:
    map_, one, other, (one_kills, other_kills) = row[:4], row[4:7], row[7:10], row[10:]
    return (*map_, *one, *other, one_kills), (*map_, *other, *one, other_kills)


def _match_ranks() -> ExportTable:
    """Each team of each match with the latest world ranking snapshot stored on or before
    the match's day (its ``date``, UTC): the team's rank and points then. A team that
    snapshot does not rank has no row, and neither has a match before the first snapshot.

    Plain SQL, the same on SQLite and PostgreSQL: the snapshot is found through the
    snapshots' key, newest first from the match's day, one index seek per team."""
    teams = " UNION ALL ".join(
        f"SELECT match_id, team{n}_id AS team_id, substr(date, 1, 10) AS day, updated_at "
        f"FROM matches WHERE team{n}_id IS NOT NULL AND date IS NOT NULL"
        for n in (1, 2)
    )
    ranked = (
        "(SELECT s.match_id, s.team_id, r.ranking_date, r.rank, r.points, "
        "CASE WHEN r.updated_at > s.updated_at THEN r.updated_at ELSE s.updated_at END AS updated_at "
        f"FROM ({teams}) s JOIN team_rankings r ON r.team_id = s.team_id AND r.ranking_date = ("
        "SELECT x.ranking_date FROM ranking_snapshots x "
        "WHERE x.ranking_date <= s.day AND x.ranking_at IS NOT NULL "
        "ORDER BY x.ranking_date DESC LIMIT 1))"
    )
    return ExportTable(
        MATCH_RANKS,
        (
            Column("match_id", INTEGER),
            Column("team_id", INTEGER),
            Column("ranking_date", TEXT),
            Column("rank", INTEGER),
            Column("points", INTEGER),
        ),
        key=("match_id", "team_id"),
        unit=_MATCH,
        source=ranked,
    )
