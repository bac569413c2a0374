"""Stopping when asked: the first Ctrl-C sends nothing new, commits what is whole and
releases every lease; a second exits at once; the leases of a crawl that is gone do not
hold up the next one, and ``requeue --release-leases`` frees a dead machine's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hltv_scraper.ledger.sources import is_gone, worker_process
from hltv_scraper.stages import STAGES
from hltv_scraper.stopping import ABANDON_AFTER
from hltv_scraper.storage import Database
from tests.support.crawl import database_settings
from tests.support.seed import rows, seed_scoreboard
from tests.support.server import Answer
from tests.support.truth import ALL_MAPS

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")

pytestmark = pytest.mark.slow


@pytest.fixture
def ten_maps(database) -> Path | str:
    for mapstatsid in ALL_MAPS:
        seed_scoreboard(database, mapstatsid)
    return database


def start_crawl(server, database, tmp_path, *extra: str) -> subprocess.Popen:
    """``scrapy crawl perf_economy`` at the project's own pacing (one request at a time,
    seconds apart), as a user runs it: every map's pages wait in the downloader."""
    settings = {**database_settings(database), "HLTV_BASE_URL": server.base_url,
                "HLTV_ARCHIVE_DIR": str(tmp_path / "archive"), "DOWNLOAD_DELAY": "1",
                "AUTOTHROTTLE_START_DELAY": "1", "LOGSTATS_INTERVAL": "0"}
    args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    return subprocess.Popen([SCRAPY, "crawl", "perf_economy", *args, *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_requests(server, count: int, crawl: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(server.requests.values()) < count:
        assert crawl.poll() is None, crawl.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the crawl sent nothing"
        time.sleep(0.02)


def held_leases(database) -> int:
    return rows(database, "SELECT count(*) FROM maps WHERE lease_worker IS NOT NULL")[0][0]


def test_the_first_ctrl_c_sends_nothing_new_and_releases_every_lease(server, ten_maps, tmp_path):
    crawl = start_crawl(server, ten_maps, tmp_path)
    wait_for_requests(server, 3, crawl)
    crawl.send_signal(signal.SIGINT)
    asked = time.monotonic()
    sent_when_asked = sum(server.requests.values())

    _, log = crawl.communicate(timeout=30)
    took = time.monotonic() - asked

    print(f"first Ctrl-C: exit {crawl.returncode} after {took:.1f} s, "
          f"{sum(server.requests.values()) - sent_when_asked} requests sent after it")
    assert crawl.returncode == 1, log[-3000:]
    assert "Traceback" not in log
    assert took < 10, log[-3000:]
    # one request may have been on its way to the socket as the signal came
    assert sum(server.requests.values()) <= sent_when_asked + 1
    assert held_leases(ten_maps) == 0
    assert "Closing spider (shutdown)" in log
    # what was whole is committed, nothing else written: a map has economy rows iff stored
    with_economy = rows(ten_maps, "SELECT DISTINCT m.mapstatsid FROM maps m JOIN economy e "
                                  "ON e.match_id = m.match_id AND e.map_number = m.map_number")
    stored = rows(ten_maps, "SELECT mapstatsid FROM maps WHERE perf_economy_at IS NOT NULL")
    assert sorted(with_economy) == sorted(stored)


def test_a_page_slow_to_come_is_abandoned_within_seconds(server, ten_maps, tmp_path):
    server.script_all(Answer(delay=40))  # beyond DOWNLOAD_TIMEOUT's 30 s
    crawl = start_crawl(server, ten_maps, tmp_path)
    wait_for_requests(server, 1, crawl)
    time.sleep(0.5)
    crawl.send_signal(signal.SIGINT)
    asked = time.monotonic()

    _, log = crawl.communicate(timeout=30)

    assert crawl.returncode == 1, log[-3000:]
    assert time.monotonic() - asked < ABANDON_AFTER + 5, log[-3000:]
    assert "Pages still on their way after 5 s are abandoned" in log
    assert sum(server.requests.values()) == 1
    assert held_leases(ten_maps) == 0


def test_a_second_ctrl_c_exits_at_once_and_the_next_crawl_frees_its_leases(server, ten_maps, tmp_path):
    server.script_all(Answer(delay=3))
    crawl = start_crawl(server, ten_maps, tmp_path)
    wait_for_requests(server, 1, crawl)
    time.sleep(0.5)
    crawl.send_signal(signal.SIGINT)
    time.sleep(0.5)
    crawl.send_signal(signal.SIGINT)
    asked = time.monotonic()
    _, log = crawl.communicate(timeout=10)
    assert time.monotonic() - asked < 2, log[-3000:]
    assert crawl.returncode == 1, log[-3000:]
    assert "forcing unclean shutdown" in log
    assert held_leases(ten_maps) > 0  # the forced stop released nothing
    (worker,) = {row[0] for row in rows(ten_maps, "SELECT lease_worker FROM maps WHERE lease_worker IS NOT NULL")}
    assert worker_process(worker) == (socket.gethostname(), crawl.pid)

    server.script_all(Answer())
    rerun = start_crawl(server, ten_maps, tmp_path, "-a", "limit=1")
    _, log = rerun.communicate(timeout=60)

    assert rerun.returncode == 0, log[-3000:]
    assert f"Freed the leases of {worker}: it is no longer running on this host" in log
    assert "waiting for" not in log
    assert held_leases(ten_maps) == 0


def test_a_worker_is_gone_only_when_its_process_on_this_host_is(tmp_path):
    host = socket.gethostname()
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert is_gone(f"{host}-{done.stdout.strip()}-ab12")
    assert not is_gone(f"{host}-{os.getpid()}-ab12")  # this very process
    assert not is_gone(f"{host}-{os.getppid()}-ab12")  # running
    assert not is_gone(f"another-host-{done.stdout.strip()}-ab12")  # can't tell: leave it
    assert not is_gone("node-7")  # a fixed HLTV_WORKER_ID


def test_requeue_release_leases_frees_a_dead_machines_leases(ten_maps):
    db = Database.open(ten_maps)
    try:
        db.claim(STAGES["perf_economy"], worker="dead-box-1234-ab12", lease_seconds=600, max_attempts=3, limit=3)
        db.claim(STAGES["perf_economy"], worker="other-box-99-cd34", lease_seconds=600, max_attempts=3, limit=2)
    finally:
        db.close()
    settings = [arg for name, value in database_settings(ten_maps).items() for arg in ("-s", f"{name}={value}")]

    def requeue(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([SCRAPY, "requeue", *args, *settings], cwd=ROOT, capture_output=True, text=True)

    done = requeue("--release-leases", "--worker", "dead-box-1234-ab12")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("freed 3 leases (3 maps of dead-box-1234-ab12)")
    assert held_leases(ten_maps) == 2
    done = requeue("--release-leases", "--worker", "dead-box-1234-ab12")
    assert done.stdout.strip().endswith("dead-box-1234-ab12 holds no lease")
    done = requeue("--release-leases")
    assert done.stdout.strip().endswith("freed 2 leases (2 maps of other-box-99-cd34)")
    assert held_leases(ten_maps) == 0
    done = requeue("--worker", "x", "--stage", "map_stats")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("--worker goes with --release-leases (whose leases to free)")
