"""Hostile text in names: quotes, SQL, HTML, emoji, 10 KB strings.

A fixture map whose player, team and event names are replaced on every page (properly
escaped for where they stand: HTML text, attributes, chart JSON) goes through both
stages as real crawls. Every name is stored exactly as the page shows it, nothing is
injected, and the map is stored whole.
"""

from __future__ import annotations

import itertools
import json
import sqlite3

import lxml.html
import pytest

from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.crawl import run_crawl
from tests.support.pages import load_expected
from tests.support.seed import rows
from tests.support.server import Answer
from tests.support.faults import small_page
from tests.support.truth import assert_matches_truth

MAP = 206389
TRUTH = load_expected(MAP)
MATCH = TRUTH["match"]
LONG = "".join(itertools.islice(itertools.cycle("x'\"<>&;--😀ß%_\\"), 10 * 1024))

PLAYERS = [
    "Robert'); DROP TABLE player_stats;--",
    '"; DELETE FROM maps WHERE 1=1; --',
    '<script>alert("pwn")</script>',
    "O'Brien \"The Rock\" `tick`",
    "&amp; &lt;b&gt; shown as typed",  # entities as literal text: the page escapes them again
    "😀🔥 👩‍👩‍👧 emoji",
    "back\\slash %s %d {0} ${x} ?1 :name",
    "Ünïcödé — \u202eRTL\u202c mix",
    LONG,
    "' OR '1'='1",
]
NAME_SETS = {
    "sql-and-html": {
        "Paper Tigers": "Tigers'); DROP TABLE matches;-- & \"Co\" <b>",
        "Grey Tide": "Grey 😀 Tide <i>“quoted”</i>",
        MATCH["event_name"]: "Cup\"; UPDATE maps SET map_name='x'; -- <img src=x onerror=alert(1)>",
    },
    "ten-kilobyte-names": {
        "Paper Tigers": "T" + LONG,
        "Grey Tide": "G" + LONG,
        MATCH["event_name"]: "E" + LONG,
    },
}


def renamed(page: str, names: dict[str, str]) -> bytes:
    """The small fixture page with names replaced in text, alt/title and chart JSON."""
    root = lxml.html.document_fromstring(small_page(page, MAP))

    def swap(text: str | None, escape=lambda name: name) -> str | None:
        if text:
            for old, new in names.items():
                text = text.replace(old, escape(new))
        return text

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        element.text, element.tail = swap(element.text), swap(element.tail)
        for attribute in ("alt", "title"):
            if attribute in element.attrib:
                element.attrib[attribute] = swap(element.attrib[attribute])
        if "data-fusionchart-config" in element.attrib:
            element.attrib["data-fusionchart-config"] = swap(
                element.attrib["data-fusionchart-config"], lambda name: json.dumps(name)[1:-1]
            )
    return lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")


def schema(database) -> list[tuple]:
    return rows(database, "SELECT type, name, sql FROM sqlite_master ORDER BY name")


@pytest.mark.slow
@pytest.mark.parametrize("name_set", list(NAME_SETS))
def test_hostile_names_are_stored_verbatim_and_the_map_whole(server, database, crawl_settings, tmp_path, name_set):
    names = {**NAME_SETS[name_set], **{p["player_name"]: new for p, new in zip(TRUTH["players"], PLAYERS)}}
    db = Database.open(database)
    db.add_maps([(MATCH["match_id"], MATCH["map_number"], MAP)])
    db.close()
    clean = tmp_path / "clean.sqlite3"
    Database.open(clean).close()
    for page in ("mapstats", "performance", "economy"):
        server.script(page, MAP, Answer(body=renamed(page, names)))

    stats = run_crawl("map_stats", crawl_settings)
    perf = run_crawl("perf_economy", crawl_settings)

    assert stats.error is None and perf.error is None
    assert stats.stat("hltv/maps/committed") == 1, stats.stats
    assert perf.stat("hltv/maps/committed") == 1, perf.stats
    stored_players = dict(rows(database, "SELECT player_id, player_name FROM player_stats"))
    assert stored_players == {p["player_id"]: names[p["player_name"]] for p in TRUTH["players"]}
    assert rows(database, "SELECT team1_id, team1_name, team2_id, team2_name, event_name FROM matches") == [(
        MATCH["team1_id"], names["Paper Tigers"], MATCH["team2_id"], names["Grey Tide"],
        names[MATCH["event_name"]],
    )]
    assert rows(database, "SELECT map_name FROM maps") == [(MATCH["map_name"],)]
    # nothing injected: the same tables, the same rows of the map, whole
    assert schema(database) == schema(clean)
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    assert_matches_truth(database, MAP)


@pytest.mark.parametrize("name", ["None", "null", "N/A", "-"])
def test_a_player_named_like_a_missing_value_keeps_the_name(name):
    """``-`` and ``null`` stand for a missing number; a player may still be called so."""
    from scrapy.http import HtmlResponse

    from hltv_scraper.parsers.mapstats import parse_mapstats

    body = renamed("mapstats", {TRUTH["players"][0]["player_name"]: name})
    page = parse_mapstats(HtmlResponse(url=f"https://www.hltv.org/stats/matches/mapstatsid/{MAP}/x", body=body))

    assert {p.player_id: p.player_name for p in page.players}[TRUTH["players"][0]["player_id"]] == name


def test_hostile_text_goes_into_sqlite_as_data_only(database):
    """The storage layer binds every value: the strings land as they are, byte for byte."""
    db = Database.open(database)
    try:
        db.add_maps([(1, 1, 11)])
        for number, text in enumerate(PLAYERS):
            db.record_failure(STAGES["perf_economy"], 11, failures=[("performance", text, text)], parser_version=text)
    finally:
        db.close()
    stored = rows(database, "SELECT reason, url, parser_version FROM failures ORDER BY failure_id")
    assert stored == [(text, text, text) for text in PLAYERS]
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("SELECT count(*) FROM maps").fetchone() == (1,)
    finally:
        connection.close()
