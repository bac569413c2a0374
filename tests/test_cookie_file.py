"""``HLTV_COOKIES_FILE`` + ``HLTV_USER_AGENT``: cookies exported from a browser that got
through, sent by the plain path from the first request on."""

from __future__ import annotations

import json
import logging
import time

import pytest

from hltv_scraper.fetch.cookies import CookieFileError, read_cookie_file
from tests.support.crawl import run_crawl
from tests.support.seed import seed_scoreboard
from tests.support.server import FixtureServer
from tests.support.truth import assert_matches_truth, pending

MAPS = (206389, 162345)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


@pytest.fixture
def server(gated_server: FixtureServer) -> FixtureServer:
    return gated_server  # the site is behind Cloudflare


def netscape(token: str, *, expires: int | None = None, domain: str = "127.0.0.1") -> str:
    expires = int(time.time()) + 3600 if expires is None else expires
    return (
        "# Netscape HTTP Cookie File\n"
        "# exported from the browser that got through\n\n"
        f"#HttpOnly_{domain}\tFALSE\t/\tFALSE\t{expires}\tcf_clearance\t{token}\n"
        f"{domain}\tFALSE\t/\tFALSE\t0\t__cf_bm\tsession-{token}\n"
    )


def as_json(token: str) -> str:
    return json.dumps([  # what browser extensions export
        {"domain": "127.0.0.1", "hostOnly": True, "httpOnly": True, "name": "cf_clearance", "path": "/",
         "secure": False, "session": False, "expirationDate": time.time() + 3600, "value": token},
    ])


@pytest.fixture
def settings(crawl_settings, database) -> dict:
    for mapstatsid in MAPS:
        seed_scoreboard(database, mapstatsid)
    return {**crawl_settings, "HLTV_USER_AGENT": BROWSER}


@pytest.mark.slow
@pytest.mark.parametrize("export", [netscape, as_json], ids=["cookies.txt", "json"])
def test_valid_cookies_get_every_page_without_a_challenge(server, gate, database, settings, tmp_path, export, caplog):
    token = gate.issue(BROWSER)
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(export(token))
    caplog.set_level(logging.DEBUG)

    result = run_crawl("perf_economy", {**settings, "HLTV_COOKIES_FILE": str(cookies)})

    assert result.error is None
    assert result.stat("hltv/maps/committed") == len(MAPS)
    for mapstatsid in MAPS:
        assert_matches_truth(database, mapstatsid)
    assert gate.challenges == 0 and gate.passed == 2 * len(MAPS)
    assert result.stat("hltv/refused/cloudflare_challenge") == 0
    # impersonating Chrome, with the browser's User-Agent and cookies from the first request
    assert {h["user-agent"] for h in server.request_headers} == {BROWSER}
    assert all(f"cf_clearance={token}" in h["cookie"] and "sec-ch-ua" in h for h in server.request_headers)
    assert "cf_clearance" in caplog.text and token not in caplog.text  # names, never values


def test_without_them_every_page_is_refused(server, gate, database, settings):
    # the same crawl without the cookies, and no browser to solve: the gate is real
    result = run_crawl("perf_economy", {**settings, "HLTV_BROWSER": "0"})

    assert result.stat("hltv/maps/committed") == 0
    assert gate.challenges > 0 and gate.passed == 0
    assert pending(database) == set(MAPS)


@pytest.mark.parametrize(("content", "message"), [
    pytest.param("127.0.0.1\tFALSE\t/\tFALSE\t0\tcf_clearance\n", r"line 1: expected 7 tab-separated fields", id="fields"),
    pytest.param("127.0.0.1\tMAYBE\t/\tFALSE\t0\tcf_clearance\tSECRETVALUE\n", r"line 1: .*TRUE or FALSE", id="boolean"),
    pytest.param("# c\n127.0.0.1\tFALSE\t/\tFALSE\tsoon\tcf_clearance\tSECRETVALUE\n", r"line 2: the expiry", id="expiry"),
    pytest.param('[{"name": "cf_clearance", "value": "SECRETVALUE"}]', r"cookie 1 is not a cookie", id="json-no-domain"),
    pytest.param('{"cookies": [', r"not valid JSON", id="json-broken"),
    pytest.param("# nothing\n", r"no cookie in it", id="empty"),
    pytest.param(netscape("SECRETVALUE", expires=int(time.time()) - 60), r"cookie 'cf_clearance' \(127.0.0.1\) expired at", id="expired"),
    pytest.param(netscape("SECRETVALUE", domain="www.hltv.org"), r"none of its cookies is for 127.0.0.1", id="other-site"),
])
def test_a_bad_cookie_file_is_a_clear_error_before_any_request(server, settings, tmp_path, content, message):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(content)

    result = run_crawl("perf_economy", {**settings, "HLTV_COOKIES_FILE": str(cookies)})

    assert isinstance(result.error, CookieFileError), result.error
    assert str(cookies) in str(result.error)
    assert "SECRETVALUE" not in str(result.error)
    with pytest.raises(CookieFileError, match=message):
        read_cookie_file(cookies, host="127.0.0.1")
    assert result.stat("downloader/request_count") == 0
    assert server.request_headers == []


def test_cookies_without_their_user_agent_are_an_error(server, settings, tmp_path):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(netscape("x"))
    settings = {**settings, "HLTV_COOKIES_FILE": str(cookies)}
    del settings["HLTV_USER_AGENT"]

    result = run_crawl("perf_economy", settings)

    assert "HLTV_COOKIES_FILE needs HLTV_USER_AGENT" in str(result.error)
    assert server.request_headers == []
