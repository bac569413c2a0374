"""`scrapy summary`: units by the parser version that stored them, and failures grouped so
a page HLTV changed reads as one line, not one per map."""

from __future__ import annotations

import pytest

from hltv_scraper.commands.summary import print_summary
from hltv_scraper.parsers import _page
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from hltv_scraper.storage import normalise_reason
from tests.support.seed import rows

pytestmark = pytest.mark.both_backends
MAPS = list(range(1000, 1160))


def summary(database, capsys) -> list[str]:
    db = Database.open(database)
    try:
        print_summary(db, max_attempts=3)
    finally:
        db.close()
    return capsys.readouterr().out.splitlines()


def section(lines: list[str], title: str) -> list[str]:
    start = next(n for n, line in enumerate(lines) if line.startswith(title))
    following = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        following.append(line.strip())
    return following


def test_failures_of_many_maps_for_one_reason_read_as_one_line(database, capsys, monkeypatch):
    monkeypatch.setattr(_page, "PARSER_VERSION", "2.0.0")
    db = Database.open(database)
    try:
        db.add_maps([(mapstatsid, 1, mapstatsid) for mapstatsid in MAPS])
        for n, mapstatsid in enumerate(MAPS[:150]):
            reason = f"performance: expected 5 player cards for {f'Team {n % 40}, Ltd.'!r}, found {n % 2}"
            db.record_failure(STAGES["perf_economy"], mapstatsid, failures=[("performance", reason, None)],
                              parser_version="2.0.0" if n < 100 else "1.0.0")
        for mapstatsid in MAPS[150:153]:
            reason = f"economy vs mapstats: players [{mapstatsid}, 7, 8] are not on the scoreboard"
            db.record_failure(STAGES["perf_economy"], mapstatsid, failures=[("economy", reason, None)], parser_version="2.0.0")
        db.record_failure(STAGES["map_stats"], MAPS[0], failures=[("mapstats", "map stats: no .match-info-box", None)],
                          parser_version="2.0.0")
    finally:
        db.close()
    rows(database, "UPDATE failures SET failed_at = '2026-03-01T09:00:00+00:00' WHERE page = 'performance'")
    rows(database, "UPDATE failures SET failed_at = '2026-03-01T10:00:00+00:00' WHERE failure_id = "
                   "(SELECT min(failure_id) FROM failures WHERE page = 'performance')")

    lines = section(summary(database, capsys), "Failures by stage, page and reason")

    assert len(lines) == 3
    assert lines[0] == (
        "150  perf_economy performance page, 150 units, parser 1.0.0, 2.0.0, latest 2026-03-01T10:00:00+00:00: "
        "performance: expected # player cards for '…', found #"
    )
    assert lines[1].startswith("3  perf_economy economy page, 3 units, parser 2.0.0, latest ")
    assert lines[1].endswith(": economy vs mapstats: players [#…] are not on the scoreboard")
    assert lines[2].startswith("1  map_stats mapstats page, 1 unit, parser 2.0.0") and lines[2].endswith("no .match-info-box")


def test_units_are_counted_by_the_parser_version_that_stored_them(database, capsys, monkeypatch):
    monkeypatch.setattr(_page, "PARSER_VERSION", "2.0.0")
    db = Database.open(database)
    try:
        db.add_maps([(mapstatsid, 1, mapstatsid) for mapstatsid in MAPS[:30]])
    finally:
        db.close()
    stored = "UPDATE maps SET mapstats_at = 'then', mapstats_version = ? WHERE mapstatsid BETWEEN ? AND ?"
    rows(database, stored, "2.0.0", MAPS[0], MAPS[11])
    rows(database, stored, "1.9.1", MAPS[12], MAPS[15])
    rows(database, stored, None, MAPS[16], MAPS[16])
    rows(database, "UPDATE maps SET perf_economy_at = 'then', perf_economy_version = '2.0.0' "
                   "WHERE mapstatsid BETWEEN ? AND ?", MAPS[0], MAPS[4])

    lines = section(summary(database, capsys), "Stored by parser version (this code: 2.0.0):")

    assert lines == [
        "map_stats     2.0.0: 12, 1.9.1: 4, unrecorded: 1  "
        "(5 stale: scrapy crawl map_stats -a reparse=stale -s HLTV_REPLAY=1)",
        "perf_economy  2.0.0: 5",
    ]
    db = Database.open(database)
    try:
        assert db.count_pending(STAGES["map_stats"], max_attempts=3, parser_version="2.0.0", stale=True) == 5
    finally:
        db.close()


def test_reasons_lose_their_ids_and_names_but_not_their_words():
    assert normalise_reason("performance vs mapstats: player 14094 has KPR 0.85 over 24 rounds (20.4 kills), "
                            "18 kills on the scoreboard") == (
        "performance vs mapstats: player # has KPR # over # rounds (# kills), # kills on the scoreboard")
    assert normalise_reason("economy: team \"Smoke & Mirrors\" is team [4175, 4350] by different sources") == (
        "economy: team '…' is team [#…] by different sources")


def test_failure_groups_count_distinct_units_and_keep_a_real_example(database):
    """The one grouping rule the summary and the report use: failures of a reason once
    ids and names are folded out, the units they hit, and the latest real reason."""
    db = Database.open(database)
    try:
        db.add_maps([(mapstatsid, 1, mapstatsid) for mapstatsid in MAPS[:3]])
        for attempt in range(2):
            for n, mapstatsid in enumerate(MAPS[:3]):
                db.record_failure(STAGES["map_stats"], mapstatsid, parser_version="2.0.0", failures=[
                    ("mapstats", f"team 'Team {n}' won {attempt + n} rounds in the history", None)])
        groups = db.failure_groups(recent=None)
        latest = db.failure_groups(recent=2)
    finally:
        db.close()
    assert [(g.stage, g.page, g.reason, g.failures, g.units) for g in groups] == [
        ("map_stats", "mapstats", "team '…' won # rounds in the history", 6, 3)]
    # a reason as it was recorded, names and numbers in it
    assert groups[0].example in {reason for (reason,) in rows(database, "SELECT reason FROM failures")}
    assert [(g.failures, g.units) for g in latest] == [(2, 2)]
