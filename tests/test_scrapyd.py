"""scrapyd as it is run for real: the project's egg deployed with scrapyd-client to a
scrapyd started from the virtualenv with (a copy of) deploy/scrapyd.conf, both spiders
scheduled over HTTP with basic auth, and what they stored checked in the database."""

from __future__ import annotations

import base64
import configparser
import fcntl
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hltv_scraper.commands.collect import CHAIN
from tests.support.pages import MAPSTATSIDS
from tests.support.truth import assert_scoreboard_matches_truth
from tests.support.truth import assert_matches_truth

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's: scrapyd runs its jobs with its own python
PROJECT = "hltv_scraper"
USERNAME = "hltv-test"
PASSWORD = "not a secret: 100% test"  # odd characters: they reach scrapyd and scrapyd-deploy intact
STARTUP_TIMEOUT = 30
JOBS_TIMEOUT = 90
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Scrapyd:
    url: str
    workdir: Path
    process: subprocess.Popen

    def request(self, path: str, data: list[tuple[str, str]] | None = None, *,
                auth: tuple[str, str] | None = (USERNAME, PASSWORD)) -> tuple[int, dict]:
        headers = {}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(f"{self.url}/{path}", data=body, headers=headers)
        try:
            with _NO_PROXY.open(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {}
        except OSError:  # nothing answers (yet)
            return 0, {}

    def schedule(self, spider: str, settings: dict[str, object], **args: str) -> str:
        data = [("project", PROJECT), ("spider", spider)]
        data += [("setting", f"{name}={value}") for name, value in settings.items()]
        data += list(args.items())
        status, answer = self.request("schedule.json", data)
        assert status == 200 and answer.get("status") == "ok", (status, answer)
        return answer["jobid"]

    def wait_finished(self, jobids: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, jobs = self.request(f"listjobs.json?project={PROJECT}")
            if jobids <= {job["id"] for job in jobs.get("finished", [])}:
                return
            assert self.process.poll() is None, self.tail()
            time.sleep(0.25)
        raise AssertionError(f"jobs {jobids} not finished after {timeout} s: {jobs}\n{self.tail()}")

    def job_log(self, spider: str, jobid: str) -> str:
        return (self.workdir / "logs" / PROJECT / spider / f"{jobid}.log").read_text()

    def tail(self) -> str:
        return "\n".join(
            path.read_text()[-3000:]
            for path in (self.workdir / "scrapyd.log", self.workdir / "scrapyd.out")
            if path.exists()
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would let a job import the working tree, not the egg."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("SCRAPY")}
    # scrapyd-deploy (requests) talks to 127.0.0.1 directly, whatever proxy is configured
    return {**env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", **extra}


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    workdir = tmp_path / "scrapyd"
    workdir.mkdir()
    config = configparser.ConfigParser()
    config.read(ROOT / "deploy" / "scrapyd.conf")
    section = config["scrapyd"]
    assert section["bind_address"] == "127.0.0.1"
    assert section["username"] == "" and section["password"] == ""  # no credentials committed
    section["http_port"] = str(free_port())
    for name in ("eggs_dir", "dbs_dir", "logs_dir", "items_dir"):
        section[name] = str(workdir / section[name])
    # scrapyd reads ./scrapyd.conf, so it runs in workdir (as deploy/scrapyd.sh runs it
    # in data/scrapyd/).
    with open(workdir / "scrapyd.conf", "w") as handle:
        config.write(handle)
    with open(workdir / "scrapyd.out", "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "scrapyd"), "--pidfile", str(workdir / "scrapyd.pid"),
             "--logfile", str(workdir / "scrapyd.log")],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=clean_env(SCRAPYD_USERNAME=USERNAME, SCRAPYD_PASSWORD=PASSWORD),
            start_new_session=True,  # its own process group: it and its crawls end together
        )
    server = Scrapyd(f"http://127.0.0.1:{section['http_port']}", workdir, process)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while server.request("daemonstatus.json")[0] != 200:
            assert process.poll() is None, f"scrapyd exited ({process.returncode}):\n{server.tail()}"
            assert time.monotonic() < deadline, f"scrapyd did not answer:\n{server.tail()}"
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)  # the group start_new_session made for it
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def scrapyd_deploy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """scrapyd-deploy in the project folder, where it builds the egg (setup.py bdist_egg).

    Builds share build/ there: a lock keeps two test runs on this machine apart.
    """
    lock = Path(tempfile.gettempdir()) / f"hltv-egg-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]}.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return subprocess.run([str(BIN / "scrapyd-deploy"), *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)


def check_egg(egg: Path) -> None:
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    # every module and every SQL migration of the package...
    package = {
        path.relative_to(ROOT).as_posix()
        for pattern in ("*.py", "*.sql")
        for path in (ROOT / PROJECT).rglob(pattern)
    }
    assert any(name.endswith(".sql") for name in package)
    assert package <= names, sorted(package - names)
    # ...and nothing else: no tests, fixtures, tools or the settings of a deploy
    assert {name.split("/")[0] for name in names} == {"EGG-INFO", PROJECT}
    # scrapyd's runner finds the settings module through this entry point
    assert re.search(r"^\[scrapy\]\s*\nsettings = hltv_scraper\.settings$", entry_points, re.M), entry_points


def deploy(scrapyd: Scrapyd, tmp_path: Path) -> None:
    # A deploy target for this scrapyd, beside scrapy.cfg's [deploy:local] (scrapyd-client
    # reads $XDG_CONFIG_HOME/scrapy.cfg too); credentials from the environment, like local's.
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    (xdg / "scrapy.cfg").write_text(
        f"[deploy:test]\nurl = {scrapyd.url}\nproject = {PROJECT}\n"
        "username = ${SCRAPYD_USERNAME}\npassword = ${SCRAPYD_PASSWORD}\n"
    )
    env = clean_env(XDG_CONFIG_HOME=str(xdg), SCRAPYD_USERNAME=USERNAME, SCRAPYD_PASSWORD=PASSWORD)
    egg = tmp_path / "hltv_scraper.egg"

    built = scrapyd_deploy("--build-egg", str(egg), env=env)
    assert built.returncode == 0, built.stderr
    check_egg(egg)

    deployed = scrapyd_deploy("test", "--egg", str(egg), "--version", "1", env=env)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    answer = json.loads(deployed.stdout)
    assert answer["status"] == "ok" and answer["spiders"] == len(CHAIN), answer


@pytest.mark.slow
def test_scrapyd_runs_the_whole_chain_in_order_from_the_deployed_egg(scrapyd, server, database, tmp_path):
    deploy(scrapyd, tmp_path)
    assert (scrapyd.workdir / "eggs" / PROJECT / "1.egg").is_file()
    status, answer = scrapyd.request(f"listspiders.json?project={PROJECT}")
    assert sorted(answer["spiders"]) == sorted(CHAIN)

    # only with the credentials
    schedule = [("project", PROJECT), ("spider", "perf_economy")]
    assert scrapyd.request("schedule.json", schedule, auth=None)[0] == 401
    assert scrapyd.request("schedule.json", schedule, auth=(USERNAME, "wrong"))[0] == 401
    assert scrapyd.request("listjobs.json", auth=None)[0] == 401

    settings = {
        "HLTV_DB_PATH": database,
        "HLTV_BASE_URL": server.base_url,
        "HLTV_ARCHIVE_DIR": tmp_path / "archive",
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": 0,
    }
    # the chain, as the README schedules it: one job at a time, highest priority first
    jobs = {
        spider: scrapyd.schedule(spider, settings, priority=str(len(CHAIN) - n), **({"pages": "1"} if spider == "results" else {}))
        for n, spider in enumerate(CHAIN)
    }
    scrapyd.wait_finished(set(jobs.values()), JOBS_TIMEOUT)

    for spider, jobid in jobs.items():
        log = scrapyd.job_log(spider, jobid)
        assert f"{spider} finished (finished)" in log, log[-3000:]
        assert "] ERROR:" not in log and "Traceback" not in log, log[-3000:]
    _, listed = scrapyd.request(f"listjobs.json?project={PROJECT}")
    started = sorted(listed["finished"], key=lambda job: job["start_time"])
    assert [job["spider"] for job in started] == list(CHAIN)
    for mapstatsid in MAPSTATSIDS:
        assert_matches_truth(database, mapstatsid)  # kpr stored, economy and kill matrix rows
        assert_scoreboard_matches_truth(database, mapstatsid)
    # the archive went where the absolute setting said, not below scrapyd's folder
    assert len(list((tmp_path / "archive" / "performance").glob("*.html.gz"))) == len(MAPSTATSIDS)
    assert not (scrapyd.workdir / "data").exists()


def test_deploy_target_and_scrapyd_conf_agree(monkeypatch):
    """scrapy.cfg's [deploy:local] points at the scrapyd deploy/scrapyd.conf describes,
    and takes its credentials from the environment."""
    from scrapyd_client.utils import _get_targets

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SCRAPYD_USERNAME", "someone")
    monkeypatch.setenv("SCRAPYD_PASSWORD", "p%ss")
    local = _get_targets()["local"]
    config = configparser.ConfigParser()
    config.read(ROOT / "deploy" / "scrapyd.conf")
    section = config["scrapyd"]
    assert local["url"] == f"http://{section['bind_address']}:{section['http_port']}"
    assert local["project"] == PROJECT
    assert (local["username"], local["password"]) == ("someone", "p%ss")
    assert section["username"] == section["password"] == ""
    assert float(section["poll_interval"]) == 0.5
