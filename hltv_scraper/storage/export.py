"""Reading the dataset out for ``scrapy export``: each table and the analysis views, as Arrow.

The views are ``player_maps`` (one row per player and map), ``economy_rounds`` (one row
per round of the economy page, both teams side by side in the match's team order, with
the round's winner) and ``kill_pairs`` (one row per ordered pair of opponents and kill
matrix: both directions). Every per-map table carries the map's ``mapstatsid``. A table
or a view is one SQL statement and its columns (:class:`ExportTable`): the database
computes the joins, nothing is worked out row by row in Python.

Each statement is read through an ADBC driver (``adbc-driver-sqlite``,
``adbc-driver-postgresql``), which turns the database's rows into Arrow record batches
in compiled code (PostgreSQL's through ``COPY ... TO STDOUT`` in its binary form), one
streamed query per table: memory holds one batch, however large the database. The
batches are then given the export's types in Arrow (0/1 flags as booleans, ISO-8601
text as UTC timestamps). Read them inside :func:`snapshot` and every file of one export
shows the same moment, while crawls go on writing.

What a column holds (an integer, a real, text, a 0/1 flag, a timestamp) is read from the
schema itself, so a column a later migration adds is exported without a change here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import Float, Integer, Numeric

from hltv_scraper.storage._schema import begin, rollback
from hltv_scraper.storage._sql import POSTGRESQL, SQLITE, sql

if TYPE_CHECKING:
    import pyarrow as pa

    from hltv_scraper.storage._sql import Sql

INTEGER, REAL, TEXT, BOOLEAN, TIMESTAMP = "integer", "real", "text", "boolean", "timestamp"
PLAYER_MAPS, ECONOMY_ROUNDS, KILL_PAIRS = "player_maps", "economy_rounds", "kill_pairs"
#: What the export writes besides the database's tables, in order.
VIEWS = (PLAYER_MAPS, ECONOMY_ROUNDS, KILL_PAIRS)
#: 0/1 columns, true or false in meaning (``is_*`` columns are too)
_BOOLEAN = frozenset({"played", "won"})
#: Columns of the crawls' own bookkeeping, not data: left out of exports.
_OPERATIONAL = frozenset({"lease_worker", "lease_expires"})
_PROVENANCE = ("scraped_at", "updated_at", "source_url", "parser_version")
_MATCH, _MAP = "match", "map"
#: The tables exported, in order: (name, primary key, what a row belongs to). A row of a
#: map is exported when its map is; a row of a match when one of its maps is.
_TABLES = (
    ("matches", ("match_id",), _MATCH),
    ("maps", ("match_id", "map_number"), _MAP),
    ("player_stats", ("match_id", "map_number", "player_id"), _MAP),
    ("round_history", ("match_id", "map_number", "round_number"), _MAP),
    ("economy", ("match_id", "map_number", "round_number", "team_id"), _MAP),
    ("kill_matrix", ("match_id", "map_number", "matrix_type", "player1_id", "player2_id"), _MAP),
    ("vetoes", ("match_id", "step"), _MATCH),
    ("lineups", ("match_id", "team_id", "player_id"), _MATCH),
)


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
    #: what rows are ordered by: the source table's primary key (columns of ``t``; a
    #: name with a dot is an expression of its own, e.g. ``d.direction``)
    key: tuple[str, ...]
    #: whether a row belongs to a map or to a match
    unit: str
    #: the table rows are read from (``t``)
    source: str = ""
    #: aliases whose ``updated_at`` makes a row changed
    changed_by: tuple[str, ...] = ("t",)
    #: whether rows read need the map (``mp``) and the match (``m``) joined
    with_map: bool = False
    with_match: bool = False
    #: further joins, after those of the map and match
    joins: str = ""
    #: a condition every row read meets
    condition: str = ""

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", self.name)

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


def export_tables(db: Sql) -> list[ExportTable]:
    """Every table there is to export, then the views (:data:`VIEWS`), with their columns."""
    inspector = inspect(db.connection)
    present = set(inspector.get_table_names())
    tables = []
    for name, key, unit in _TABLES:
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
    tables += [_player_maps(player_stats), _economy_rounds(), _kill_pairs()]
    return tables


class Reader:
    """One ADBC connection to the export's database, inside a read-only transaction."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection, self.dialect = connection, dialect

    def execute(self, statement: str) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []


@contextmanager
def snapshot(db: Sql, *, readers: int = 1) -> Iterator[list[Reader]]:
    """``readers`` connections that all see the database as it was at one moment, while
    crawls go on writing: tables can be read side by side, on as many cores.

    On SQLite each reader's snapshot starts while the write lock is held for a moment
    (so no commit falls between two of them); on PostgreSQL the first reader's snapshot
    is imported by the others (``SET TRANSACTION SNAPSHOT``, as ``pg_dump -j`` does).
    """
    opened: list[Reader] = []
    try:
        for _ in range(readers):
            opened.append(Reader(_connect(db), db.dialect))
        if db.dialect == SQLITE:
            holding = readers > 1
            if holding:
                begin(db.connection)  # BEGIN IMMEDIATE: no commit until every reader has begun
            try:
                for reader in opened:
                    # reads in key order go down the tables' trees again and again: a
                    # page cache that holds their upper levels saves a system call a page
                    reader.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
                    # deferred: WAL mode keeps the first read's snapshot to the end
                    reader.execute("BEGIN")
                    reader.execute("SELECT count(*) FROM sqlite_master")
            finally:
                if holding:
                    rollback(db.connection)
        else:
            first, *others = opened
            first.execute(_BEGIN_READ)
            (moment,), = first.execute("SELECT pg_export_snapshot()")
            for reader in others:
                reader.execute(_BEGIN_READ)
                reader.execute(f"SET TRANSACTION SNAPSHOT '{moment}'")
        yield opened
    finally:
        for reader in opened:
            try:
                reader.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - a connection that broke has nothing to end
                pass
            reader.connection.close()


def estimated_rows(reader: Reader, table: ExportTable) -> float:
    """About how many rows the table's source holds (to read the largest first)."""
    if reader.dialect == SQLITE:  # the highest rowid: one step down the table's tree
        (rows,), = reader.execute(f"SELECT max(rowid) FROM {table.source}")
    else:
        (rows,), = reader.execute(f"SELECT reltuples FROM pg_class WHERE oid = '{table.source}'::regclass")
    return float(rows or 0)


_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
#: each SQLite reader's page cache (SQLite's default is 2 MB): a sixth of the system
#: time of an ordered read of kill_matrix with it, for 16 MB of memory a reader
SQLITE_CACHE_KB = 16_384


def _connect(db: Sql) -> Any:
    url = db.connection.engine.url
    if db.dialect == SQLITE:
        import adbc_driver_sqlite.dbapi as driver

        # a URI filename, read-only: the export writes nothing to the crawl's database
        return driver.connect(f"{Path(url.database).resolve().as_uri()}?mode=ro", autocommit=True)
    import adbc_driver_postgresql.dbapi as driver

    return driver.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)


def read_batches(
    source: Reader, table: ExportTable, selection: Selection, *, batch_rows: int = 32_768
) -> Iterator[pa.RecordBatch]:
    """The table's selected rows in key order, as record batches of :func:`arrow_schema`
    (about ``batch_rows`` rows each: PostgreSQL's driver sizes its batches in bytes)."""
    import pyarrow as pa

    schema = arrow_schema(table.columns)
    statement = _statement(table, selection)
    sentinel = source.dialect == SQLITE
    if sentinel:
        # The SQLite driver infers each column's type from the first batch's values, and
        # a column NULL all through it would be taken for an integer: one typed row
        # comes first, and is dropped.
        typed = ", ".join(f"{_SENTINEL[c.kind]} AS {c.name}" for c in table.columns)
        statement = f"SELECT {typed} UNION ALL SELECT * FROM ({statement})"
    statement = _literal(statement, selection.params, source.dialect)
    cursor = source.connection.cursor()
    try:
        if source.dialect == SQLITE:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        cursor.execute(statement)
        for batch in cursor.fetch_record_batch():
            if sentinel:
                batch, sentinel = batch.slice(1), False
            if batch.num_rows:
                yield pa.RecordBatch.from_arrays(
                    [_typed(array, f.type) for array, f in zip(batch.columns, schema)], schema=schema
                )
    finally:
        cursor.close()


def arrow_schema(columns: tuple[Column, ...] | list[Column]) -> pa.Schema:
    """The export's Arrow types: int64, float64, string, bool, timestamp (ms, UTC)."""
    import pyarrow as pa

    types = {
        INTEGER: pa.int64(), REAL: pa.float64(), BOOLEAN: pa.bool_(),
        TIMESTAMP: pa.timestamp("ms", tz="UTC"), TEXT: pa.string(),
    }
    return pa.schema([(c.name, types[c.kind]) for c in columns])


#: a value of each kind, for the typed first row of a SQLite read
_SENTINEL = {INTEGER: "0", BOOLEAN: "0", REAL: "0.0", TEXT: "''", TIMESTAMP: "''"}
#: statements with their parameters written in: the values are numbers and an ISO time
#: the options parsed, quoted by SQLAlchemy (named style: a ``%`` stays as written)
_LITERAL = {SQLITE: sqlite.dialect(), POSTGRESQL: postgresql.dialect(paramstyle="named")}


def _literal(statement: str, params: dict[str, Any], dialect: str) -> str:
    clause = sql(statement).bindparams(**params) if params else sql(statement)
    return clause.compile(dialect=_LITERAL[dialect], compile_kwargs={"literal_binds": True}).string


def _typed(array: pa.Array, wanted: pa.DataType) -> pa.Array:
    """``array`` as read (SQLite's int64, float64 and text; PostgreSQL's int32 too) as
    the export's type: stored 0/1 flags as booleans, ISO-8601 text as UTC timestamps."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.type == wanted:
        return array
    if pa.types.is_timestamp(wanted) and (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        try:  # 2026-01-31T06:00:00+00:00, the form of every *_at
            return pc.cast(array, wanted)
        except pa.ArrowInvalid:  # a time without its offset (matches.date): UTC
            return pc.cast(pc.cast(array, pa.timestamp(wanted.unit)), wanted)
    if pa.types.is_boolean(wanted) and pa.types.is_floating(array.type):
        array = pc.cast(array, pa.int64())
    return pc.cast(array, wanted)


def _statement(table: ExportTable, selection: Selection) -> str:
    match = "t" if table.source == "matches" else "m"
    map_ = "t" if table.source == "maps" else "mp"
    dated = selection.since_ms is not None or selection.until_ms is not None
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
    if selection.complete_only:
        conditions.append(
            f"{map_}.perf_economy_at IS NOT NULL" if table.unit == _MAP else
            "EXISTS (SELECT 1 FROM maps c WHERE c.match_id = t.match_id AND c.perf_economy_at IS NOT NULL)"
        )
    day = f"COALESCE({match}.date_unix_ms, {match}.completed_unix_ms)"
    if selection.since_ms is not None:
        conditions.append(f"{day} >= :since_ms")
    if selection.until_ms is not None:
        conditions.append(f"{day} < :until_ms")
    if selection.changed_since is not None:
        changed = [f"{alias}.updated_at > :changed_since" for alias in table.changed_by]
        if selection.complete_only:
            # a row written before its map was complete was left out then: it comes
            # with the export after its map (or one of its match's maps) completes
            changed.append(
                f"{map_}.perf_economy_at > :changed_since" if table.unit == _MAP else
                "EXISTS (SELECT 1 FROM maps c WHERE c.match_id = t.match_id AND c.perf_economy_at > :changed_since)"
            )
        conditions.append(f"({' OR '.join(changed)})")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    selected = ", ".join(f"{column.expression} AS {column.name}" for column in table.columns)
    order = ", ".join(c if "." in c else f"t.{c}" for c in table.key)
    return f"SELECT {selected} FROM {source}{where} ORDER BY {order}"


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


def _kill_pairs() -> ExportTable:
    """One row per kill matrix, ordered pair of opponents, in both directions: who
    killed whom how often. A row of ``kill_matrix`` holds both directions of a pair; it
    is joined with the two directions (``d``) and read as two rows: the row player as
    killer, then as victim."""

    def pick(first: str, second: str) -> str:
        """``first`` in the first direction, ``second`` in the other."""
        return f"CASE WHEN d.direction = 1 THEN {first} ELSE {second} END"

    players = " ".join(
        f"LEFT JOIN player_stats p{n} ON p{n}.match_id = t.match_id AND p{n}.map_number = t.map_number "
        f"AND p{n}.player_id = t.player{n}_id"
        for n in (1, 2)
    )
    return ExportTable(
        KILL_PAIRS,
        (
            *_MAP_KEY,
            Column("matrix_type", TEXT, "t.matrix_type"),
            Column("killer_id", INTEGER, pick("t.player1_id", "t.player2_id")),
            Column("killer_name", TEXT, pick("p1.player_name", "p2.player_name")),
            Column("killer_team_id", INTEGER, pick("p1.team_id", "p2.team_id")),
            Column("victim_id", INTEGER, pick("t.player2_id", "t.player1_id")),
            Column("victim_name", TEXT, pick("p2.player_name", "p1.player_name")),
            Column("victim_team_id", INTEGER, pick("p2.team_id", "p1.team_id")),
            Column("kills", INTEGER, pick("t.player1_kills", "t.player2_kills")),
        ),
        key=("match_id", "map_number", "matrix_type", "player1_id", "player2_id", "d.direction"),
        unit=_MAP,
        source="kill_matrix",
        changed_by=("t", "p1", "p2"),
        with_map=True,
        # the players looked up once per row of kill_matrix, then the two directions
        joins=f"{players} CROSS JOIN (SELECT 1 AS direction UNION ALL SELECT 2) d",
    )
