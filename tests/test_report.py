"""``scrapy report``: the HTML page's sections and numbers against the database, failures
grouped, bad maps refused; and the page as real headless Chromium draws it (slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from parsel import Selector

from hltv_scraper import charts
from hltv_scraper.config import BrowserConfig
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.report import ReportError, render_report, write_report
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database
from tests.support.crawl import database_settings
from tests.support.dataset import copy_sqlite, demo_maps, table_rows
from tests.support.pages import load_expected
from tests.support.png import read_png

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("maps-by-stage", "failures", "rating-versions", "map")
#: The fixture map that went to overtime: 19-17, 36 rounds, economy for the first 24 only
OVERTIME_MAP = 206389
TEAM_COLOURS = ((0x1C, 0x7E, 0xD6), (0xE8, 0x59, 0x0C))
HOSTILE = '<img src=x onerror="document.title=1">'


def report(database: Path | str, mapstatsid: int | None = None, max_attempts: int = 3) -> Selector:
    db = Database.open(database)
    try:
        return Selector(text=render_report(db, max_attempts=max_attempts, mapstatsid=mapstatsid))
    finally:
        db.close()


def cards(page: Selector) -> dict[str, int]:
    return {
        card.xpath("normalize-space(text())").get(): int(card.css("b::text").get().replace(",", ""))
        for card in page.css("#maps-by-stage .card")
    }


def latest_complete_map(database) -> int:
    _, matches = table_rows(database, "matches")
    _, maps = table_rows(database, "maps")
    date = {m["match_id"]: m["date"] for m in matches}
    return max((date[m["match_id"]], m["mapstatsid"]) for m in maps if m["perf_economy_at"])[1]


def with_failures(demo_sqlite: Path, folder: Path) -> tuple[Path, dict[str, int]]:
    """The demo database plus maps at every stage and failures of three kinds, the one
    failing three times given up on."""
    database = copy_sqlite(demo_sqlite, folder / "hltv.sqlite3")
    match_id, map_number, incomplete = demo_maps()[0]
    db = Database.open(database)
    try:
        db.add_maps([(900001, 1, 800001), (900002, 1, 800002), (900003, 1, 800003)])
        with db.transaction() as sql:
            sql.run("UPDATE maps SET perf_economy_at = NULL WHERE mapstatsid = :id", {"id": incomplete})
        bad_scoreboard = [("mapstats", "the scoreboard is not 5 + 5 distinct players", "https://x/1")]
        for _ in range(3):  # given up on under this parser version
            db.record_failure(STAGES["map_stats"], 800001, failures=bad_scoreboard, parser_version=current_parser_version())
        db.record_failure(STAGES["map_stats"], 800002, failures=bad_scoreboard, parser_version="t")
        db.record_failure(STAGES["perf_economy"], incomplete, parser_version="t",
                          failures=[("economy", f"chart JSON of the wrong shape {HOSTILE}", None)])
    finally:
        db.close()
    # 800001 failed 3 times (given up), 800002 and 800003 are still just discovered,
    # one demo map is back to scoreboard only, nine are complete
    return database, {"discovered": 2, "scoreboard": 1, "complete": 9, "failed": 1}


# -- the page -------------------------------------------------------------------------


@pytest.mark.both_backends
def test_every_section_is_there_with_the_database_s_numbers(demo_database):
    page = report(demo_database)

    for section in SECTIONS:
        assert page.css(f"section#{section} h2"), section
    assert cards(page) == {"discovered": 0, "scoreboard": 0, "complete": 10, "failed": 0}
    _, matches = table_rows(demo_database, "matches")
    _, maps = table_rows(demo_database, "maps")
    month_of = {m["match_id"]: m["date"].strftime("%Y-%m") for m in matches if m["date"]}
    per_month = Counter(month_of[m["match_id"]] for m in maps if m["perf_economy_at"])
    rows = page.css("#table-maps-by-month tr")[1:]
    assert {r.css("td::text").get(): int(r.css("td.n::text").getall()[-1]) for r in rows} == per_month
    assert page.css("#chart-maps-by-month rect").getall()
    assert "No failures recorded" in page.css("#failures").get()
    versions = Counter(m["rating_version"] for m in maps if m["mapstats_at"])
    shares = " ".join(page.css("#chart-rating-versions text::text").getall())
    for version, count in versions.items():
        assert f"{count / sum(versions.values()):.1%} ({count} map{'' if count == 1 else 's'})" in shares
    # the map shown by default: the complete map played last
    latest = latest_complete_map(demo_database)
    assert page.css("#map h2::text").get().startswith(f"Map {latest}:")
    assert page.css("#chart-economy path.team-line").getall()
    assert len(page.css("#chart-kill-matrix rect.cell")) == 25
    # self-contained: nothing to fetch
    assert not page.xpath("//@src | //link/@href | //script").getall()


def test_a_map_given_up_on_under_an_older_parser_is_pending_again(demo_sqlite, tmp_path):
    database, stages = with_failures(demo_sqlite, tmp_path)
    db = Database.open(database)
    try:  # 800002 runs out of attempts too, but under another parser version
        for _ in range(2):
            db.record_failure(STAGES["map_stats"], 800002, parser_version="t",
                              failures=[("mapstats", "the scoreboard is not 5 + 5 distinct players", None)])
    finally:
        db.close()

    assert cards(report(database)) == stages  # 800002 is still discovered, as the crawls see it


def test_a_chosen_map_shows_its_economy_and_kill_matrix(demo_sqlite):
    match_id, map_number, mapstatsid = demo_maps()[0]

    page = report(demo_sqlite, mapstatsid=mapstatsid)

    assert page.css("#map h2::text").get().startswith(f"Map {mapstatsid}:")
    _, rounds = table_rows(demo_sqlite, "round_history")
    played = [r for r in rounds if (r["match_id"], r["map_number"]) == (match_id, map_number)]
    winners = page.css("#chart-economy rect.round-winner")
    assert len(winners) == len(played)
    _, economy = table_rows(demo_sqlite, "economy")
    economy = [e for e in economy if (e["match_id"], e["map_number"]) == (match_id, map_number)]
    # one dot per team per round; the winner's dot filled (r=5), the loser's hollow
    dots = page.css("#chart-economy circle")
    assert len(dots) == len(economy)
    assert sum(1 for d in dots if d.attrib["r"] == "5") == sum(1 for e in economy if e["won"])
    _, matrix = table_rows(demo_sqlite, "kill_matrix")
    cells = {(c["player1_kills"], c["player2_kills"]) for c in matrix
             if (c["match_id"], c["map_number"], c["matrix_type"]) == (match_id, map_number, "all")}
    shown = {tuple(map(int, t.split(":"))) for t in page.css("#chart-kill-matrix text.count::text").getall()}
    assert shown == cells


def failure_rows(page: Selector) -> list[dict[str, str]]:
    head = [th.xpath("string()").get() for th in page.css("#table-failures tr")[0].css("th")]
    return [dict(zip(head, (td.xpath("string()").get() for td in row.css("td")), strict=True))
            for row in page.css("#table-failures tr")[1:]]


def test_failures_are_grouped_by_stage_page_and_reason(demo_sqlite, tmp_path):
    database, stages = with_failures(demo_sqlite, tmp_path)

    page = report(database)

    assert cards(page) == stages
    groups = failure_rows(page)
    assert [[g["stage"], g["page"], g["failures"], g["units"]] for g in groups] == [
        ["map_stats", "mapstats", "4", "2"],  # four failures of two maps
        ["perf_economy", "economy", "1", "1"],
    ]
    assert groups[0]["reason"] == "the scoreboard is not # + # distinct players"  # folded as summary folds
    assert groups[0]["for example"] == "the scoreboard is not 5 + 5 distinct players"
    assert groups[1]["for example"] == f"chart JSON of the wrong shape {HOSTILE}"  # shown as text
    assert not page.css("#table-failures img")


def test_reasons_that_differ_only_in_names_and_ids_are_one_group_with_a_real_example(demo_sqlite, tmp_path):
    """The rule of ``scrapy summary``: a layout change that names a thousand teams is one
    line, not a thousand; the line still shows one reason as it was."""
    database, _ = with_failures(demo_sqlite, tmp_path)
    db = Database.open(database)
    try:
        for mapstatsid, team, players in ((800002, "Paper Tigers", 4), (800003, "Grey Tide", 6),
                                          (800003, "Grey Tide", 6)):
            db.record_failure(STAGES["map_stats"], mapstatsid, parser_version="t", failures=[
                ("mapstats", f"team '{team}' has {players} players on the scoreboard", None)])
        summary = db.failure_groups()
    finally:
        db.close()

    groups = failure_rows(report(database))

    named = [g for g in groups if g["reason"] == "team '…' has # players on the scoreboard"]
    assert len(named) == 1
    assert (named[0]["failures"], named[0]["units"]) == ("3", "2")
    assert named[0]["for example"] == "team 'Grey Tide' has 6 players on the scoreboard"  # the latest
    # the very groups `scrapy summary` shows, in its order
    assert [(g["stage"], g["page"], g["reason"], g["failures"]) for g in groups] == [
        (s.stage, s.page, s.reason, str(s.failures)) for s in summary]


def test_the_featured_map_shows_its_scoreboard(demo_sqlite):
    match_id, map_number, mapstatsid = demo_maps()[0]
    truth = load_expected(mapstatsid)

    page = report(demo_sqlite, mapstatsid=mapstatsid)

    rows = page.css("#table-scoreboard tr.player")
    assert len(rows) == len(truth["players"]) == 10
    shown = {tuple(td.xpath("string()").get() for td in row.css("td")) for row in rows}
    assert shown == {scoreboard_row(p) for p in truth["players"]}
    teams = page.css("#table-scoreboard tr.team th::text").getall()
    assert teams == [truth["match"]["team1_name"], truth["match"]["team2_name"]]


def scoreboard_row(p: dict) -> tuple[str, ...]:
    """A truth file's player as the scoreboard shows them ("-" where the page has no value)."""

    def shown(value, form: str = "{}") -> str:
        return "-" if value is None else form.format(value)

    return (p["player_name"], f"{p['kills']}-{p['deaths']}",
            shown(p["hs_kills"] and 100 * p["hs_kills"] / p["kills"], "{:.0f}%"), shown(p["adr"], "{:.1f}"),
            shown(p["kast"], "{:.1f}%"), f"{p['opening_kills']}:{p['opening_deaths']}", shown(p["multi_kills"]),
            shown(p["clutch_wins"]), f"{p['rating']:.2f}")


@pytest.mark.parametrize("mapstatsid", [OVERTIME_MAP, 162345])
def test_the_scoreboard_has_headshots_opening_duels_multi_kills_and_clutches(demo_sqlite, mapstatsid):
    truth = load_expected(mapstatsid)

    page = report(demo_sqlite, mapstatsid=mapstatsid)

    head = [th.xpath("string()").get() for th in page.css("#table-scoreboard tr")[0].css("th")]
    assert head[:8] == ["player", "K-D", "HS%", "ADR", "KAST", "op. K:D", "MK", "1vsX"]
    shown = {tuple(td.xpath("string()").get() for td in row.css("td")) for row in page.css("#table-scoreboard tr.player")}
    assert shown == {scoreboard_row(p) for p in truth["players"]}
    assert any(p["clutch_wins"] for p in truth["players"]) and any(p["opening_kills"] for p in truth["players"])


def truth_halves(mapstatsid: int) -> list[dict]:
    """Each half of a truth file's map: its rounds, each team's side, the score after it."""
    truth = load_expected(mapstatsid)
    team1 = truth["match"]["team1_id"]
    regulation = {"MR12": 24, "MR15": 30}[truth["regulation"]]
    halves: list[dict] = []
    score = [0, 0]
    for r in truth["rounds"]:
        n = r["round_number"]
        half = (1 if n <= regulation // 2 else 2) if n <= regulation else 3 + (n - regulation - 1) // 3
        if not halves or halves[-1]["half"] != half:
            won_side = r["winner_side"]
            side1 = won_side if r["winner_team_id"] == team1 else {"CT": "T", "T": "CT"}[won_side]
            halves.append({"half": half, "rounds": [], "sides": [side1, {"CT": "T", "T": "CT"}[side1]]})
        halves[-1]["rounds"].append(r)
        score[0 if r["winner_team_id"] == team1 else 1] += 1
        halves[-1]["score"] = f"{score[0]}–{score[1]}"
    # the economy page shows the same sides where it has the rounds
    for h in halves:
        for e in (e for e in truth["economy"] if e["round_number"] in {r["round_number"] for r in h["rounds"]}):
            assert e["side"] == h["sides"][0 if e["team_id"] == team1 else 1]
    return halves


@pytest.mark.parametrize(("mapstatsid", "pistols"), [(OVERTIME_MAP, ["1", "13"]), (162345, ["1", "16"]),
                                                     (219128, ["1", "13"])])
def test_the_round_history_shows_halves_sides_breaks_and_how_each_round_ended(demo_sqlite, mapstatsid, pistols):
    truth = load_expected(mapstatsid)
    team1 = truth["match"]["team1_id"]
    halves = truth_halves(mapstatsid)

    page = report(demo_sqlite, mapstatsid=mapstatsid)

    blocks = page.css("#round-history .half")
    assert [int(b.attrib["data-half"]) for b in blocks] == [h["half"] for h in halves]
    for block, half in zip(blocks, halves):
        numbers = [int(n) for n in block.css(".round-number::text").getall()]
        assert numbers == [r["round_number"] for r in half["rounds"]]
        assert [block.css(f".team{n} .side::text").get() for n in (1, 2)] == half["sides"]
        for n in (1, 2):
            # each team's row: how each round it won ended, on its side's colour; nothing where it lost
            won = [r for r in half["rounds"] if (r["winner_team_id"] == team1) == (n == 1)]
            glyphs = block.css(f".team{n} svg.outcome")
            assert [g.attrib["class"].split()[1] for g in glyphs] == [r["win_type"] for r in won]
            assert {g.css("rect::attr(fill)").get() for g in glyphs} <= {charts.SIDE_COLOURS[half["sides"][n - 1]]}
            assert len(block.css(f".team{n} .lost")) == len(half["rounds"]) - len(won)
            assert block.css(f".team{n} .half-score::text").get() == str(len(won))
    assert page.css("#round-history .round-number.pistol::text").getall() == pistols
    # between the halves and at the end: the score at half-time, after regulation and each overtime
    breaks = page.css("#round-history .break")
    assert [b.css("b::text").get() for b in breaks] == [h["score"] for h in halves]
    assert breaks[0].xpath("text()").get() == "half-time" and breaks[-1].xpath("text()").get() == "final"
    assert breaks[-1].css("b::text").get() == f"{truth['match']['team1_rounds']}–{truth['match']['team2_rounds']}"
    regulation = {"MR12": "MR12: 24 rounds", "MR15": "MR15: 30 rounds"}[truth["regulation"]]
    assert regulation in page.css("#map").get()


def test_the_economy_chart_draws_half_time_and_overtime_lines_with_labels_beside_the_shading(demo_sqlite):
    page = report(demo_sqlite, mapstatsid=OVERTIME_MAP)

    chart = page.css("#chart-economy")
    # half-time after 12, then one line per overtime half: 24, 27, 30, 33
    assert len(chart.css("line.half-break")) == 5
    shading = chart.css("rect.no-economy")
    right_edge = max(float(r.attrib["x"]) + float(r.attrib["width"]) for r in shading)
    labels = chart.css("text.buy-line")
    assert [t.xpath("string()").get() for t in labels] == ["semi-eco", "semi-buy", "full buy"]
    assert all(float(t.attrib["x"]) >= right_edge for t in labels)  # outside the plot: never under the grey
    assert all(t.attrib.get("paint-order") == "stroke" for t in labels)  # on a white halo


def test_all_three_kill_matrices_are_shown(demo_sqlite):
    mapstatsid = demo_maps()[0][2]
    truth = load_expected(mapstatsid)

    page = report(demo_sqlite, mapstatsid=mapstatsid)

    for matrix_type, chart in (("all", "#chart-kill-matrix"), ("first_kill", "#chart-kill-matrix-first-kill"),
                               ("awp", "#chart-kill-matrix-awp")):
        cells = [(c["player1_kills"], c["player2_kills"]) for c in truth["kill_matrix"]
                 if c["matrix_type"] == matrix_type]
        shown = [tuple(map(int, t.split(":"))) for t in page.css(f"{chart} text.count::text").getall()]
        assert sorted(shown) == sorted(cells) and len(shown) == 25, matrix_type


def test_the_series_and_veto_around_the_map(demo_sqlite):
    match_id, map_number, _ = next(m for m in demo_maps() if m[2] == OVERTIME_MAP)
    _, vetoes = table_rows(demo_sqlite, "vetoes")
    _, maps = table_rows(demo_sqlite, "maps")

    page = report(demo_sqlite, mapstatsid=OVERTIME_MAP)

    steps = [v for v in vetoes if v["match_id"] == match_id]
    assert len(steps) == 7
    assert [li.xpath("string()").get() for li in page.css("#veto li")] == [
        f"{v['map_name']} was left over" if v["action"] == "left_over" else
        f"{v['team_name']} {v['action']} {v['map_name']}" for v in steps]
    games = [g for g in maps if g["match_id"] == match_id]
    rows = [[td.xpath("string()").get() for td in r.css("td")] for r in page.css("#table-series tr")[1:]]
    picked = {v["map_name"]: v["team_name"] for v in steps if v["action"] == "picked"}
    left_over = next(v["map_name"] for v in steps if v["action"] == "left_over")
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (str(g["map_number"]), g["map_name"], picked.get(g["map_name"], "decider" if g["map_name"] == left_over else ""))
        for g in games]
    assert rows[1][2] == "13–4" and rows[1][4] == str(games[1]["mapstatsid"])
    assert [r[2] for r in rows[2:]] == ["forfeit", "not played", "not played"]
    current = [td.xpath("string()").get() for td in page.css("#table-series tr.current td")]
    assert current == [str(map_number), "Mirage", "19–17", picked["Mirage"], "this map"]
    assert page.css("#series p b::text").get() == "Paper Tigers 3–0 Grey Tide"


def test_an_overtime_map_shows_every_round_s_winner_and_economy_as_absent_where_hltv_has_none(demo_sqlite):
    truth = load_expected(OVERTIME_MAP)
    assert (truth["match"]["team1_rounds"], truth["match"]["team2_rounds"]) == (19, 17)

    page = report(demo_sqlite, mapstatsid=OVERTIME_MAP)

    winners = page.css("#chart-economy rect.round-winner")
    assert len(winners) == 36 == len(truth["rounds"])
    team_ids = [truth["match"]["team1_id"], truth["match"]["team2_id"]]
    colours = ["#1c7ed6", "#e8590c"]
    assert [w.attrib["fill"] for w in winners] == [colours[team_ids.index(r["winner_team_id"])]
                                                   for r in truth["rounds"]]
    assert page.css("#chart-economy rect.round-winner title::text").getall()[35].startswith("Round 36: ")
    economy_rounds = {e["round_number"] for e in truth["economy"]}
    assert economy_rounds == set(range(1, 25))
    absent = page.css("#chart-economy rect.no-economy title::text").getall()
    assert absent == [f"round {n}: no economy published" for n in range(25, 37)]
    assert len(page.css("#chart-economy circle")) == len(truth["economy"])  # no made-up values
    assert "rounds 25-36 without economy" in page.css("#map").get()


def test_an_empty_database_gets_a_report_that_says_so(tmp_path):
    page = report(tmp_path / "empty.sqlite3")

    for section in SECTIONS:
        assert page.css(f"section#{section} h2"), section
    assert "No maps with a stats page yet" in page.get()
    assert "No complete map yet" in page.get()
    assert not page.css("svg")


def test_a_map_not_there_or_not_complete_is_refused(demo_sqlite, tmp_path):
    database, _ = with_failures(demo_sqlite, tmp_path)
    db = Database.open(database)
    try:
        with pytest.raises(ReportError, match="map 4242 is not in the database"):
            render_report(db, max_attempts=3, mapstatsid=4242)
        with pytest.raises(ReportError, match="no performance and economy stored yet"):
            render_report(db, max_attempts=3, mapstatsid=demo_maps()[0][2])
    finally:
        db.close()
    with pytest.raises(ReportError, match="is a folder"):
        write_report("<html></html>", tmp_path)


@pytest.mark.slow
def test_scrapy_report_writes_the_file_and_refuses_a_bad_map(demo_sqlite, tmp_path):
    out = tmp_path / "reports" / "report.html"
    settings = [i for k, v in database_settings(demo_sqlite).items() for i in ("-s", f"{k}={v}")]

    def scrapy(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "scrapy", "report", *args, *settings],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    done = scrapy("--out", str(out), "--map", str(demo_maps()[2][2]))
    assert done.returncode == 0, done.stderr
    assert f"written to {out}" in done.stdout
    assert out.stat().st_mode & 0o044 == 0o044 & ~current_umask()  # readable as any new file
    assert Selector(text=out.read_text("utf-8")).css("#map h2::text").get().startswith(f"Map {demo_maps()[2][2]}:")

    refused = scrapy("--out", str(tmp_path / "other.html"), "--map", "4242")
    assert refused.returncode != 0 and "map 4242 is not in the database" in refused.stdout + refused.stderr
    assert not (tmp_path / "other.html").exists()
    for bad, message in (("4242", "no report written: map 4242 is not in the database"),
                         ("12x", "--mapstatsid must be a map's stats id (a whole number), got '12x'")):
        refused = scrapy("--out", str(tmp_path / "other.html"), "--mapstatsid", bad)
        assert refused.returncode == 2
        assert (refused.stdout + refused.stderr).strip().splitlines()[-1].endswith(f": error: {message}")
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "other.html").exists()
    chosen = tmp_path / "chosen.html"
    assert scrapy("--out", str(chosen), "--mapstatsid", str(OVERTIME_MAP)).returncode == 0
    assert Selector(text=chosen.read_text("utf-8")).css("#map h2::text").get().startswith(f"Map {OVERTIME_MAP}:")
    chosen.unlink()
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temporary left


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- in a browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=BrowserConfig().executable, args=["--no-sandbox"], headless=True
        )
        yield browser
        browser.close()


def open_report(chromium, path: Path):
    """The report in a page of its own; every request it makes is recorded."""
    page = chromium.new_page(viewport={"width": 1000, "height": 800})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    return page, requests


def close_to(pixel: tuple[int, int, int], colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


@pytest.mark.slow
def test_chromium_draws_every_section_and_the_map_s_charts(chromium, demo_sqlite, tmp_path):
    out = tmp_path / "report.html"
    db = Database.open(demo_sqlite)
    try:
        write_report(render_report(db, max_attempts=3), out)
    finally:
        db.close()

    page, requests = open_report(chromium, out)
    shot = page.screenshot(full_page=True)
    (tmp_path / "report.png").write_bytes(shot)
    image = read_png(shot)

    assert requests == [out.as_uri()]  # nothing from the network
    # not blank: a page of text and colour
    colours = Counter(image.pixels())
    assert len(colours) > 50
    assert colours[(255, 255, 255)] < 0.95 * image.width * image.height
    for section in SECTIONS:
        heading = page.locator(f"section#{section} h2")
        assert heading.is_visible(), section
        box = heading.bounding_box()
        assert box["width"] > 100 and box["height"] > 10, section
    # the economy chart is drawn: both teams' lines, in their colours, inside its box
    economy = page.locator("#chart-economy").bounding_box()
    assert economy["width"] > 600 and economy["height"] > 250
    inside = Counter(image.pixels((economy["x"], economy["y"], economy["width"], economy["height"])))
    for colour in TEAM_COLOURS:
        assert sum(n for pixel, n in inside.items() if close_to(pixel, colour)) > 500, colour
    # the kill matrix as a heat map: reds of more than one shade
    matrix = page.locator("#chart-kill-matrix").bounding_box()
    reds = {p for p in image.pixels((matrix["x"], matrix["y"], matrix["width"], matrix["height"]))
            if p[0] > 150 and p[0] - p[1] > 40 and p[1] == p[2]}
    assert len(reds) > 5
    assert page.locator("#chart-maps-by-month").is_visible()
    assert page.locator("#chart-rating-versions").is_visible()
    page.close()


@pytest.mark.slow
def test_chromium_shows_failures_grouped_and_their_text_as_text(chromium, demo_sqlite, tmp_path):
    database, stages = with_failures(demo_sqlite, tmp_path / "db")
    out = tmp_path / "report.html"
    db = Database.open(database)
    try:
        write_report(render_report(db, max_attempts=3), out)
    finally:
        db.close()

    page, requests = open_report(chromium, out)

    assert requests == [out.as_uri()]
    table = page.locator("#table-failures")
    assert table.is_visible()
    rows = table.locator("tr")
    assert rows.count() == 3
    assert rows.nth(1).inner_text().split("\t")[:2] == ["map_stats", "mapstats"]
    assert HOSTILE in rows.nth(2).inner_text()
    assert page.title() == "HLTV dataset report"  # the failure's markup did not run
    for stage, count in stages.items():
        assert page.locator(".card", has_text=stage).locator("b").inner_text() == str(count)
    page.close()


def hex_colour(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def overlaps(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_chromium_draws_an_overtime_map_readable_at_desktop_and_phone_widths(chromium, demo_sqlite, tmp_path, width):
    out = tmp_path / "report.html"
    db = Database.open(demo_sqlite)
    try:
        write_report(render_report(db, max_attempts=3, mapstatsid=OVERTIME_MAP), out)
    finally:
        db.close()
    page = chromium.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(out.as_uri())
    shot = page.screenshot(full_page=True)
    (tmp_path / f"report-{width}.png").write_bytes(shot)
    image = read_png(shot)

    assert requests == [out.as_uri()]
    # nothing wider than the screen but what scrolls in its own box (the economy chart)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    history = page.locator("#round-history")
    assert history.is_visible()
    box = history.bounding_box()
    assert box["width"] <= width and box["height"] > 60
    # both sides' colours in the round history: every half's rounds are drawn
    inside = Counter(image.pixels((box["x"], box["y"], box["width"], box["height"])))
    for side, colour in charts.SIDE_COLOURS.items():
        assert sum(n for pixel, n in inside.items() if close_to(pixel, hex_colour(colour))) > 200, side
    assert page.locator("#round-history .half").count() == 6
    for half in range(6):  # each half's two rows fit its box: no round pushed out
        block = page.locator("#round-history .half").nth(half).bounding_box()
        cells = page.locator("#round-history .half").nth(half).locator(".team1 .cells").bounding_box()
        assert block["x"] <= cells["x"] and cells["x"] + cells["width"] <= block["x"] + block["width"]
    # the buy types' labels clear of the grey overtime shading
    shading = [page.locator("#chart-economy rect.no-economy").nth(i).bounding_box() for i in range(12)]
    for n in range(3):
        label = page.locator("#chart-economy text.buy-line").nth(n).bounding_box()
        assert not any(overlaps(label, grey) for grey in shading), n
    for table in ("#table-scoreboard", "#table-series", "#chart-kill-matrix-awp"):
        assert page.locator(table).is_visible(), table
    page.close()
