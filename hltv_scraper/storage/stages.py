"""What storage needs of a stage, whatever the stage: the shape, not the stages.

A stage is declared once, in ``hltv_scraper.stages`` (above storage); storage sees it
through :class:`StoredStage`. Each stage's own storage module (``storage/<stage>.py``)
holds its SQL: its writer, and, for a stage whose units are rows, the
:class:`UnitTable` saying which rows are pending and how one is read. Everything else
(streaming and claiming, attempts, failures, leases, the summary) is written once, in
``database``, for any stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

if TYPE_CHECKING:
    from hltv_scraper.storage._errors import SaveResult
    from hltv_scraper.storage._sql import Row, Sql, Stamp


class Read(TypedDict):
    """What a writer read in its transaction and hands its check: the unit's row (None
    where the writer makes it, or no row tracks the unit)."""

    unit: Row | None


class MatchRead(Read):
    #: the maps stored of the match, and those of its page's mapstatsids stored elsewhere
    maps: list[Row]
    maps_elsewhere: list[Row]


class MapStatsRead(Read):
    #: the map's match row (team order, whether its page is stored)
    match: Row | None


class PerfEconomyRead(Read):
    #: the map's stored scoreboard and round history
    players: list[Row]
    rounds: list[Row]


#: A stage's validation, called by its writer inside the transaction with what it read
#: there (a :class:`Read`): raises ValidationError (nothing is written), or returns what
#: the writer needs of it (the performance and economy check: the economy chart's team
#: order). Each stage's writer and check agree on the bundle and the Read they pass.
Check = Callable[[Any, Any], Any]


class Writer(Protocol):
    """Writes one unit's page bundle inside the caller's transaction. A writer whose unit
    table declares ``reads`` is handed their rows as ``read`` (others are not)."""

    def __call__(
        self, db: Sql, key: Row | None, bundle: Any, *, now: str, parser_version: str,
        check: Check | None, stamp: Stamp, read: Sequence[list[Row]] = (),
    ) -> SaveResult: ...


@dataclass(frozen=True)
class CorrectedTable:
    """A table a stage's writer writes for a unit, as a re-read compares it
    (``corrections``): one row per value that changed."""

    name: str
    #: primary key columns
    key: tuple[str, ...]
    #: the unit's rows: columns of its key (``match_id`` or the map's two)
    of: tuple[str, ...]
    #: the only columns this stage answers for (None: all but bookkeeping)
    only: tuple[str, ...] | None = None
    #: columns this stage leaves to another
    leave: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitTable:
    """Where a stage's units are rows: one per unit, claimed, attempted, stored."""

    #: the unit's table and key column
    table: str
    key: str
    #: columns: failed parse attempts, and when the stage stored the unit
    attempts: str
    done: str
    #: columns: the parser version the attempts were counted under (a newer one starts
    #: them again), and the one the stage stored the unit with (an older one is stale)
    attempts_version: str
    version: str
    #: SQL over the unit's row ``u``: pending, attempts aside
    pending: str
    #: the unit row the writer and the spider see (``u`` is the unit's table), with the
    #: unit's key as ``unit_id``; ``slug``, ``team1_name``, ``team2_name``, ``match_id``,
    #: ``map_number`` and ``mapstatsid`` where the unit has them
    select: str
    #: what a unit is in the user's words, plural (``scrapy requeue`` prints it)
    called: str = "units"
    #: whether each unit row has the ``match_id`` it belongs to (``--match-id`` names units)
    of_match: bool = True
    #: whether the writer makes a unit's row when it stores the unit (units found by a
    #: walk, not pending in the table): a unit without a row is written, not refused
    made_by_writer: bool = False
    #: SQL over ``u``: pending units claimed before the others (matches due again)
    first: str | None = None
    #: a read of a unit schedules its next while its maps wait for their stats links
    #: (HLTV_STATS_WAIT: the match stage)
    waits_for_stats: bool = False
    #: the tables a re-read of a unit compares (``corrections``); none: not recorded
    corrected: tuple[CorrectedTable, ...] = ()
    #: what the writer reads of a unit before it writes, by the unit's key ``:id``: read
    #: with the unit's own row (on PostgreSQL one round trip for all), handed to the
    #: writer as ``read``
    reads: tuple[str, ...] = ()
    #: another stage whose rows of the unit this stage's write may take back, with its
    #: corrected tables (a scoreboard with other players takes back performance): that
    #: stage reads the unit again, comparing with what they were before
    takes_back: tuple[str, tuple[CorrectedTable, ...]] | None = None

    def attempts_left(self, alias: str = "u") -> str:
        """SQL over the unit's row ``alias``: fewer than ``:max_attempts`` failures, or
        failures counted under another parser version than ``:parser_version`` (a count
        kept under no recorded version stands)."""
        counted_under = f"{alias}.{self.attempts_version}"
        return (
            f"({alias}.{self.attempts} < :max_attempts OR ({counted_under} IS NOT NULL "
            f"AND {counted_under} <> :parser_version))"
        )


#: ``(label, SELECT count(*) ...)``: what a person checks after a run (``scrapy summary``).
Counts = tuple[tuple[str, str], ...]

#: What an exported table's rows belong to: a match's, a map's (exported with it), or a
#: ranking snapshot's (of no match: every stored one is exported).
OF_MATCH, OF_MAP, OF_SNAPSHOT = "match", "map", "snapshot"


@dataclass(frozen=True)
class ExportedTable:
    """A table a stage writes, as ``scrapy export`` writes it out."""

    name: str
    #: its primary key: the export reads it in batches along it
    key: tuple[str, ...]
    #: OF_MATCH, OF_MAP or OF_SNAPSHOT
    of: str


class StoredStage(Protocol):
    """A stage as storage sees it (``hltv_scraper.stages.Stage`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def page_names(self) -> tuple[str, ...]: ...

    @property
    def bundle(self) -> type: ...

    @property
    def write(self) -> Writer: ...

    #: None for a stage whose units no row tracks (results pages are walked)
    @property
    def rows(self) -> UnitTable | None: ...

    @property
    def counts(self) -> Counts: ...

    #: the tables the stage writes, in the order the export writes them
    @property
    def exports(self) -> tuple[ExportedTable, ...]: ...
