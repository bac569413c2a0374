"""Reading the dataset out for ``scrapy export``: each table and the analysis views, as Arrow.

The views are ``player_maps`` (one row per player and map), ``economy_rounds`` (one row
per round of the economy page, both teams side by side in the match's team order, with
the round's winner), ``rounds`` (one row per round of the round history, in its context:
half, sides, pistol, score before it and both teams' economy), ``kill_pairs`` (one row
per ordered pair of opponents and kill matrix: both directions) and ``match_ranks`` (each
team of a match with its world rank on the match's day). Every per-map table carries the
map's ``mapstatsid``. A table or a view is one SQL statement and its columns
(:class:`ExportTable`): the database computes the joins, nothing is worked out row by
row in Python.

Each statement is read through an ADBC driver (``adbc-driver-sqlite``,
``adbc-driver-postgresql``), which turns the database's rows into Arrow record batches
in compiled code (PostgreSQL's through ``COPY ... TO STDOUT`` in its binary form), one
streamed query per table, in one ordered pass: memory holds one batch, however large
the database, and a view with windows over whole maps (``rounds``) computes them once.
The batches are then given the export's types in Arrow (0/1 flags as booleans, ISO-8601
text as UTC timestamps). Read them inside :func:`snapshot` and every file of one export
shows the same moment, while crawls go on writing.

What a column holds (an integer, a real, text, a 0/1 flag, a timestamp) is read from the
schema itself, so a column a later migration adds is exported without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import Float, Integer, Numeric

from hltv_scraper.storage._schema import begin, rollback
from hltv_scraper.storage._sql import POSTGRESQL, SQLITE, sql
from hltv_scraper.storage.stages import OF_MAP, OF_MATCH, OF_SNAPSHOT

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyarrow as pa

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
_OPERATIONAL = frozenset({"lease_worker", "lease_expires", "stats_checks", "stats_due_at"})
_PROVENANCE = ("scraped_at", "updated_at", "source_url", "parser_version")
_MATCH, _MAP, _SNAPSHOT = OF_MATCH, OF_MAP, OF_SNAPSHOT
#: rows of a log, each belonging to no one unit: every row, whatever the selection's
#: maps and dates (``changed_since`` takes those seen after it)
_LOG = "log"


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
    #: a view that is one SELECT over the stored tables (CTEs, window functions), read
    #: as ``t``: it yields ``columns`` by name, the ``key`` and an ``updated_at`` (the
    #: latest change of the rows it is made of)
    statement: str = ""
    #: the stored table whose size tells the view's (to read the largest first)
    sized_by: str = ""
    #: aliases whose ``updated_at`` makes a row changed
    changed_by: tuple[str, ...] = ("t",)
    #: whether rows read need the map (``mp``) and the match (``m``) joined
    with_map: bool = False
    with_match: bool = False
    #: further joins, after those of the map and match
    joins: str = ""
    #: a condition every row read meets
    condition: str = ""
    #: what the statement selects, when a row read is not a row written: ``reshape``
    #: turns a record batch of these into one of ``columns``
    read: tuple[Column, ...] = ()
    reshape: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None

    def __post_init__(self) -> None:
        if not self.read:
            object.__setattr__(self, "read", self.columns)
        if self.statement:
            object.__setattr__(self, "source", f"({self.statement})")
        if not self.source:
            object.__setattr__(self, "source", self.name)
        if not self.sized_by:
            object.__setattr__(self, "sized_by", self.source)

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
    if "corrections" in present:
        tables.append(ExportTable(
            "corrections",
            tuple(Column(c["name"], _kind(c["name"], c["type"])) for c in inspector.get_columns("corrections")),
            ("correction_id",), _LOG,
        ))
    player_stats = next(table for table in tables if table.name == "player_stats")
    tables += [_player_maps(player_stats), _economy_rounds(), _rounds(), _kill_pairs()]
    if "team_rankings" in present:
        tables.append(_match_ranks())
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


def estimated_rows(reader: Reader, tables: Iterable[ExportTable]) -> dict[str, float]:
    """About how many rows each table's source holds (a view's: the stored table it is
    sized by), by table name, to read the largest first."""
    sources = {table.sized_by for table in tables}
    if reader.dialect == SQLITE:
        # the cells of each table's tree, counted from its pages' headers by the driver's
        # SQLite (dbstat): no row is read, and a table clustered by its key has no rowid
        listed = ", ".join(f"'{source}'" for source in sources)
        try:
            found = dict(reader.execute(
                f"SELECT name, sum(ncell) FROM dbstat('main', 1) WHERE name IN ({listed}) GROUP BY name"))
        except Exception:  # noqa: BLE001 - an SQLite built without dbstat: read as declared
            found = {}
    else:
        found = dict(reader.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(ARRAY["
            + ", ".join(f"'{source}'" for source in sources) + "])"))
    return {table.name: float(found.get(table.sized_by) or 0) for table in tables}


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

    schema = arrow_schema(table.read)
    statement = _statement(table, selection)
    sentinel = source.dialect == SQLITE
    if sentinel:
        # The SQLite driver infers each column's type from the first batch's values, and
        # a column NULL all through it would be taken for an integer: one typed row
        # comes first, and is dropped.
        typed = ", ".join(f"{_SENTINEL[c.kind]} AS {c.name}" for c in table.read)
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
                batch = pa.RecordBatch.from_arrays(
                    [_typed(array, f.type) for array, f in zip(batch.columns, schema)], schema=schema
                )
                yield table.reshape(batch) if table.reshape else batch
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
    clause = sql(statement)
    # only the statement's own: a ranking table's leaves the selection's dates out
    used = {name: value for name, value in params.items() if re.search(rf":{name}\b", statement)}
    if used:
        clause = clause.bindparams(**used)
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
    if table.unit == _LOG:
        return _log_statement(table, selection)
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
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    selected = ", ".join(f"{column.expression} AS {column.name}" for column in table.read)
    order = ", ".join(c if "." in c else f"t.{c}" for c in table.key)
    return f"SELECT {selected} FROM {source}{where} ORDER BY {order}"


def _log_statement(table: ExportTable, selection: Selection) -> str:
    where = " WHERE t.seen_at > :changed_since" if selection.changed_since is not None else ""
    selected = ", ".join(f"{column.expression} AS {column.name}" for column in table.columns)
    return f"SELECT {selected} FROM {table.source} t{where} ORDER BY t.{table.key[0]}"


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


def _team1_side(round_: str, match: str) -> str:
    """Team 1's side in a round of the round history: the winner's if team 1 won, the
    other if team 2 did (NULL when the winner is not known)."""
    return (f"CASE WHEN {round_}.winner_team_id = {match}.team1_id THEN {round_}.winner_side "
            f"WHEN {round_}.winner_team_id = {match}.team2_id THEN {_other_side(f'{round_}.winner_side')} END")


def _overtime_neighbour(direction: str) -> str:
    """Team 1's side in the nearest round of the same overtime half (before the round,
    or after it) whose winner is known: the side of an overtime round whose winner is
    not. Looked up only for such a round, one step down round_history's key."""
    before = direction == "before"
    place = "(h.round_number - h.regulation_rounds - 1) % 3"  # 0, 1, 2 in the half
    span = (f"BETWEEN h.round_number - {place} AND h.round_number - 1" if before else
            f"BETWEEN h.round_number + 1 AND h.round_number + 2 - {place}")
    return (f"(SELECT {_team1_side('x', 'h')} FROM round_history x "
            f"WHERE x.match_id = h.match_id AND x.map_number = h.map_number AND x.round_number {span} "
            "AND x.winner_team_id IN (h.team1_id, h.team2_id) "
            f"ORDER BY x.round_number {'DESC' if before else 'ASC'} LIMIT 1)")


#: Every round of the round history in its context, one statement for SQLite and
#: PostgreSQL alike. Team 1's side in a round is the winner's side if team 1 won, else
#: the other. Rounds 1-12 are the first half of MR12 and MR15 alike: the first round
#: where team 1's side differs from the first round's is 13 on an MR12 map and 16 on an
#: MR15 map. The first half is on the side of the first round whose winner is known, the
#: second on the other; overtime halves are 3 rounds each, each on the side its nearest
#: round with a known winner shows. What is the map's as a whole (where each side is
#: first seen, its rounds' latest change) is one GROUP BY; the score before a round is
#: the one window, over the map in round order. round_history is scanned once in key
#: order (the CROSS JOIN keeps it the outer loop on SQLite), so nothing is sorted.
ROUNDS_STATEMENT = f"""
WITH per_map AS (
    SELECT rh.match_id, rh.map_number,
           MIN(CASE WHEN {_team1_side("rh", "m")} = 'CT' THEN rh.round_number END) AS team1_first_ct,
           MIN(CASE WHEN {_team1_side("rh", "m")} = 'T' THEN rh.round_number END) AS team1_first_t,
           MAX(rh.updated_at) AS rounds_updated_at
    FROM round_history rh JOIN matches m ON m.match_id = rh.match_id
    GROUP BY rh.match_id, rh.map_number
), regulated AS (
    SELECT rh.match_id, rh.map_number, rh.round_number, rh.winner_team_id, rh.winner_side,
           rh.win_type, m.team1_id, m.team1_name, m.team2_id, m.team2_name,
           m.updated_at AS match_updated_at, p.rounds_updated_at,
           {_team1_side("rh", "m")} AS team1_side_seen,
           SUM(CASE WHEN rh.winner_team_id = m.team1_id THEN 1 ELSE 0 END) OVER in_order
               - CASE WHEN rh.winner_team_id = m.team1_id THEN 1 ELSE 0 END AS team1_score_before,
           SUM(CASE WHEN rh.winner_team_id = m.team2_id THEN 1 ELSE 0 END) OVER in_order
               - CASE WHEN rh.winner_team_id = m.team2_id THEN 1 ELSE 0 END AS team2_score_before,
           CASE WHEN p.team1_first_ct <= 15 AND p.team1_first_t <= 15 THEN 24
                WHEN p.team1_first_ct IS NOT NULL AND p.team1_first_t IS NOT NULL THEN 30 END AS regulation_rounds,
           CASE WHEN p.team1_first_t IS NULL OR p.team1_first_ct < p.team1_first_t THEN 'CT'
                WHEN p.team1_first_t IS NOT NULL THEN 'T' END AS team1_first_side
    FROM round_history rh JOIN matches m ON m.match_id = rh.match_id CROSS JOIN per_map p
    WHERE p.match_id = rh.match_id AND p.map_number = rh.map_number
    WINDOW in_order AS (PARTITION BY rh.match_id, rh.map_number ORDER BY rh.round_number)
), halved AS (
    SELECT regulated.*,
           CASE WHEN regulation_rounds IS NULL THEN CASE WHEN round_number <= 12 THEN 1 END
                WHEN round_number <= regulation_rounds / 2 THEN 1
                WHEN round_number <= regulation_rounds THEN 2
                ELSE 3 + (round_number - regulation_rounds - 1) / 3 END AS half
    FROM regulated
), sided AS (
    SELECT h.*,
           CASE WHEN h.half = 1 THEN h.team1_first_side
                WHEN h.half = 2 THEN {_other_side("h.team1_first_side")}
                WHEN h.half > 2 THEN COALESCE(h.team1_side_seen, {_overtime_neighbour("before")},
                                              {_overtime_neighbour("after")}) END AS team1_side
    FROM halved h
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


def _per_team(*parts: tuple[str, str]) -> tuple[Column, ...]:
    """Team 1's columns ``team1_<name>`` of each ``(name, kind)``, then team 2's."""
    return tuple(Column(f"team{n}_{name}", kind) for n in (1, 2) for name, kind in parts)


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
            *_per_team(("id", INTEGER), ("name", TEXT), ("side", TEXT)),
            Column("team1_score_before", INTEGER),
            Column("team2_score_before", INTEGER),
            Column("winner_team_id", INTEGER),
            Column("winner_side", TEXT),
            Column("win_type", TEXT),
            *_per_team(("equipment_value", INTEGER), ("buy_type", TEXT)),
        ),
        key=("match_id", "map_number", "round_number"),
        unit=_MAP,
        statement=ROUNDS_STATEMENT,
        sized_by="round_history",
        with_map=True,
    )


def _kill_pairs() -> ExportTable:
    """One row per kill matrix, ordered pair of opponents, in both directions: who
    killed whom how often. A row of ``kill_matrix`` holds both directions of a pair: it
    is read once with both players looked up, and written as two rows (:func:`_both_ways`),
    the row player as killer, then as victim."""
    players = " ".join(
        f"LEFT JOIN player_stats p{n} ON p{n}.match_id = t.match_id AND p{n}.map_number = t.map_number "
        f"AND p{n}.player_id = t.player{n}_id"
        for n in (1, 2)
    )
    return ExportTable(
        KILL_PAIRS,
        (
            *_MAP_KEY,
            Column("matrix_type", TEXT),
            *(column for role in ("killer", "victim") for column in (
                Column(f"{role}_id", INTEGER), Column(f"{role}_name", TEXT), Column(f"{role}_team_id", INTEGER))),
            Column("kills", INTEGER),
        ),
        key=("match_id", "map_number", "matrix_type", "player1_id", "player2_id"),
        unit=_MAP,
        source="kill_matrix",
        changed_by=("t", "p1", "p2"),
        with_map=True,
        joins=players,
        read=(
            *_MAP_KEY,
            Column("matrix_type", TEXT, "t.matrix_type"),
            *(column for n in (1, 2) for column in (
                Column(f"player{n}_id", INTEGER, f"t.player{n}_id"),
                Column(f"player{n}_name", TEXT, f"p{n}.player_name"),
                Column(f"player{n}_team_id", INTEGER, f"p{n}.team_id"),
                Column(f"player{n}_kills", INTEGER, f"t.player{n}_kills"),
            )),
        ),
        reshape=_both_ways,
    )


def _both_ways(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Each row of a pair (``player1_*``, ``player2_*``) as two rows, one after the other:
    player 1 as killer and player 2 as victim, then the other way round. Arrow does the
    work: the two directions side by side, then taken in turn."""
    import pyarrow as pa

    def both(first: str, second: str) -> pa.Array:
        return pa.concat_arrays([batch.column(first), batch.column(second)])

    key = ("match_id", "map_number", "mapstatsid", "matrix_type")
    columns = {name: both(name, name) for name in key}
    for role, (this, other) in (("killer", ("player1", "player2")), ("victim", ("player2", "player1"))):
        for part in ("id", "name", "team_id"):
            columns[f"{role}_{part}"] = both(f"{this}_{part}", f"{other}_{part}")
    columns["kills"] = both("player1_kills", "player2_kills")
    return pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns)).take(
        _in_turn(batch.num_rows))


def _in_turn(rows: int) -> pa.Array:
    """The positions 0, rows, 1, rows + 1, ...: the first half's rows and the second's in turn."""
    import pyarrow as pa
    import pyarrow.compute as pc

    position = pa.array(range(2 * rows), pa.int64())
    return pc.add(pc.shift_right(position, 1), pc.multiply(pc.bit_wise_and(position, 1), rows))


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
        sized_by="matches",
    )
