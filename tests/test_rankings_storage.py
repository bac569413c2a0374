"""Storing world ranking snapshots: every fixture snapshot stored as its truth says, on
SQLite and PostgreSQL, written whole or not at all, and the same rows when written again;
and the check that refuses a snapshot that does not read as a ranking."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from hltv_scraper.items import RankingPages
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.parsers.ranking import parse_ranking
from hltv_scraper.storage import Database, ValidationError
from hltv_scraper.storage.rankings import ranking_id, write_rankings
from hltv_scraper.storage._sql import Stamp
from hltv_scraper.validation import check_ranking
from tests.support.pages import load_expected, load_page
from tests.support.seed import rows

SNAPSHOTS = ["ranking-2025-11-17", "ranking-2025-11-24", "ranking-2025-12-01"]
TEAMS = "SELECT rank, team_id, team_name, points, rank_change, is_new FROM team_rankings WHERE ranking_date = ? ORDER BY rank, team_id"
PLAYERS = "SELECT team_id, position, player_id, player_name FROM team_ranking_players WHERE ranking_date = ? ORDER BY team_id, position"


def bundle(name: str) -> RankingPages:
    return RankingPages(parse_ranking(load_page(name)))


def write(database: Path | str, pages: RankingPages, *, key: dict | None = None,
          now: str = "2026-01-05T10:00:00+00:00", stamp: Stamp | None = None):
    db = Database.open(database)
    try:
        with db.transaction(page="ranking") as sql:
            return write_rankings(sql, key, pages, now=now, parser_version=current_parser_version(),
                                  check=check_ranking, stamp=stamp or Stamp())
    finally:
        db.close()


def stored(database: Path | str, date: str) -> dict[str, list[tuple]]:
    return {"teams": rows(database, TEAMS, date), "players": rows(database, PLAYERS, date)}


def truth_rows(name: str) -> dict[str, list[tuple]]:
    truth = load_expected(name)
    teams = truth["teams"]
    return {
        "teams": sorted((t["rank"], t["team_id"], t["team_name"], t["points"], t["rank_change"], t["is_new"]) for t in teams),
        "players": sorted(
            (t["team_id"], n, p["player_id"], p["player_name"])
            for t in teams for n, p in enumerate(t["players"], start=1)
        ),
    }


@pytest.mark.slow
@pytest.mark.both_backends
def test_every_snapshot_is_stored_as_its_truth(database):
    for name in SNAPSHOTS:
        result = write(database, bundle(name))
        truth = load_expected(name)
        assert stored(database, truth["ranking_date"]) == truth_rows(name), name
        assert result.rows == {"ranking_snapshots": 1, "team_rankings": len(truth["teams"]),
                               "team_ranking_players": sum(len(t["players"]) for t in truth["teams"])}
        assert rows(
            database,
            "SELECT ranking_id, prev_date, next_date, team_count, ranking_at, scraped_at, updated_at, "
            "source_url, parser_version FROM ranking_snapshots WHERE ranking_date = ?",
            truth["ranking_date"],
        ) == [(
            ranking_id(truth["ranking_date"]), truth["prev"], truth["next"], len(truth["teams"]),
            "2026-01-05T10:00:00+00:00", "2026-01-05T10:00:00+00:00", "2026-01-05T10:00:00+00:00",
            "https://www.hltv.org" + truth["url_path"], current_parser_version(),
        )]
    assert rows(database, "SELECT count(*) FROM ranking_snapshots") == [(3,)]
    # provenance on every team and player row
    assert rows(database, "SELECT count(*) FROM team_rankings WHERE scraped_at IS NULL OR source_url IS NULL OR parser_version IS NULL") == [(0,)]
    assert rows(database, "SELECT count(*) FROM team_ranking_players WHERE updated_at IS NULL OR source_url IS NULL") == [(0,)]


@pytest.mark.slow
@pytest.mark.both_backends
def test_writing_a_snapshot_again_gives_the_same_rows_and_replaces_it_whole(database):
    pages = bundle("ranking-2025-12-01")
    write(database, pages)
    first = stored(database, "2025-12-01")
    write(database, pages, now="2026-01-12T10:00:00+00:00")
    assert stored(database, "2025-12-01") == first
    assert rows(database, "SELECT scraped_at, updated_at FROM ranking_snapshots") == [
        ("2026-01-05T10:00:00+00:00", "2026-01-12T10:00:00+00:00")
    ]
    # a re-parse that shows fewer teams and players leaves nothing of the old snapshot
    shorter = copy.deepcopy(pages)
    shorter.ranking.teams = shorter.ranking.teams[:10]
    shorter.ranking.teams[0].players = shorter.ranking.teams[0].players[:3]
    write(database, shorter)
    assert rows(database, "SELECT count(*) FROM team_rankings") == [(10,)]
    assert rows(database, "SELECT count(*) FROM team_ranking_players") == [(3 + sum(len(t.players) for t in shorter.ranking.teams[1:]),)]
    assert rows(database, "SELECT team_count FROM ranking_snapshots") == [(10,)]


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_refused_snapshot_writes_nothing(database):
    write(database, bundle("ranking-2025-11-24"))
    before = stored(database, "2025-11-24")
    broken = bundle("ranking-2025-11-24")
    broken.ranking.teams[5].points = broken.ranking.teams[0].points + 1
    with pytest.raises(ValidationError, match="more than #5"):
        write(database, broken)
    assert stored(database, "2025-11-24") == before
    other = bundle("ranking-2025-12-01")
    other.ranking.teams.append(copy.deepcopy(other.ranking.teams[3]))
    with pytest.raises(ValidationError, match="ranked twice"):
        write(database, other)
    assert rows(database, "SELECT ranking_date FROM ranking_snapshots") == [("2025-11-24",)]
    assert stored(database, "2025-12-01") == {"teams": [], "players": []}


@pytest.mark.slow
@pytest.mark.both_backends
def test_the_stage_stamp_sets_the_version_and_gives_the_lease_back(database):
    write(database, bundle("ranking-2025-11-17"))
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            sql.run("UPDATE ranking_snapshots SET lease_worker = 'w1', lease_expires = 1e12")
    finally:
        db.close()
    stamp = Stamp(", ranking_version = :stamp_version, lease_worker = NULL, lease_expires = NULL",
                  {"stamp_version": "9.9.9"})
    write(database, bundle("ranking-2025-11-17"), key={"ranking_date": "2025-11-17"}, stamp=stamp)
    assert rows(database, "SELECT ranking_version, lease_worker, lease_expires, ranking_attempts FROM ranking_snapshots") == [
        ("9.9.9", None, None, 0)
    ]


def test_a_page_of_another_week_than_its_unit_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="snapshot of 2025-11-17, not 2025-11-10"):
        write(tmp_path / "hltv.sqlite3", bundle("ranking-2025-11-17"), key={"ranking_date": "2025-11-10"})
    assert rows(tmp_path / "hltv.sqlite3", "SELECT count(*) FROM team_rankings") == [(0,)]


def test_ranking_id_is_the_date_as_a_number():
    assert ranking_id("2025-12-01") == 20251201


# -- the check alone --------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.__setitem__(slice(0, 2), [t[1], t[0]]), "listed after #2"),
        (lambda t: setattr(t[3], "points", t[2].points + 5), "more than #3"),
        (lambda t: setattr(t[4], "team_id", t[0].team_id), "ranked twice"),
        (lambda t: setattr(t[0], "rank", 0), "rank 0"),
        (lambda t: (setattr(t[2], "is_new", True), setattr(t[2], "rank_change", 1)), "is new but moved 1"),
        (lambda t: setattr(t[6], "points", None), "lacks its id, rank or points"),
        (lambda t: t.clear(), "ranks no team"),
    ],
)
def test_the_check_refuses_what_is_no_ranking(change, message):
    pages = bundle("ranking-2025-12-01")
    change(pages.ranking.teams)
    with pytest.raises(ValidationError, match=message):
        check_ranking(pages, {"unit": None})


def test_the_check_passes_ties_and_new_teams():
    pages = bundle("ranking-2025-12-01")
    ranks = [team.rank for team in pages.ranking.teams]
    assert len(ranks) != len(set(ranks)) and any(team.is_new for team in pages.ranking.teams)
    check_ranking(pages, {"unit": {"ranking_date": "2025-12-01"}})
