"""``HLTV_IMPERSONATE=chrome``: the plain path through curl_cffi, against a local HTTPS
server whose certificate the test makes. The rows stored are exactly those of Scrapy's
own handler; only the handshake and the headers change."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import pytest
import trustme

from hltv_scraper import settings as project_settings
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import FixtureServer
from tests.support.truth import assert_matches_truth, snapshot

MAPS = (206389, 162345, 219128)


class DontVerifyTheTestCertificate:
    """For this test only: curl_cffi verifies certificates (Scrapy's handler does not)."""

    def process_request(self, request):
        request.meta["impersonate_args"] = {"verify": False}


@pytest.fixture
def https_server() -> Iterator[FixtureServer]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = FixtureServer(tls=context).start()
    yield server
    server.stop()


def settings_for(https_server, tmp_path, name: str, **extra) -> dict:
    database = tmp_path / name / "hltv.sqlite3"
    for mapstatsid in MAPS:
        seed_scoreboard(database, mapstatsid)
    return {"HLTV_DB_PATH": str(database), "HLTV_BASE_URL": https_server.base_url,
            "HLTV_ARCHIVE_DIR": str(tmp_path / name / "archive"), **extra}


@pytest.mark.slow
def test_impersonating_chrome_stores_the_same_rows_as_the_stock_handler(https_server, tmp_path):
    stock = settings_for(https_server, tmp_path, "stock", HLTV_BROWSER="0")  # Scrapy's own client
    impersonating = settings_for(https_server, tmp_path, "chrome", HLTV_IMPERSONATE="chrome", DOWNLOADER_MIDDLEWARES={
        **project_settings.DOWNLOADER_MIDDLEWARES, f"{__name__}.DontVerifyTheTestCertificate": 1,
    })

    plain = run_crawl("perf_economy", stock)
    stock_headers = list(https_server.request_headers)
    chrome = run_crawl("perf_economy", impersonating)
    chrome_headers = https_server.request_headers[len(stock_headers):]

    for result in (plain, chrome):
        assert result.error is None
        assert result.stat("hltv/maps/committed") == len(MAPS)
        assert result.stat("hltv/pages/fetched/plain") == 2 * len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(impersonating["HLTV_DB_PATH"], mapstatsid)
        assert snapshot(impersonating["HLTV_DB_PATH"], mapstatsid) == snapshot(stock["HLTV_DB_PATH"], mapstatsid)
    # the same pages, asked differently: Scrapy's headers, then Chrome's through curl_cffi
    assert plain.stat("impersonate/request_bytes") == 0
    assert chrome.stat("impersonate/request_bytes") > 0
    assert {h["user-agent"].split("/")[0] for h in stock_headers} == {"Scrapy"}
    assert len(chrome_headers) == 2 * len(MAPS)
    for headers in chrome_headers:
        assert "Chrome/" in headers["user-agent"] and "Scrapy" not in headers["user-agent"]
        assert headers["sec-ch-ua"] and headers["sec-fetch-mode"] == "navigate"


def test_curl_cffi_verifies_certificates(https_server, tmp_path, caplog):
    # without the test's exception, the self-signed certificate is refused: proof that
    # the pages above really went through curl_cffi, and that it checks certificates
    settings = settings_for(https_server, tmp_path, "verify", HLTV_IMPERSONATE="chrome")

    result = run_crawl("perf_economy", settings)

    assert result.stat("hltv/maps/committed") == 0
    assert result.stat("hltv/maps/fetch_failed") == len(MAPS)
    assert sum(https_server.requests.values()) == 0
    assert "certificate" in caplog.text.lower()


def test_an_unknown_browser_is_a_clear_error(tmp_path, https_server):
    result = run_crawl("perf_economy", settings_for(https_server, tmp_path, "x", HLTV_IMPERSONATE="netscape4"))

    assert "HLTV_IMPERSONATE takes 0 or a browser curl_cffi can impersonate, got 'netscape4'" in str(result.error)
    assert sum(https_server.requests.values()) == 0


@pytest.mark.slow
def test_a_page_that_never_comes_fails_after_download_timeout_not_curls_own(tmp_path):
    """scrapy-impersonate does not hand DOWNLOAD_TIMEOUT to curl_cffi, which would wait
    its own 30 s (past the 5 s a first Ctrl-C gives a page on the wire): our handler does."""
    database = tmp_path / "hltv.sqlite3"
    seed_scoreboard(database, MAPS[0])
    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        result = run_crawl("perf_economy", {
            "HLTV_DB_PATH": str(database), "HLTV_BASE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "HLTV_ARCHIVE_DIR": str(tmp_path / "archive"), "HLTV_IMPERSONATE": "chrome",
            "DOWNLOAD_TIMEOUT": 1, "RETRY_ENABLED": False,
        }, timeout=25, mapstatsid=str(MAPS[0]))  # two pages: 60 s on curl's own timeout

    assert result.stat("hltv/maps/fetch_failed") == 1
    assert result.close_reason == "hltv_nothing_fetched"
    assert "timeout" in result.stats["hltv/stopped_because"].lower(), result.stats["hltv/stopped_because"]
