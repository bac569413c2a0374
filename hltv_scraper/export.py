"""Writing the dataset to files people load in pandas, polars, DuckDB, R or a spreadsheet.

One file per table plus the analysis views (``player_maps``, ``economy_rounds``,
``kill_pairs``: see docs/data.md), as Parquet (typed: integers with NULLs, float64,
booleans, UTC timestamps), CSV (a header; an empty cell is NULL) or JSON lines; or one
DuckDB database, ``hltv.duckdb``, holding each of them as a table of the Parquet files'
types (loaded from the same Arrow batches, through the ``duckdb`` package).

The storage layer streams each table as Arrow record batches, read and typed in compiled
code: Parquet and DuckDB take them as they are, no value passing through Python on its
way (CSV and JSON lines turn them into text). Memory holds a batch or two, however
large the database.

Files are written into a hidden folder inside ``--out`` and moved into place only when
every one is complete: an export that fails leaves nothing half written (and removes the
folders it created). A full disk is :class:`hltv_scraper.output.CannotWrite`, one line
naming the file.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hltv_scraper.output import CannotWrite, disk_full, writing
from hltv_scraper.stages import STAGES
from hltv_scraper.storage.database import utc_now
from hltv_scraper.storage.export import (
    Column,
    Selection,
    arrow_schema,
    estimated_rows,
    export_tables,
    read_batches,
    snapshot,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from hltv_scraper.storage import Database

#: ``--format`` -> the files' extension
FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl", "duckdb": "duckdb"}
#: the one file of ``--format duckdb``
DUCKDB_FILE = "hltv.duckdb"
#: DuckDB's own memory while it loads batches (it writes to the file beyond that)
DUCKDB_MEMORY = "64MB"
#: rows per record batch read, and per row group of a Parquet file
BATCH_ROWS = 32_768
#: rows per record batch read into DuckDB, which makes row groups of its own: a smaller
#: batch in flight is less memory (peak RSS at 20,000 maps 489 -> 430 MB), at the same speed
DUCKDB_BATCH_ROWS = 8_192
#: tables read and written side by side (threads, each on a connection of its own)
READERS = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_INCREMENTAL_OVERLAP = timedelta(minutes=1)


class ExportError(ValueError):
    """What the person asked for cannot be done (a bad option, an unusable folder)."""


@dataclass
class ExportResult:
    out: Path
    file_format: str
    #: when the export read the database
    as_of: str
    #: file name (DuckDB: ``hltv.duckdb:table``) -> rows written, in the order written
    files: dict[str, int] = field(default_factory=dict)

    @property
    def next_changed_since(self) -> str:
        """The next incremental run's ``--changed-since``: a minute before ``as_of``.

        A unit's rows carry the time its write began, to the second, and are seen once
        it commits: one stamped just before ``as_of`` and committed after the snapshot
        began is in neither this export nor a next one starting at ``as_of``. Rows of
        that minute come twice; the files are keyed, so keep the latest per key.
        """
        return (datetime.fromisoformat(self.as_of) - _INCREMENTAL_OVERLAP).isoformat(timespec="seconds")


# -- options --------------------------------------------------------------------------


def parse_day(text: str, *, option: str) -> date:
    try:
        if len(text.strip()) == len("YYYY-MM-DD"):
            return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise ExportError(f"{option} must be a day as YYYY-MM-DD, got {text!r}")


def parse_changed_since(text: str) -> str:
    """A day or an ISO-8601 time (UTC unless it says otherwise), as ``updated_at`` is
    stored: ISO-8601 UTC to the second."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(
            "--changed-since must be a day or an ISO-8601 time (2026-01-31, "
            f"2026-01-31T06:00:00Z, 2026-01-31T08:00:00+02:00), got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def selection(
    *, since: str | None = None, until: str | None = None, changed_since: str | None = None,
    include_incomplete: bool = False,
) -> Selection:
    """The rows the options select; ``since``/``until`` are whole UTC days, both included."""
    first = parse_day(since, option="--since") if since else None
    last = parse_day(until, option="--until") if until else None
    if first and last and first > last:
        raise ExportError(f"--since {first} is after --until {last}")
    return Selection(
        complete_only=not include_incomplete,
        since_ms=_day_ms(first) if first else None,
        until_ms=_day_ms(last + timedelta(days=1)) if last else None,
        changed_since=parse_changed_since(changed_since) if changed_since else None,
    )


def _day_ms(day: date) -> int:
    return (datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - _EPOCH) // timedelta(milliseconds=1)


# -- the export -----------------------------------------------------------------------


def export_dataset(
    db: Database, out: Path, *, file_format: str, rows: Selection, batch_rows: int | None = None
) -> ExportResult:
    """Write every table and view into the folder ``out`` (created if needed), read in
    batches of ``batch_rows`` (by default the format's own)."""
    if file_format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    staging = _Staging(out)
    result = ExportResult(out=out, file_format=file_format, as_of=utc_now())
    name = DUCKDB_FILE if file_format == "duckdb" else ""  # the file being written
    try:
        sink = _SINKS[file_format](staging.folder, FORMATS[file_format])
        batch_rows = batch_rows or sink.batch_rows
        try:
            tables = export_tables(db.sql, STAGES.values())
            with snapshot(db.sql, readers=min(READERS, len(tables))) as readers:
                # the largest first, each to the next reader free: they end together
                estimate = estimated_rows(readers[0], tables)
                queue = sorted(tables, key=lambda t: estimate[t.name] * len(t.columns), reverse=True)
                counts = _side_by_side(readers, queue, lambda reader, table: _write_table(
                    sink, reader, table, rows, batch_rows, out=out))
            for table in tables:  # reported in the tables' order
                name, count = counts[table.name]
                result.files[name] = count
        finally:
            sink.close()
        staging.move_into_place()
    except BaseException as exc:
        staging.abandon()
        why = disk_full(exc)
        if why is not None:
            raise CannotWrite(f"cannot write {out / name.partition(':')[0]}: {why}") from None
        raise
    return result


def _write_table(
    sink: _Sink, reader: Any, table: Any, rows: Selection, batch_rows: int, *, out: Path
) -> tuple[str, int]:
    """Read one table and write it whole: its name as reported, and its rows. A full
    disk names the file (tables are written side by side: the caller cannot tell which)."""
    count = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal count
        for batch in read_batches(reader, table, rows, batch_rows=batch_rows):
            count += batch.num_rows
            yield batch

    with writing(out / sink.file_of(table.name)):
        name, writer = sink.table(table.name, table.columns)
        try:
            writer.write_all(counted())
        finally:
            writer.close()
    return name, count


def _side_by_side(readers: list[Any], queue: list[Any], work: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """``work(reader, table)`` for every table of ``queue``, in that order, each reader
    (a thread of its own) taking the next table when done with one: the drivers, Arrow
    and the file writers run in compiled code, out of the GIL's way. The first failure
    stops every reader after its current table, and is raised."""
    pending, done, failed = list(queue), {}, []
    lock = threading.Lock()

    def run(reader: Any) -> None:
        while True:
            with lock:
                if failed or not pending:
                    return
                table = pending.pop(0)
            try:
                done[table.name] = work(reader, table)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                with lock:
                    failed.append(exc)
                return

    threads = [threading.Thread(target=run, args=(reader,), name=f"export-{n}") for n, reader in enumerate(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    return done


class _Staging:
    """The hidden folder files are written into, inside ``out``."""

    def __init__(self, out: Path) -> None:
        if out.exists() and not out.is_dir():
            raise ExportError(f"--out {out} is a file, not a folder")
        self.out = out
        # What this export creates, to remove if it fails: the first missing folder.
        self.created = next((p for p in reversed([out, *out.parents]) if not p.exists()), None)
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
        except OSError as exc:
            self._remove_created()
            raise ExportError(f"cannot write to --out {out}: {exc.strerror or exc}") from None

    def move_into_place(self) -> None:
        for path in sorted(self.folder.iterdir()):
            os.replace(path, self.out / path.name)
        self.folder.rmdir()

    def abandon(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self._remove_created()

    def _remove_created(self) -> None:
        """Remove the folders this export made, innermost first, while they are empty
        (another export may have put its own folder beside ours meanwhile)."""
        if self.created is None:
            return
        for folder in (self.out, *self.out.parents):
            try:
                folder.rmdir()
            except OSError:
                return
            if folder == self.created:
                return


# -- writers --------------------------------------------------------------------------


class _Writer(Protocol):
    def write_all(self, batches: Iterator[pa.RecordBatch]) -> None:
        """Write every record batch (of the table's :func:`arrow_schema`) as it comes."""
        ...

    def close(self) -> None: ...


class _Sink(Protocol):
    """Where one export's tables go: a file each, or one database."""

    #: rows per record batch it takes best
    batch_rows: int

    def file_of(self, name: str) -> str:
        """The file the table ``name`` goes into."""
        ...

    def table(self, name: str, columns: Sequence[Column]) -> tuple[str, _Writer]:
        """The name to report and the writer of the table ``name``."""
        ...

    def close(self) -> None: ...


class _FilePerTable:
    batch_rows = BATCH_ROWS

    def __init__(self, folder: Path, extension: str) -> None:
        self.folder, self.extension = folder, extension

    def file_of(self, name: str) -> str:
        return f"{name}.{self.extension}"

    def table(self, name: str, columns: Sequence[Column]) -> tuple[str, _Writer]:
        file = self.file_of(name)
        return file, _WRITERS[self.extension](self.folder / file, columns)

    def close(self) -> None:
        pass


class _ParquetWriter:
    """A row group per batch."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        import pyarrow.parquet as pq

        self.writer = pq.ParquetWriter(path, arrow_schema(columns))

    def write_all(self, batches: Iterator[pa.RecordBatch]) -> None:
        for batch in batches:
            self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


class _DuckDb:
    """One ``hltv.duckdb`` holding every table and view as a table, created from an
    empty Arrow table of the Parquet types and filled batch by batch, through DuckDB's
    relational API (no SQL text is built here)."""

    batch_rows = DUCKDB_BATCH_ROWS

    def __init__(self, folder: Path, extension: str) -> None:
        import duckdb

        self.connection = duckdb.connect(
            str(folder / DUCKDB_FILE), config={"memory_limit": DUCKDB_MEMORY, "threads": 1}
        )

    def file_of(self, name: str) -> str:
        return DUCKDB_FILE

    def table(self, name: str, columns: Sequence[Column]) -> tuple[str, _Writer]:
        # a cursor is a connection of its own to the same database: one per table, as
        # the tables are loaded side by side
        return f"{DUCKDB_FILE}:{name}", _DuckDbTable(self.connection.cursor(), name, columns)

    def close(self) -> None:
        self.connection.close()


class _DuckDbTable:
    """Filled by one ``INSERT`` that pulls the batches as DuckDB takes them in: a
    statement per batch cost DuckDB two and a half times the work."""

    def __init__(self, connection: Any, name: str, columns: Sequence[Column]) -> None:
        self.connection, self.name = connection, name
        self.schema = arrow_schema(columns)
        connection.from_arrow(self.schema.empty_table()).create(name)

    def write_all(self, batches: Iterator[pa.RecordBatch]) -> None:
        import pyarrow as pa

        failed: list[BaseException] = []

        def kept(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            try:
                yield from batches
            except BaseException as exc:  # DuckDB would raise its own error for it
                failed.append(exc)
                raise

        stream = pa.RecordBatchReader.from_batches(self.schema, kept(batches))
        try:
            self.connection.from_arrow(stream).insert_into(self.name)
        except Exception:
            if failed:
                raise failed[0] from None
            raise

    def close(self) -> None:
        self.connection.close()


def _as_text(batch: pa.RecordBatch, *, flags: bool) -> list[list[Any]]:
    """The batch's columns as Python values, each time as ISO-8601 UTC text
    (``2026-01-31T06:00:00Z``) and, with ``flags``, each flag as ``true``/``false``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for array in batch.columns:
        if pa.types.is_timestamp(array.type):
            array = pc.strftime(pc.cast(array, pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
        elif flags and pa.types.is_boolean(array.type):
            array = pc.cast(array, pa.string())
        columns.append(array.to_pylist())
    return columns


class _CsvWriter:
    """A header row; NULL is an empty cell (the csv module writes None so)."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.handle = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        self.writer.writerow([c.name for c in columns])

    def write_all(self, batches: Iterator[pa.RecordBatch]) -> None:
        for batch in batches:
            self.writer.writerows(zip(*_as_text(batch, flags=True)))

    def close(self) -> None:
        self.handle.close()


class _JsonLinesWriter:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.handle = path.open("w", encoding="utf-8")
        self.names = [c.name for c in columns]

    def write_all(self, batches: Iterator[pa.RecordBatch]) -> None:
        names = self.names
        for batch in batches:
            self.handle.writelines(
                json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\n"
                for row in zip(*_as_text(batch, flags=False))
            )

    def close(self) -> None:
        self.handle.close()


_WRITERS: dict[str, Callable[[Path, Sequence[Column]], _Writer]] = {
    "parquet": _ParquetWriter, "csv": _CsvWriter, "jsonl": _JsonLinesWriter,
}
_SINKS: dict[str, Callable[[Path, str], _Sink]] = {
    "parquet": _FilePerTable, "csv": _FilePerTable, "jsonl": _FilePerTable, "duckdb": _DuckDb,
}
