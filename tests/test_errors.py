"""Mistakes a new user makes, run as a user runs them (`scrapy ...` in a subprocess): each
ends with one line naming the culprit and what was expected, printed last, exit status
2, no traceback and nothing written; a crawl or `collect` stopped by a brake or Ctrl-C
exits 1; a bug keeps its traceback."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from hltv_scraper.storage import Database
from tests.support.crawl import database_settings
from tests.support.server import Answer

ROOT = Path(__file__).resolve().parent.parent
READING = {
    "summary": [],
    "export": ["--out", "{tmp}/export"],
    "report": ["--out", "{tmp}/report.html"],
    "requeue": ["--stage", "perf_economy"],
}
TEST_SPIDERS = ["-s", "SPIDER_MODULES=tests.support.spiders"]


def scrapy(*args: str, settings: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    options = [item for name, value in (settings or {}).items() for item in ("-s", f"{name}={value}")]
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args, *options],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def mistake(result: subprocess.CompletedProcess) -> str:
    """The one line a mistake ends with (Scrapy's usage line may come before it)."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "Task exception" not in output, output[-3000:]
    last = result.stderr.rstrip("\n").splitlines()[-1]
    program, separator, message = last.partition(": error: ")
    assert separator and " " not in program, last
    return message


def has_tables(url: str) -> bool:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0] > 0


# -- reading never creates ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.both_backends
@pytest.mark.parametrize("command", sorted(READING))
def test_reading_commands_refuse_a_database_that_does_not_exist(command, database, backend, tmp_path):
    args = [part.format(tmp=tmp_path) for part in READING[command]]

    result = scrapy(command, *args, settings=database_settings(database))

    message = mistake(result)
    if backend == "sqlite":
        assert message == (
            f"no database at {database} yet: make one with `make demo`, `scrapy initdb` or a crawl (`scrapy collect`)"
        )
        assert not database.parent.exists() or not database.exists()
    else:
        assert database.rsplit("/", 1)[1] in message and "initdb" in message
        assert database.split(":")[2].split("@")[0] not in message  # the password
        assert not has_tables(database)
    assert not (tmp_path / "export").exists() and not (tmp_path / "report.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["summary", "initdb", "addmatches", "collect"])
def test_a_folder_or_a_file_that_is_not_a_database_is_one_line(command, tmp_path):
    folder, text = tmp_path / "folder", tmp_path / "notes.txt"
    folder.mkdir()
    text.write_text("not a database\n")
    args = ["--match-id", "1"] if command == "addmatches" else []
    folder_reason = f"it is a folder; HLTV_DB_PATH names the SQLite database file in it (e.g. {folder / 'hltv.sqlite3'})"
    for path, reason in ((folder, folder_reason), (text, "is not a SQLite database file")):
        result = scrapy(command, *args, settings={"HLTV_DB_PATH": path, "HLTV_REPLAY": 1,
                                                  "HLTV_ARCHIVE_DIR": "fixtures/archive"})
        assert mistake(result) == f"cannot open the database {path}: {reason}"
    assert text.read_text() == "not a database\n" and list(folder.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("command", ["summary", "initdb", "collect"])
def test_a_server_that_is_down_or_a_wrong_password_names_the_address_not_the_password(command, postgres):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = postgres.new_database()
    password = url.split(":")[2].split("@")[0]
    wrong = url.replace(password, "Wrong-Secret-42")
    down = f"postgresql://hltv:Down-Secret-42@127.0.0.1:{port}/hltv"
    for location, secret in ((down, "Down-Secret-42"), (wrong, "Wrong-Secret-42")):
        result = scrapy(command, settings={"HLTV_DB_URL": location, "HLTV_REPLAY": 1,
                                           "HLTV_ARCHIVE_DIR": "fixtures/archive"})
        message = mistake(result)
        assert secret not in result.stdout + result.stderr and password not in result.stdout + result.stderr
        masked = location.replace("postgresql://", "postgresql+psycopg://").replace(secret, "***")
        assert message.startswith(f"cannot open the database {masked}: "), message
    assert "Connection refused" in mistake(scrapy(command, settings={"HLTV_DB_URL": down}))
    assert not has_tables(url)


# -- command options ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("args", "expected"), [
    (["requeue"], "--stage is required: one of matches, map_stats, perf_economy, rankings"),
    (["requeue", "--stage", "maps"], "--stage must be one of matches, map_stats, perf_economy, rankings, got 'maps'"),
    (["export"], "--out is required: the folder to write the files into (e.g. --out export)"),
    (["report"], "--out is required: the HTML file to write (e.g. --out report.html)"),
    (["summary", "now"], "unexpected arguments: now (see scrapy summary -h)"),
    (["export", "--out", "x", "--bogus"], "unexpected arguments: --bogus (see scrapy export -h)"),
    (["collect", "--since", "2026-02-01", "--until", "2026-01-01"],
     "--until 2026-01-01 is before --since 2026-02-01: --until takes the later day"),
    (["collect", "--since", "2026-13-45"], "--since takes a day as YYYY-MM-DD, got '2026-13-45'"),
    (["collect", "--limit", "abc"], "--limit takes a whole number of at least 1, got 'abc'"),
    (["collect", "--pages", "0"], "--pages takes a whole number of at least 1, got '0'"),
    (["collect", "extra"], "unexpected arguments: extra (see scrapy collect -h)"),
])
def test_bad_options_name_the_option(args, expected, tmp_path):
    database = tmp_path / "hltv.sqlite3"
    if args[0] in READING:
        Database.open(database).close()
    result = scrapy(*args, settings={"HLTV_DB_PATH": database})
    assert mistake(result) == expected
    if args[0] == "collect":
        assert not database.exists()  # nothing written


@pytest.mark.slow
def test_a_collect_replay_without_the_first_results_page_names_the_folder(tmp_path):
    archive = tmp_path / "archive"
    settings = {"HLTV_REPLAY": 1, "HLTV_ARCHIVE_DIR": archive, "HLTV_DB_PATH": tmp_path / "rebuilt.sqlite3"}
    assert mistake(scrapy("collect", settings=settings)) == (
        f"HLTV_REPLAY=1: the archive folder {archive} does not exist "
        "(HLTV_ARCHIVE_DIR names where a crawl recorded its pages)"
    )
    # an archive of match pages only: nothing to start a collect from
    shutil.copytree(ROOT / "fixtures" / "archive" / "match", archive / "match")
    assert mistake(scrapy("collect", settings=settings)) == (
        f"HLTV_REPLAY=1: the archive {archive} has no first results page (results/0.html.gz), where a "
        "collect replay starts; name the archive to replay with -s HLTV_ARCHIVE_DIR=DIR "
        "(fixtures/archive is the demo's)"
    )
    assert not (tmp_path / "rebuilt.sqlite3").exists()


# -- files -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_spreadsheet_csv_with_a_byte_order_mark_and_capital_headers_is_read(database, tmp_path):
    csv = tmp_path / "maps.csv"
    csv.write_bytes("\ufeffMatch_ID,Map_Number,MAPSTATSID\r\n2389951,1,219128\r\n".encode())
    result = scrapy("addmaps", "--csv", str(csv), settings=database_settings(database))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith(": 1 maps added, 0 already known")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["addmaps", "addmatches"])
def test_a_file_that_is_not_text_is_named(command, tmp_path):
    binary = tmp_path / "maps.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00\x00\x00L\x02")
    database = tmp_path / "hltv.sqlite3"
    result = scrapy(command, "--csv", str(binary), settings={"HLTV_DB_PATH": database})
    assert mistake(result) == f"{binary} is not a text file (UTF-8 CSV expected)"
    assert not database.exists()
    missing = tmp_path / "missing.csv"
    assert mistake(scrapy(command, "--csv", str(missing), settings={"HLTV_DB_PATH": database})) == (
        f"cannot read {missing}: No such file or directory")


@pytest.mark.slow
def test_bad_rows_are_listed_on_the_one_line(tmp_path):
    csv = tmp_path / "matches.csv"
    csv.write_text("match_id\n1\nx\n-3\n")
    message = mistake(scrapy("addmatches", "--csv", str(csv), settings={"HLTV_DB_PATH": tmp_path / "h.sqlite3"}))
    assert message == (
        f"{csv}: nothing imported, 2 bad rows: line 3: match_id must be a positive whole number, got 'x'; "
        "line 4: match_id must be a positive whole number, got '-3'"
    )


# -- help --------------------------------------------------------------------------


COMMANDS = ["addmaps", "addmatches", "collect", "crawl", "export", "initdb", "report", "requeue", "summary"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_the_help_names_the_database(command):
    from argparse import SUPPRESS

    from scrapy.cmdline import _get_commands_dict
    from scrapy.commands import ScrapyHelpFormatter
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    cmd = _get_commands_dict(settings, inproject=True)[command]
    assert type(cmd).__module__ == f"hltv_scraper.commands.{command}"
    parser = __import__("argparse").ArgumentParser(formatter_class=ScrapyHelpFormatter, conflict_handler="resolve")
    cmd.settings = settings
    cmd.add_options(parser)
    for action in parser._actions:
        assert action.help and action.help != SUPPRESS, f"{command} {action.option_strings} has no help line"
    description = " ".join(cmd.long_desc().split())
    assert "HLTV_DB_PATH" in description and "HLTV_DB_URL" in description
    assert "-s HLTV_DB_PATH=FILE" in description


@pytest.mark.slow
def test_the_help_is_printed_as_scrapy_prints_it():
    result = scrapy("summary", "-h")
    assert result.returncode == 0
    assert "-s HLTV_DB_PATH=FILE" in " ".join(result.stdout.split())


# -- scrapy crawl: its exit status -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("spider", "expected"), [
    ("mistake", "-a limit= takes a whole number, got 'abc'"),
    ("unavailable", "cannot open the database postgresql://u:***@127.0.0.1:1/db: Connection refused"),
])
def test_a_mistake_found_while_the_crawl_is_built_is_one_line_last(spider, expected, tmp_path):
    result = scrapy("crawl", spider, "-a", "limit=abc", *TEST_SPIDERS, settings={"HLTV_DB_PATH": tmp_path / "h.sqlite3"})
    assert mistake(result) == expected


@pytest.mark.slow
def test_a_bug_while_the_crawl_is_built_keeps_its_traceback(tmp_path):
    result = scrapy("crawl", "bug", *TEST_SPIDERS, settings={"HLTV_DB_PATH": tmp_path / "h.sqlite3"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "RuntimeError: a bug in the spider" in result.stderr


@pytest.mark.slow
def test_an_unknown_stage_is_one_line(tmp_path):
    result = scrapy("crawl", "result", settings={"HLTV_DB_PATH": tmp_path / "h.sqlite3"})
    assert mistake(result) == "no stage named 'result': one of map_stats, matches, perf_economy, rankings, results"
    assert not (tmp_path / "h.sqlite3").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("reason", "status"), [
    (None, 0),
    ("hltv_fetch_failures", 1),
    ("hltv_site_unreachable", 1),
    ("hltv_layout_changed", 1),
    ("hltv_database_error", 1),
    ("shutdown", 1),
    ("closespider_itemcount", 0),
])
def test_the_exit_status_follows_the_close_reason(reason, status, tmp_path):
    args = ["-a", f"reason={reason}"] if reason else []
    result = scrapy("crawl", "closes", *args, *TEST_SPIDERS, settings={"HLTV_DB_PATH": tmp_path / "h.sqlite3"})
    assert f"Spider closed ({reason or 'finished'})" in result.stderr
    assert result.returncode == status, result.stderr[-2000:]


# -- collect and Ctrl-C --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_in_collect_names_the_stage_and_prints_no_traceback(presses, tmp_path):
    """A site that accepts connections and never answers: the results stage hangs until
    Ctrl-C. Once: Scrapy's graceful stop (the request times out, well within the grace
    the first Ctrl-C gives a page on the wire, and the stage closes as ``shutdown``);
    twice: forced, the stage never closes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "collect", "-s", f"HLTV_DB_PATH={tmp_path / 'h.sqlite3'}",
             "-s", f"HLTV_ARCHIVE_DIR={tmp_path / 'archive'}", "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_ENABLED=0",
             "-s", f"HLTV_BASE_URL=http://127.0.0.1:{silent.getsockname()[1]}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _connected(silent):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        if presses == 2:
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stdout + stderr, stderr[-3000:]
    expected = "results (shutdown)" if presses == 1 else "results (interrupted)"
    assert f"Stages: {expected}" in stdout.splitlines()


def _connected(listener: socket.socket) -> bool:
    """Has the crawl's first request arrived? (Taken off the queue, never answered.)"""
    listener.settimeout(0)
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    _held.append(connection)
    return True


_held: list[socket.socket] = []


@pytest.mark.slow
def test_a_brake_in_collect_exits_1_and_ends_the_chain(server, tmp_path):
    """The site refuses every page: the results stage stops as hltv_fetch_failures, the
    later stages do not run, the summary is still printed, the exit status is 1."""
    server.script_all(Answer(status=403, body=b"<html><title>Access denied</title></html>"))
    result = scrapy("collect", "--pages", "1", settings={
        "HLTV_DB_PATH": tmp_path / "h.sqlite3", "HLTV_BASE_URL": server.base_url,
        "HLTV_ARCHIVE_DIR": tmp_path / "archive", "HLTV_MAX_FETCH_FAILURES": 1, "HLTV_REFUSAL_RETRIES": 0,
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": 0, "RETRY_ENABLED": 0,
    })
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Stages: results (hltv_fetch_failures)" in result.stdout.splitlines()
    assert f"Database {tmp_path / 'h.sqlite3'}" in result.stdout
    assert "Traceback" not in result.stderr
