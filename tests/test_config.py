"""One config per crawl: every HLTV_* setting read once, checked, kept on the crawler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from hltv_scraper.config import HltvConfig
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("values", "message"), [
    ({"HLTV_MAX_ATTEMPTS": "abc"}, "HLTV_MAX_ATTEMPTS takes a whole number of at least 1, got 'abc'"),
    ({"HLTV_MAX_ATTEMPTS": "0"}, "HLTV_MAX_ATTEMPTS takes a whole number of at least 1, got '0'"),
    ({"HLTV_MAPS_IN_FLIGHT": "2.5"}, "HLTV_MAPS_IN_FLIGHT takes a whole number of at least 1, got '2.5'"),
    ({"HLTV_REFUSAL_RETRIES": "-1"}, "HLTV_REFUSAL_RETRIES takes a whole number of at least 0, got '-1'"),
    ({"HLTV_LEASE_SECONDS": "soon"}, "HLTV_LEASE_SECONDS takes a number of seconds, at least 0.1, got 'soon'"),
    ({"HLTV_FLARESOLVERR_TIMEOUT": "0"}, "HLTV_FLARESOLVERR_TIMEOUT takes a number of seconds, more than 0, got '0'"),
    ({"HLTV_ARCHIVE": "maybe"}, "HLTV_ARCHIVE takes 1 or 0 (also true/false, yes/no, on/off), got 'maybe'"),
    ({"HLTV_BASE_URL": "notaurl"}, "HLTV_BASE_URL takes an http:// or https:// URL with a host, got 'notaurl'"),
    ({"HLTV_BASE_URL": "ftp://hltv.org"}, "HLTV_BASE_URL takes an http:// or https:// URL with a host, got 'ftp://hltv.org'"),
    ({"HLTV_BASE_URL": "https://"}, "HLTV_BASE_URL takes an http:// or https:// URL with a host, got 'https://'"),
    ({"HLTV_BROWSER": "2"}, "HLTV_BROWSER takes auto, 0, 1 or handoff, got '2'"),
    ({"HLTV_MAX_ATTEMTPS": "3"}, "HLTV_MAX_ATTEMTPS is not a setting of this project; did you mean HLTV_MAX_ATTEMPTS?"),
    ({"HLTV_PROXY": "x"}, "HLTV_PROXY is not a setting of this project; did you mean HLTV_PROXIES?"),
])
def test_a_bad_setting_is_one_line_naming_it(values, message):
    with pytest.raises(UsageError) as error:
        HltvConfig.from_settings(Settings(values))
    assert str(error.value) == message


def test_an_unknown_name_without_a_close_one_says_where_the_settings_are():
    with pytest.raises(UsageError, match=r"^HLTV_ZZZ is not a setting of this project \(see hltv_scraper/config.py\)$"):
        HltvConfig.from_settings(Settings({"HLTV_ZZZ": "1"}))


def test_a_database_url_that_is_not_postgresql_never_shows_its_password():
    with pytest.raises(UsageError) as error:
        HltvConfig.from_settings(Settings({"HLTV_DB_URL": "mysql://me:hunter2@db/hltv"}))
    assert str(error.value).startswith("HLTV_DB_URL takes a postgresql://")
    assert "hunter2" not in str(error.value)


def test_missing_files_are_named(tmp_path):
    proxies, cookies = tmp_path / "proxies.txt", tmp_path / "cookies.txt"
    with pytest.raises(UsageError, match=f"^HLTV_PROXIES: cannot read {proxies}: FileNotFoundError"):
        HltvConfig.from_settings(Settings({"HLTV_PROXIES": str(proxies)}))
    with pytest.raises(UsageError, match=f"^HLTV_COOKIES_FILE: there is no file {cookies} "):
        HltvConfig.from_settings(Settings({"HLTV_COOKIES_FILE": str(cookies), "HLTV_USER_AGENT": "x"}))


def test_a_replay_needs_an_archive_with_pages(tmp_path):
    archive = tmp_path / "archive"
    replay = {"HLTV_REPLAY": "1", "HLTV_ARCHIVE_DIR": str(archive)}
    with pytest.raises(UsageError, match=f"^HLTV_REPLAY=1: the archive folder {archive} does not exist"):
        HltvConfig.from_settings(Settings(replay))
    (archive / "match").mkdir(parents=True)
    with pytest.raises(UsageError, match=f"^HLTV_REPLAY=1: the archive folder {archive} holds no page to replay$"):
        HltvConfig.from_settings(Settings(replay))
    (archive / "match" / "1.json").write_text("{}")
    assert HltvConfig.from_settings(Settings(replay)).replay is True


def test_good_values_are_read_into_their_types(tmp_path):
    listing = tmp_path / "proxies.txt"
    listing.write_text("http://10.0.0.1:3128\n")
    config = HltvConfig.from_settings(Settings({
        "HLTV_MAX_ATTEMPTS": "5", "HLTV_LEASE_SECONDS": "2.5", "HLTV_ARCHIVE": "off",
        "HLTV_BASE_URL": "http://localhost:8080/", "HLTV_PROXIES": str(listing),
        "HLTV_PROXY_BENCH_SECONDS": "60", "HLTV_BROWSER_HEADLESS": "false",
        "HLTV_DB_URL": "postgresql://u:p@h/db",
    }))
    assert (config.max_attempts, config.lease_seconds, config.archive) == (5, 2.5, False)
    assert config.base_url == "http://localhost:8080"
    assert [p.label for p in config.proxies.proxies] == ["10.0.0.1:3128"]
    assert config.proxies.bench_seconds == 60.0 and config.browser.headless is False
    assert config.database == "postgresql://u:p@h/db"
    assert HltvConfig.from_settings(Settings({"HLTV_DB_PATH": "x/y.sqlite3"})).database == ROOT / "x/y.sqlite3"


def test_a_name_in_lower_case_is_one_line_saying_which_it_means():
    # Scrapy's names are case-sensitive: it would be ignored and the default database used
    for name in ("hltv_db_path", "Hltv_Archive_Dir"):
        with pytest.raises(UsageError) as error:
            HltvConfig.from_settings(Settings({name: "x"}))
        assert str(error.value) == f"{name} is not a setting of this project; did you mean {name.upper()}?"


def test_the_environment_comes_below_settings_and_above_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("HLTV_DB_PATH", str(tmp_path / "env.sqlite3"))
    monkeypatch.setenv("HLTV_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("HLTV_DB_URL", "postgresql://me:secret@db:5432/hltv")
    config = HltvConfig.from_settings(Settings({"HLTV_MAX_ATTEMPTS": "4"}))
    assert config.db_path == tmp_path / "env.sqlite3"
    assert config.max_attempts == 4  # -s wins
    assert config.db_url == "postgresql://me:secret@db:5432/hltv"
    assert config.max_fetch_failures == HltvConfig().max_fetch_failures  # neither: the default
    monkeypatch.setenv("HLTV_MAX_ATTEMPTS", "none")
    with pytest.raises(UsageError, match="^HLTV_MAX_ATTEMPTS takes a whole number of at least 1, got 'none'$"):
        HltvConfig.from_settings(Settings())
    monkeypatch.setenv("HLTV_FUZZ_EXAMPLES", "3")  # not ours: the environment is everyone's
    monkeypatch.delenv("HLTV_MAX_ATTEMPTS")
    assert HltvConfig.from_settings(Settings()).max_attempts == 3


def test_relative_paths_follow_the_project_folder_and_a_tilde_is_home(monkeypatch, tmp_path):
    (tmp_path / "scrapy.cfg").write_text("[settings]\ndefault = hltv_scraper.settings\n")
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "docs" / "deep")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "proxies.txt").write_text("http://10.0.0.1:3128\n")
    config = HltvConfig.from_settings(Settings({"HLTV_ARCHIVE_DIR": "~/archive", "HLTV_PROXIES": "proxies.txt"}))
    assert config.db_path == tmp_path / "data" / "hltv.sqlite3"
    assert config.archive_dir == tmp_path / "home" / "archive"
    assert [p.label for p in config.proxies.proxies] == ["10.0.0.1:3128"]
    assert config.where() == f"Database: {tmp_path / 'data' / 'hltv.sqlite3'}; archive: {tmp_path / 'home' / 'archive'}"
    monkeypatch.chdir(tmp_path.parent)  # no scrapy.cfg above (a scrapyd egg): the current folder
    assert HltvConfig.from_settings(Settings()).db_path == tmp_path.parent / "data" / "hltv.sqlite3"


def test_the_first_line_names_the_database_without_its_password():
    url = "postgresql://me:p@ss/w#rd@db.example:5432/hltv"
    line = HltvConfig.from_settings(Settings({"HLTV_DB_URL": url})).where()
    assert line == f"Database: postgresql://me:***@db.example:5432/hltv; archive: {ROOT / 'data' / 'archive'}"


@pytest.mark.slow
def test_a_command_from_a_sub_folder_uses_the_project_database_read_from_the_environment(tmp_path):
    scrapy = str(Path(sys.executable).parent / "scrapy")
    env = {**os.environ, "HLTV_DB_PATH": str(tmp_path / "env.sqlite3")}
    done = subprocess.run([scrapy, "initdb", "-s", "HLTV_ARCHIVE_DIR=some/archive"], cwd=ROOT / "docs",
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == f"Database: {tmp_path / 'env.sqlite3'}; archive: {ROOT / 'some/archive'}"
    assert (tmp_path / "env.sqlite3").is_file()
    assert not (ROOT / "some").exists() and not (ROOT / "docs" / "data").exists()


@pytest.mark.slow
def test_importing_the_config_loads_almost_nothing_of_the_project():
    code = "import sys, hltv_scraper.config; print(sorted(m for m in sys.modules if m.startswith('hltv_scraper')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)  # noqa: S307  (our own print of a list of names)
    assert len(loaded) <= 3, loaded
    assert not [m for m in loaded if "storage" in m]


def test_a_crawl_with_a_bad_setting_stops_before_it_starts(server, database, crawl_settings):
    result = run_crawl("perf_economy", {**crawl_settings, "HLTV_MAX_ATEMPTS": "3"})

    assert isinstance(result.error, UsageError)
    assert str(result.error) == "HLTV_MAX_ATEMPTS is not a setting of this project; did you mean HLTV_MAX_ATTEMPTS?"
    assert sum(server.requests.values()) == 0
    if isinstance(database, Path):
        assert not database.exists()  # nothing written, not even an empty database


@pytest.mark.slow
def test_the_config_is_built_once_per_crawl_with_browser_and_proxies_on(
    server, database, crawl_settings, tmp_path, monkeypatch
):
    seed_scoreboard(database, 206389)
    listing = tmp_path / "proxies.txt"
    listing.write_text(f"http://{server.address}\n")  # the fixture server answers as a proxy
    built = []
    original = HltvConfig.from_settings.__func__

    def counted(cls, settings):
        built.append(1)
        return original(cls, settings)

    monkeypatch.setattr(HltvConfig, "from_settings", classmethod(counted))

    result = run_crawl("perf_economy", {
        **crawl_settings, "HLTV_BROWSER": "handoff", "HLTV_PROXIES": str(listing),
        "HLTV_BROWSER_EXECUTABLE": sys.executable,  # no challenge here: no browser starts
    })

    assert result.error is None
    assert result.stat("hltv/maps/committed") == 1
    assert result.stat("hltv/proxies/active") == 1  # proxies, clearance and handler were on
    assert len(built) == 1


@pytest.mark.slow
def test_a_crawl_first_names_its_database_and_archive(tmp_path):
    scrapy = str(Path(sys.executable).parent / "scrapy")
    done = subprocess.run(
        [scrapy, "crawl", "perf_economy", "-s", f"HLTV_DB_PATH={tmp_path / 'x.sqlite3'}",
         "-s", "HLTV_ARCHIVE=0", "-s", "HLTV_DB_URL=", "-s", "HLTV_ARCHIVE_DIR=~/nowhere"],
        cwd=ROOT / "docs", capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]  # nothing pending: nothing asked for
    first = done.stderr.splitlines()[0]
    assert first == f"Database: {tmp_path / 'x.sqlite3'}; archive: off ({Path.home() / 'nowhere'})"
