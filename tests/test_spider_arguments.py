"""Spider arguments: a bad value, an unknown name, or one the spider does not take is a
one-line UsageError raised before any database is opened; scrapyd's own arguments pass."""

from __future__ import annotations

import pytest
from scrapy.exceptions import UsageError

from hltv_scraper.ledger.arguments import SpiderArgumentError
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.truth import assert_matches_truth

BAD = [
    ("perf_economy", {"limit": "abc"}, "-a limit= takes a whole number, got 'abc'"),
    ("matches", {"limit": "0"}, "-a limit= must be at least 1, got 0"),
    ("map_stats", {"mapstatsid": "12,x"}, "-a mapstatsid= takes ids separated by commas, got 'x'"),
    ("perf_economy", {"reparse": "yes"}, "-a reparse= takes only 'stale'"),
    ("results", {"since": "2026-13-45"}, "-a since= takes a day as YYYY-MM-DD, got '2026-13-45'"),
    ("results", {"until": "2026-02-30"}, "-a until= takes a day as YYYY-MM-DD"),
    ("results", {"full": "maybe"}, "-a full= takes 1 or 0, got 'maybe'"),
    ("results", {"since": "2025-01-02", "until": "2025-01-01"}, "-a until=2025-01-01 is before -a since=2025-01-02"),
    ("perf_economy", {"lmit": "5"}, "-a lmit= is not an argument of perf_economy (it takes -a limit=, "
                                    "-a mapstatsid=, -a reparse=); did you mean -a limit=?"),
    ("matches", {"mapstatsid": "5"}, "-a mapstatsid= is not an argument of matches"),
    ("results", {"limit": "5"}, "-a limit= is not an argument of results (it takes -a full=, -a offset=, "
                                "-a pages=, -a since=, -a until=)"),
    ("results", {"sinse": "2025-01-01"}, "did you mean -a since=?"),
]


@pytest.mark.parametrize(("spider", "arguments", "says"), BAD)
def test_a_bad_argument_is_one_line_before_any_database_is_made(server, tmp_path, spider, arguments, says):
    database = tmp_path / "none-yet" / "hltv.sqlite3"

    result = run_crawl(spider, {"HLTV_DB_PATH": str(database), "HLTV_BASE_URL": server.base_url}, **arguments)

    assert isinstance(result.error, UsageError), result.error
    message = str(result.error)
    assert says in message and "\n" not in message
    assert not database.parent.exists()  # nothing opened, nothing created
    assert sum(server.requests.values()) == 0


def test_an_unknown_id_is_a_usage_error_naming_it(server, database, crawl_settings):
    seed_scoreboard(database, 188093)

    result = run_crawl("perf_economy", crawl_settings, mapstatsid="188093,4242")

    assert isinstance(result.error, UsageError)
    assert str(result.error).startswith("mapstatsid 4242 not in the database")
    assert "scrapy addmaps" in str(result.error)
    assert sum(server.requests.values()) == 0


def test_scrapyds_own_arguments_pass(server, database, crawl_settings):
    seed_scoreboard(database, 188093)

    result = run_crawl("perf_economy", crawl_settings, _job="0123abcd", _version="1.0")

    assert result.error is None
    assert result.stat("hltv/maps/committed") == 1
    assert_matches_truth(database, 188093)


def test_an_argument_error_is_still_a_value_error_for_collect():
    """`scrapy collect` checks its options with the same functions, catching ValueError."""
    assert issubclass(SpiderArgumentError, UsageError) and issubclass(SpiderArgumentError, ValueError)
