"""The four stages as the database sees them: which units are pending, and how one is written.

Public: spiders declare their stage with one of these; ``Stage.bundle`` is the page
bundle (``hltv_scraper.items``) its writer takes, one field per page name.

A unit of work is named by a key (a results page's offset, a match id, a mapstatsid),
lives in one table row (none for results pages: they are walked, not pending), needs a
fixed set of pages, and is stored by one writer inside one transaction. Everything else
(streaming and claiming, attempts, failures, leases) is written once, in ``database``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hltv_scraper.items import (
    ECONOMY,
    MAPSTATS,
    MATCH,
    PERFORMANCE,
    RESULTS,
    MapStatsPages,
    MatchPages,
    PerfEconomyPages,
    ResultsPages,
)
from hltv_scraper.storage._map_stats import write_map_stats
from hltv_scraper.storage._match import write_match
from hltv_scraper.storage._perf_economy import write_perf_economy
from hltv_scraper.storage._results import write_results


@dataclass(frozen=True)
class Stage:
    name: str
    #: the pages one unit needs, by page name
    pages: tuple[str, ...]
    #: the page bundle the writer takes (a dataclass with one field per page name)
    bundle: type
    #: writes a unit's page bundle: ``write(sql, unit_row, bundle, now=, parser_version=,
    #: check=, stamp=)``, calling ``check(bundle, rows)`` with the rows it read
    write: Callable[..., Any]
    #: the unit's table and key column; None for results pages, which no row tracks
    table: str | None = None
    key: str | None = None
    #: columns: failed parse attempts, and when the stage stored the unit
    attempts: str | None = None
    done: str | None = None
    #: columns: the parser version the attempts were counted under (a newer one starts
    #: them again), and the one the stage stored the unit with (an older one is stale)
    attempts_version: str | None = None
    version: str | None = None
    #: SQL over the unit's row ``u``: pending, attempts aside
    pending: str | None = None
    #: the unit row the writer and the spider see (``u`` is the unit's table); its
    #: ``fetch_anew`` column says the unit's pages must not come from the archive
    select: str | None = None
    #: SQL over ``u``: pending units claimed before the others (due re-reads first)
    first: str | None = None

    @property
    def tracked(self) -> bool:
        """Whether units are rows in the database (pending, claimed, counted)."""
        return self.table is not None

    def attempts_left(self, alias: str = "u") -> str:
        """SQL over the unit's row ``alias``: fewer than ``:max_attempts`` failures, or
        failures counted under another parser version than ``:parser_version`` (a count
        kept under no recorded version stands)."""
        counted_under = f"{alias}.{self.attempts_version}"
        return (
            f"({alias}.{self.attempts} < :max_attempts OR ({counted_under} IS NOT NULL "
            f"AND {counted_under} <> :parser_version))"
        )


def _reread(stage: str, key: str) -> str:
    """SQL over ``u``: the unit is due for a re-read by ``stage`` (``scrapy refresh``,
    ``scrapy requeue``)."""
    # not correlated, so read once per statement, and looked into only when the stage
    # has any: most of the time none is asked for, and the test per row then costs nothing
    asked = f"SELECT r.unit_id FROM rereads r WHERE r.stage = '{stage}'"
    return f"(EXISTS ({asked}) AND u.{key} IN ({asked}))"


def _fetch_anew(stage: str, key: str, attempts: str, done: str, *more: str) -> str:
    """The ``fetch_anew`` column: a unit whose last attempt failed (attempts counted, not
    stored), or that is read again on purpose, is fetched from the site, never served
    from the archive."""
    anew = " OR ".join([f"(u.{attempts} > 0 AND u.{done} IS NULL)", _reread(stage, key), *more])
    return f"(CASE WHEN {anew} THEN 1 ELSE 0 END) AS fetch_anew"


def _map_select(stage: str, attempts: str, done: str) -> str:
    return (
        "SELECT u.mapstatsid AS unit_id, u.match_id, u.map_number, u.perf_economy_at, "
        "u.mapstats_at, u.lease_worker, u.lease_expires, NULL AS slug, u.team1_rounds, u.team2_rounds, "
        f"m.team1_id, m.team1_name, m.team2_id, m.team2_name, {_fetch_anew(stage, 'mapstatsid', attempts, done)} "
        "FROM maps u LEFT JOIN matches m ON m.match_id = u.match_id"
    )


_HAS_SCOREBOARD = (
    "EXISTS (SELECT 1 FROM player_stats p "
    "WHERE p.match_id = u.match_id AND p.map_number = u.map_number)"
)

RESULTS_STAGE = Stage(name="results", pages=(RESULTS,), bundle=ResultsPages, write=write_results)

MATCHES = Stage(
    name="matches",
    pages=(MATCH,),
    bundle=MatchPages,
    write=write_match,
    table="matches",
    key="match_id",
    attempts="match_attempts",
    done="match_page_at",
    attempts_version="match_attempts_version",
    version="match_page_version",
    # Never read; due again while its maps wait for their stats links (``:now_epoch``);
    # or due for a re-read.
    pending=(
        "u.match_page_at IS NULL OR u.stats_due_at <= :now_epoch OR "
        + _reread("matches", "match_id")
    ),
    select=(
        "SELECT u.match_id AS unit_id, u.match_id, u.match_page_at, u.lease_worker, "
        "u.lease_expires, u.slug, u.team1_id, u.team1_name, u.team2_id, u.team2_name, "
        f"{_fetch_anew('matches', 'match_id', 'match_attempts', 'match_page_at', 'u.stats_due_at IS NOT NULL')} "
        "FROM matches u"
    ),
    first="u.match_page_at IS NOT NULL",
)

MAP_STATS = Stage(
    name="map_stats",
    pages=(MAPSTATS,),
    bundle=MapStatsPages,
    write=write_map_stats,
    table="maps",
    key="mapstatsid",
    attempts="mapstats_attempts",
    done="mapstats_at",
    attempts_version="mapstats_attempts_version",
    version="mapstats_version",
    # A mapstatsid, no scoreboard yet (or one due for a re-read).
    pending=(
        f"u.mapstatsid IS NOT NULL AND ((u.mapstats_at IS NULL AND NOT {_HAS_SCOREBOARD}) "
        f"OR {_reread('map_stats', 'mapstatsid')})"
    ),
    select=_map_select("map_stats", "mapstats_attempts", "mapstats_at"),
)

PERF_ECONOMY = Stage(
    name="perf_economy",
    pages=(PERFORMANCE, ECONOMY),
    bundle=PerfEconomyPages,
    write=write_perf_economy,
    table="maps",
    key="mapstatsid",
    attempts="perf_attempts",
    done="perf_economy_at",
    attempts_version="perf_attempts_version",
    version="perf_economy_version",
    # Scoreboard stored, performance/economy not yet (a map whose players have kpr is done).
    # A re-read waits for the scoreboard's own re-read (the page it is checked against).
    pending=(
        f"u.mapstatsid IS NOT NULL AND ((u.perf_economy_at IS NULL AND {_HAS_SCOREBOARD} "
        "AND NOT EXISTS (SELECT 1 FROM player_stats p WHERE p.match_id = u.match_id "
        "AND p.map_number = u.map_number AND p.kpr IS NOT NULL)) "
        f"OR ({_reread('perf_economy', 'mapstatsid')} AND {_HAS_SCOREBOARD} "
        f"AND NOT {_reread('map_stats', 'mapstatsid')}))"
    ),
    select=_map_select("perf_economy", "perf_attempts", "perf_economy_at"),
)

#: In the order a collection runs them.
STAGES = {stage.name: stage for stage in (RESULTS_STAGE, MATCHES, MAP_STATS, PERF_ECONOMY)}
