"""Browser mode (``HLTV_BROWSER=1``): real crawls in headless Chromium against the local
fixture server, and how its settings are derived.

The crawl tests need Debian's Chromium at /usr/bin/chromium (``make browser``).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from hltv_scraper.fetch.browser import CONTEXT
from hltv_scraper.config import BrowserConfig, FetchConfig, HltvConfig
from hltv_scraper.fetch.scrapy_settings import apply_fetch_settings
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import Answer
from tests.support.truth import CF_CHALLENGE, CF_HEADERS, assert_matches_truth, assert_untouched, pending, snapshot

# The smallest fixture maps: 206389's performance page is 220 KB, 164783's pages ~2 MB.
SMALL_MAP, OTHER_MAP = 206389, 164783

#: A challenge that clears in a browser, like Cloudflare's: it runs a while, sets the
#: clearance cookie and reloads; the server answers a request with the cookie with the
#: real page. Served with 403 and ``cf-mitigated: challenge``, as Cloudflare does.
CLEARING_CHALLENGE = b"""<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><p>Checking if the site connection is secure</p><script>
window._cf_chl_opt = {cType: "managed"};
setTimeout(function () {
  document.cookie = "cf_clearance=cleared; path=/";
  location.reload();
}, 300);
</script></body></html>"""
CLEARANCE = "cf_clearance=cleared"


def local_only(request) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST`` for tests: what production aborts, plus anything
    not on the fixture server (the pages link hltv.org's scripts and stylesheets)."""
    return request.resource_type in {"image", "font", "media"} or urlsplit(request.url).hostname != "127.0.0.1"


@pytest.fixture
def browser_settings(crawl_settings: dict) -> dict:
    return {
        **crawl_settings,
        "HLTV_BROWSER": "1",
        "PLAYWRIGHT_ABORT_REQUEST": f"{__name__}.local_only",
    }


@pytest.mark.slow
def test_a_browser_crawl_stores_the_same_rows_as_the_plain_path(server, database, browser_settings):
    for mapstatsid in (SMALL_MAP, OTHER_MAP):
        seed_scoreboard(database, mapstatsid)

    result = run_crawl("perf_economy", browser_settings)

    assert result.error is None
    assert result.stat("hltv/maps/committed") == 2
    assert result.stat("log_count/ERROR") == 0
    # every page went through the one browser context
    assert result.stat("playwright/browser_count") == 1
    assert result.stat("playwright/context_count") == 1
    assert result.stat("playwright/page_count") == 4
    assert result.stat("playwright/request_count/aborted") > 0  # images
    for mapstatsid in (SMALL_MAP, OTHER_MAP):
        assert_matches_truth(database, mapstatsid)
    assert pending(database) == set()


@pytest.mark.slow
def test_a_challenge_that_clears_in_the_browser_is_waited_for_and_its_cookie_reused(
    server, database, browser_settings
):
    for mapstatsid in (SMALL_MAP, OTHER_MAP):
        seed_scoreboard(database, mapstatsid)
        challenge = Answer(status=403, body=CLEARING_CHALLENGE, headers=CF_HEADERS, unless_cookie=CLEARANCE)
        server.script("performance", mapstatsid, challenge)

    # one map at a time: the second map is requested after the first one's challenge
    result = run_crawl("perf_economy", {**browser_settings, "HLTV_MAPS_IN_FLIGHT": 1})

    assert result.stat("hltv/maps/committed") == 2
    for mapstatsid in (SMALL_MAP, OTHER_MAP):
        assert_matches_truth(database, mapstatsid)
    # one challenge, cleared inside the page: never a refusal, never a Scrapy retry
    assert result.stat("hltv/browser/challenge/cleared") == 1
    assert result.stat("hltv/refused/cloudflare_challenge") == 0
    assert result.stat("retry/count") == 0
    # the first map's page was asked twice (challenge, reload with the cookie); the
    # second map's once: the context sent the cookie the challenge had set
    asked = sorted(server.requests[("performance", m)] for m in (SMALL_MAP, OTHER_MAP))
    assert asked == [1, 2]
    # the archive holds the real page, with the status of the document it came from
    archived = Path(browser_settings["HLTV_ARCHIVE_DIR"]) / "performance"
    for mapstatsid in (SMALL_MAP, OTHER_MAP):
        body = gzip.decompress((archived / f"{mapstatsid}.html.gz").read_bytes())
        assert b"data-fusionchart-config" in body and b"Just a moment" not in body
        assert b'"status": 200' in (archived / f"{mapstatsid}.json").read_bytes()


@pytest.mark.slow
def test_a_challenge_that_does_not_clear_is_a_refusal_retried_with_backoff(
    server, database, browser_settings
):
    for mapstatsid in (SMALL_MAP, OTHER_MAP):
        seed_scoreboard(database, mapstatsid)
    before = snapshot(database, OTHER_MAP)
    # Cloudflare's real challenge page: its script never clears here
    challenge = Answer(status=403, body=CF_CHALLENGE, headers=CF_HEADERS)
    server.script("performance", SMALL_MAP, challenge, Answer())  # clears on the retry
    server.script("performance", OTHER_MAP, challenge)  # never clears

    result = run_crawl("perf_economy", {**browser_settings, "HLTV_CHALLENGE_TIMEOUT": 0.5})

    assert result.error is None
    # the wait timed out on every challenge without failing the request: each one
    # reached RefusalMiddleware as a page and was refused (and retried)
    refusals = 1 + 3  # SMALL_MAP once; OTHER_MAP on its first try and both retries
    assert result.stat("hltv/browser/challenge/timeout") == refusals
    assert result.stat("hltv/refused/cloudflare_challenge") == refusals
    assert server.requests[("performance", SMALL_MAP)] == 2
    assert server.requests[("performance", OTHER_MAP)] == 3
    assert result.stat("hltv/download_delay") > 0  # backed off
    assert_matches_truth(database, SMALL_MAP)
    assert_untouched(before, snapshot(database, OTHER_MAP))
    assert pending(database) == {OTHER_MAP}
    # no challenge in the archive
    archived = Path(browser_settings["HLTV_ARCHIVE_DIR"]) / "performance"
    assert not (archived / f"{OTHER_MAP}.json").exists()
    assert b"Just a moment" not in gzip.decompress((archived / f"{SMALL_MAP}.html.gz").read_bytes())


# -- settings (no browser started) ----------------------------------------------------


@pytest.mark.parametrize("values", [
    pytest.param({"HLTV_BROWSER": "0"}, id="off"),
    pytest.param({"HLTV_BROWSER": "1", "HLTV_REPLAY": "1"}, id="replay"),
])
def test_browser_mode_off_changes_no_setting(values, tmp_path):
    if "HLTV_REPLAY" in values:  # a replay needs an archive with a page in it
        (tmp_path / "match").mkdir()
        (tmp_path / "match" / "1.json").write_text("{}")
        values = {**values, "HLTV_ARCHIVE_DIR": str(tmp_path)}
    settings = Settings(values)
    before = dict(settings.copy_to_dict())

    config = apply_fetch_settings(settings)

    assert config.fetch == FetchConfig()
    assert config.browser.mode is None and not config.browser.enabled
    assert settings.copy_to_dict() == before


def test_auto_is_the_default_and_starts_no_browser_until_a_page_needs_one(tmp_path):
    settings = Settings({"HLTV_BROWSER_EXECUTABLE": sys.executable, "HLTV_DB_PATH": str(tmp_path / "db" / "x.sqlite3")})

    config = apply_fetch_settings(settings)

    assert config.browser.mode == "auto" and config.browser.enabled and not config.browser.headless
    assert config.browser.profile_dir == tmp_path / "db" / "browser-profiles"  # beside the database
    assert config.fetch.solver == "browser" and config.fetch.impersonate == "chrome"
    assert settings["PLAYWRIGHT_BROWSER_PROVIDER"] == "hltv_scraper.fetch.provider.UndetectedChromium"
    assert settings.getdict("PLAYWRIGHT_CONTEXTS") == {}  # no context: no browser at start
    assert "--enable-unsafe-swiftshader" in settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")["args"]


def test_auto_without_chromium_is_no_error_until_the_site_asks(tmp_path):
    settings = Settings({"HLTV_BROWSER_EXECUTABLE": str(tmp_path / "chromium")})

    config = apply_fetch_settings(settings)

    assert config.browser.mode == "auto" and not config.browser.available and not config.browser.enabled
    assert config.fetch.solver == "browser"
    assert "PLAYWRIGHT_BROWSER_PROVIDER" not in settings


def test_browser_mode_derives_scrapy_playwright_settings_and_the_command_line_wins(tmp_path):
    settings = Settings()
    settings.setdict({
        "HLTV_BROWSER_PROFILE_DIR": str(tmp_path),
        "HLTV_BASE_URL": "https://www.hltv.org",
        "HLTV_BROWSER_EXECUTABLE": sys.executable,  # any executable file will do here
        "HLTV_BROWSER_MAX_PAGES": "3",
        "HLTV_CHALLENGE_TIMEOUT": "12.5",
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 5000,
    }, priority="cmdline")
    settings.set("HLTV_BROWSER", "1", priority="cmdline")

    apply_fetch_settings(settings)
    config = apply_fetch_settings(settings).browser  # repeating it changes nothing

    assert config == BrowserConfig(
        mode="always", executable=sys.executable, max_pages=3, challenge_timeout=12.5,
        profile_dir=tmp_path,
    )
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    assert handlers == {"https": "hltv_scraper.fetch.download_handler.HltvDownloadHandler"}
    assert settings["PLAYWRIGHT_BROWSER_TYPE"] == "chromium"
    launch = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    assert launch["headless"] is False and launch["executable_path"] == sys.executable
    assert "--no-sandbox" in launch["args"] and "--disable-background-networking" in launch["args"]
    # the window's real size, and no storage saved yet
    assert settings.getdict("PLAYWRIGHT_CONTEXTS") == {CONTEXT: {"no_viewport": True}}
    assert settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT") == 3
    assert settings["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"] == 5000  # -s beats derived
    assert settings.getdict("DOWNLOADER_MIDDLEWARES")["hltv_scraper.fetch.browser.BrowserMiddleware"] == 950


def test_browser_mode_without_chromium_is_a_clear_error(tmp_path):
    settings = Settings({"HLTV_BROWSER": "1", "HLTV_BROWSER_EXECUTABLE": str(tmp_path / "chromium")})
    with pytest.raises(UsageError, match="no Chromium at"):
        HltvConfig.from_settings(settings)


@pytest.mark.slow
def test_the_plain_path_does_not_import_playwright():
    code = (
        "import sys\n"
        "from scrapy.utils.project import get_project_settings\n"
        "from scrapy.crawler import Crawler\n"
        "from hltv_scraper.spiders.stages import PerfEconomySpider\n"
        "settings = get_project_settings()\n"
        "settings.set('HLTV_BROWSER', '0')\n"
        "crawler = Crawler(PerfEconomySpider, settings)\n"
        "crawler.addons.load_settings(crawler.settings)  # what a crawl does first\n"
        "assert crawler.settings.getdict('DOWNLOAD_HANDLERS') == {}\n"
        "print(sorted(m for m in sys.modules if 'playwright' in m or 'curl_cffi' in m))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "[]"
