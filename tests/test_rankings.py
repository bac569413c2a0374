"""``scrapy crawl rankings`` end to end against a local server: the walk from the current
ranking through each page's link to the previous snapshot, every snapshot stored as its
truth says, where the walk stops, a weekly rerun reading one page, and a foreign or
broken page refused by name with nothing stored."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import UsageError

from hltv_scraper.brakes import CLOSE_REASON_LAYOUT, CLOSE_REASON_REFUSED
from hltv_scraper.export import export_dataset, selection
from hltv_scraper.items import Unit
from hltv_scraper.stages.rankings import ranking_url
from hltv_scraper.storage import Database
from tests.support.crawl import run_crawl
from tests.support.pages import load_expected, page_bytes
from tests.support.seed import rows
from tests.support.server import Answer, FixtureServer

NEWEST, MIDDLE, OLDEST = "2025-12-01", "2025-11-24", "2025-11-17"
TEAMS = (
    "SELECT rank, team_id, team_name, points, rank_change, is_new FROM team_rankings "
    "WHERE ranking_date = ? ORDER BY rank, team_id"
)
PLAYERS = (
    "SELECT team_id, player_id, player_name FROM team_ranking_players WHERE ranking_date = ? "
    "ORDER BY team_id, position"
)


def serve_current(server: FixtureServer, day: str = NEWEST) -> None:
    """``/ranking/teams`` shows the snapshot of ``day``, as HLTV's shows the latest."""
    server.script("ranking", 0, Answer(body=page_bytes(f"ranking-{day}")))


def ranking_requests(server: FixtureServer) -> list[int]:
    return sorted((unit for (page, unit), n in server.requests.items() if page == "ranking" for _ in range(n)),
                  reverse=True)


def stored_dates(database) -> list[str]:
    return [date for (date,) in rows(database, "SELECT ranking_date FROM ranking_snapshots ORDER BY 1 DESC")]


def assert_stored_as_truth(database, day: str) -> None:
    truth = load_expected(f"ranking-{day}")
    assert rows(database, TEAMS, day) == sorted(
        (t["rank"], t["team_id"], t["team_name"], t["points"], t["rank_change"], int(t["is_new"]))
        for t in truth["teams"]
    ), day
    # by team, each lineup in the page's order
    assert rows(database, PLAYERS, day) == [
        (t["team_id"], p["player_id"], p["player_name"])
        for t in sorted(truth["teams"], key=lambda t: t["team_id"])
        for p in t["players"]
    ], day


def test_a_snapshot_url_is_its_date_with_the_month_named():
    assert ranking_url("https://www.hltv.org/", Unit(id=20261207)) == "https://www.hltv.org/ranking/teams/2026/december/7"
    assert ranking_url("https://www.hltv.org", Unit(id=0)) == "https://www.hltv.org/ranking/teams"


@pytest.mark.slow
@pytest.mark.both_backends
def test_the_walk_follows_previous_links_and_stores_every_snapshot_as_its_truth(server, database, crawl_settings):
    serve_current(server)

    result = run_crawl("rankings", crawl_settings, since=OLDEST)

    assert result.close_reason == "finished"
    # the current page, then each previous link; the snapshot before OLDEST is not read
    assert ranking_requests(server) == [20251124, 20251117, 0]
    assert stored_dates(database) == [NEWEST, MIDDLE, OLDEST]
    for day in (NEWEST, MIDDLE, OLDEST):
        assert_stored_as_truth(database, day)
    assert result.stat("hltv/snapshots/committed") == 3
    assert "older than -a since" in result.stats["hltv/snapshots/stopped_because"]
    # ties share a rank: 2025-12-01 ranks two teams 7th
    assert rows(database, "SELECT count(*) FROM team_rankings WHERE ranking_date = ? AND rank = 7", NEWEST) == [(2,)]


@pytest.mark.slow
def test_every_stored_snapshot_is_exported_whatever_the_matches(server, database, crawl_settings, tmp_path):
    serve_current(server)
    run_crawl("rankings", crawl_settings, since=OLDEST)

    with Database.open(database) as db:
        result = export_dataset(db, tmp_path / "out", file_format="parquet", rows=selection(since="2030-01-01"))

    teams = pq.read_table(tmp_path / "out" / "team_rankings.parquet").to_pylist()
    assert result.files["team_rankings.parquet"] == len(teams) == 30 + 25 + 30
    assert {(t["ranking_date"], t["rank"], t["team_id"], t["points"]) for t in teams} == {
        (day, t["rank"], t["team_id"], t["points"])
        for day in (NEWEST, MIDDLE, OLDEST) for t in load_expected(f"ranking-{day}")["teams"]
    }
    assert result.files["ranking_snapshots.parquet"] == 3


@pytest.mark.slow
def test_a_weekly_run_reads_one_page_and_a_rerun_stores_nothing_new(server, database, crawl_settings):
    serve_current(server, MIDDLE)
    run_crawl("rankings", crawl_settings, since=OLDEST)
    assert stored_dates(database) == [MIDDLE, OLDEST]

    server.requests.clear()
    serve_current(server, NEWEST)  # a week later
    result = run_crawl("rankings", crawl_settings, since=OLDEST)

    assert ranking_requests(server) == [0]  # the previous snapshot is stored: not read
    assert stored_dates(database) == [NEWEST, MIDDLE, OLDEST]
    assert_stored_as_truth(database, NEWEST)
    assert "stored already" in result.stats["hltv/snapshots/stopped_because"]

    server.requests.clear()
    before = rows(database, "SELECT ranking_date, updated_at FROM ranking_snapshots ORDER BY 1")
    again = run_crawl("rankings", crawl_settings, since=OLDEST)

    assert ranking_requests(server) == [0]
    assert again.stat("hltv/snapshots/passed_over") == 1
    assert again.stat("hltv/snapshots/committed") == 0
    assert rows(database, "SELECT ranking_date, updated_at FROM ranking_snapshots ORDER BY 1") == before


@pytest.mark.slow
def test_full_reads_past_stored_snapshots_and_until_passes_newer_ones_over(server, database, crawl_settings):
    serve_current(server)
    run_crawl("rankings", crawl_settings, since=MIDDLE, until=MIDDLE)
    assert stored_dates(database) == [MIDDLE]  # NEWEST was read for its link, not stored

    server.requests.clear()
    result = run_crawl("rankings", crawl_settings, since=OLDEST, full="1")

    # MIDDLE is read again from the page archive (a dated snapshot says the same
    # forever), the current ranking from the site
    assert ranking_requests(server) == [20251117, 0]
    assert stored_dates(database) == [NEWEST, MIDDLE, OLDEST]
    assert result.stat("hltv/snapshots/passed_over") == 1  # MIDDLE, stored already
    assert result.stat("hltv/snapshots/committed") == 2


@pytest.mark.slow
def test_a_page_that_is_not_a_ranking_is_refused_by_name_and_nothing_is_stored(server, database, crawl_settings):
    server.script("ranking", 0, Answer(body=page_bytes("match-2389951")))

    result = run_crawl("rankings", crawl_settings, since=OLDEST)

    assert result.close_reason == CLOSE_REASON_REFUSED
    assert result.stat("hltv/refused/not_the_page") >= 1
    assert stored_dates(database) == []


@pytest.mark.slow
def test_a_team_without_points_is_refused_by_name_and_the_snapshot_is_not_stored(server, database, crawl_settings):
    serve_current(server)
    page = page_bytes(f"ranking-{MIDDLE}").decode()
    truth = load_expected(f"ranking-{MIDDLE}")
    second = truth["teams"][1]
    # the second team's points cut away, as a page cut short would show it
    points = f"{second['points']} points"
    assert points in page
    server.script("ranking", 20251124, Answer(body=page.replace(points, "", 1).encode()))

    result = run_crawl("rankings", crawl_settings, since=OLDEST)

    assert result.close_reason == CLOSE_REASON_LAYOUT
    assert stored_dates(database) == [NEWEST]  # the walk stops at the broken snapshot
    ((page_name, reason),) = rows(database, "SELECT page, reason FROM failures WHERE stage = 'rankings'")
    assert page_name == "ranking" and second["team_name"] in reason, reason
    assert ranking_requests(server) == [20251124, 0]


@pytest.mark.parametrize("argument", [{"since": "last-year"}, {"until": "2025-02-30"}, {"full": "maybe"},
                                      {"since": "2025-02-02", "until": "2025-02-01"}, {"limit": "3"}])
def test_bad_rankings_arguments_are_refused_before_any_request(server, database, crawl_settings, argument):
    result = run_crawl("rankings", crawl_settings, **argument)

    assert isinstance(result.error, UsageError)
    assert next(iter(argument)) in str(result.error)
    assert sum(server.requests.values()) == 0


@pytest.mark.slow
def test_summary_and_report_count_the_snapshots(server, database, crawl_settings, capsys):
    from hltv_scraper.commands.summary import print_summary
    from hltv_scraper.report import render_report
    from hltv_scraper.stages import STAGES

    serve_current(server)
    run_crawl("rankings", crawl_settings, since=MIDDLE)

    with Database.open(database) as db:
        print_summary(db, max_attempts=3)
        page = render_report(db, max_attempts=3, stages=STAGES.values())
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["ranking", "snapshots", "2"] for line in lines), lines
    assert any(line.split() == ["ranked", "teams", str(30 + 25)] for line in lines), lines
    assert "<td>rankings</td><td>ranking snapshots</td><td class=\"n\">2</td>" in page


@pytest.mark.slow
def test_the_walk_replays_offline_from_the_bundled_archive(database, crawl_settings, server):
    archive = Path(__file__).resolve().parent.parent / "fixtures" / "archive"
    settings = {**crawl_settings, "HLTV_ARCHIVE_DIR": str(archive), "HLTV_REPLAY": True}

    result = run_crawl("rankings", settings, since=OLDEST)

    assert result.close_reason == "finished"
    assert sum(server.requests.values()) == 0
    assert stored_dates(database) == [NEWEST, MIDDLE, OLDEST]
    for day in (NEWEST, MIDDLE, OLDEST):
        assert_stored_as_truth(database, day)


@pytest.mark.slow
def test_without_since_the_walk_goes_a_year_back(server, database, crawl_settings, monkeypatch):
    from datetime import date

    import hltv_scraper.stages.rankings as rankings

    monkeypatch.setattr(rankings, "_today", lambda: date(2026, 11, 20))  # a year back: 2025-11-20
    serve_current(server)

    result = run_crawl("rankings", crawl_settings)

    assert stored_dates(database) == [NEWEST, MIDDLE]
    assert ranking_requests(server) == [20251124, 0]  # OLDEST is before 2025-11-20: not read
    assert "older than -a since=2025-11-20" in result.stats["hltv/snapshots/stopped_because"]


@pytest.mark.slow
def test_a_linked_snapshot_that_is_not_there_ends_the_walk_as_the_listing_does(
    server, database, crawl_settings, caplog
):
    serve_current(server)
    server.script("ranking", 20251124, Answer(status=404, body=b"gone"))
    caplog.set_level("INFO")

    result = run_crawl("rankings", crawl_settings, since=OLDEST)

    # what was read is stored; the walk has no way on past a missing page, and says so
    assert result.close_reason == "finished"
    assert stored_dates(database) == [NEWEST]
    assert result.stats["hltv/snapshots/stopped_because"] == "the end of the snapshots linked"
    assert any(message == ("World ranking of 2025-11-24 is not there: the end of the snapshots linked "
                           "(http_404): stopping") for message in caplog.messages), caplog.messages[-10:]
