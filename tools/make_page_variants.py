"""Older-template and rearranged variants of the fixture map pages, with their truth.

    python tools/make_page_variants.py           # (re)write the variants in fixtures/pages
    python tools/make_page_variants.py --check   # exit 1 if the committed ones differ

Reads today's pages from ``fixtures/archive/{page}/{mapstatsid}.html.gz`` and their
truth from ``fixtures/pages/expected-{mapstatsid}.json``; writes each variant to
``fixtures/pages/{variant}-{page}-{mapstatsid}.html.gz`` and what a parser must read from
it to ``fixtures/pages/expected-{variant}-{page}-{mapstatsid}.json``. The expected values
come from the truth file, never from a parser.

Every variant keeps only the page's ``.contentCol`` section, in a bare document: the
parsers read nothing else, and the site chrome is 98% of the bytes. The transformation
is a fixed edit of the lxml tree (serialised by lxml: chart JSON comes out in
single-quoted attributes), and the output is gzipped without a timestamp, so the same
inputs always give the same files.

``old-mapstats``: the map stats page laid out as HLTV served it in 2022 (the project's
notes on HLTV pages, "Older template generations"), for 219128 (Rating 3.0), 162345
(Rating 2.0, MR15), 206389 (MR12, long overtime) and 173424 (an ADR shown as "-", a team
name with "&"). A 2022 page with Rating 3.0 never existed; the pairing tests that the
layout and the rating version are read apart.

1. The ``.match-info-row`` rows (Breakdown, Team rating, First kills, Clutches won) leave
   ``.match-info-box`` and its ``.bottom-stats`` wrapper and follow the box, in the same
   order, as siblings inside ``.match-info-box-con``.
2. Every scoreboard table (``totalstats``, ``ctstats``, ``tstats``) gets the 2022 columns,
   each header with a ``title``: ``st-kills`` "25 (19)", ``st-assists`` "3 (0)",
   ``st-deaths`` "10" (no traded count), ``st-kdratio`` holding KAST "90.5%",
   ``st-kddiff`` "+15", ``st-adr``, ``st-fkdiff`` "+2" whose cell title reads "3 first
   kills, 1 first deaths in a round", ``st-rating`` (its header keeps the
   ``.ratingDesc`` version). Values come from the row's traditional (not eco-adjusted)
   cells; K-D Diff is kills - deaths, FK Diff opening kills - opening deaths, signed.
   Gone: Op.K-D, MKs, KAST under ``st-kast``, 1vsX, Swing, every eco-adjusted cell. The
   notes give two header titles ("Kills" and KAST's) and no header labels; the other
   titles and the labels ("K (hs)", "K-D Diff", ...) are stand-ins.
3. Nothing else changes (round history, top players, the rest of the box).

Its expected values are the truth's, except what the 2022 scoreboard cannot show, which
is None: multi_kills, clutch_wins, traded_deaths, round_swing and every ``e_*`` value.
Opening kills and deaths are still known (the FK Diff title shows them), and so are the
team rows.

``variant-performance`` (the 2022 performance page already had today's structure; these
remove optional pieces and reorder the rest):

- 219128 (Rating 3.0): no event headline; the overview table without its Assists row and
  with Deaths before Kills; every card without its DPR and Swing bars and with the other
  bars in reverse order; the kill matrix blocks in reverse order (AWP first).
- 162345 (Rating 2.0): no overview table; every card without its Impact and ADR bars;
  each team's five cards in reverse order.

``variant-mr15-mapstats`` (the round history of the MR15 years): 188093, a map that
ended after 17 rounds, on the 2022 page above, whose round history gives each team row a
slot for every regulation round of an MR15 map: 30, the half marker after 15, and after
the map's last round both rows show ``emptyHistory`` (13 empty slots each here). Its
halves stay what they were: the parser must not read halves or a round count from the
slots. Its expected values are those of ``old-mapstats``: the 17 rounds played, no more.

``variant-rewatch2025-match`` and ``variant-rewatch2022-match``: a match page whose GOTV
demo is linked as real pages link it, instead of the fixtures' ``.match-demo
a.demo-link`` (which goes): pages saved in 2025 as ``data-demo-link="/download/demo/{id}"``
on a ``.stream-box`` of the "Rewatch" box (``.streams``), after the stream boxes
(2389951); pages saved in 2022 as the absolute ``href`` of an ``a`` inside a
``.stream-box`` (``https://www.hltv.org/download/demo/{id}``), before them (2366498).
The page keeps its canonical link (the match id); its expected values are the match's
truth, whose ``demo_id`` is the id the fixture page links.

``variant-economy`` (nothing lost: the chart alone decides every round here):

- 219128: no equipment-category icon tables, no per-team buy-type counts.
- 162345: the icon tables and the buy-type counts moved above the chart, the chart's
  JSON keys in reverse order at every level.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import re
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hltv_scraper.items import (  # noqa: E402
    EconomyRound,
    KillMatrixEntry,
    MapTeam,
    PlayerPerformance,
    RoundOutcome,
    ScoreboardRow,
    TeamOverview,
)

ARCHIVE = ROOT / "fixtures" / "archive"
PAGES = ROOT / "fixtures" / "pages"

# What the 2022 scoreboard does not show: None in the expected values.
OLD_SCOREBOARD_UNKNOWN = (
    "multi_kills", "clutch_wins", "traded_deaths", "round_swing",
    *(f.name for f in fields(ScoreboardRow) if f.name.startswith("e_")),
)
# (header class, header label, header title) of the 2022 scoreboard, in page order.
OLD_COLUMNS = (
    ("st-kills", "K (hs)", "Kills"),
    ("st-assists", "A (f)", "Assists (flash assists)"),
    ("st-deaths", "D", "Deaths"),
    ("st-kdratio", "KAST", "Percentage of rounds in which the player either had a kill, "
                           "assist, survived or was traded"),
    ("st-kddiff", "K-D Diff", "Kill-death difference"),
    ("st-adr", "ADR", "Average damage per round"),
    ("st-fkdiff", "FK Diff", "First kills difference"),
    ("st-rating", None, "Rating"),  # label: the page's own "Rating" + .ratingDesc
)
_BRACKETED = re.compile(r"^(\S+?)\s*\(\s*(\S+?)\s*\)$")


# -- the page as a tree ---------------------------------------------------------------


def content_section(page: str, mapstatsid: int) -> etree._Element:
    """Today's page's ``.contentCol`` element (still in its tree: the head is there)."""
    body = gzip.decompress((ARCHIVE / page / f"{mapstatsid}.html.gz").read_bytes())
    tree = lxml.html.document_fromstring(body, parser=lxml.html.HTMLParser(encoding="utf-8"))
    (section,) = tree.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' contentCol ')]")
    return section


def document(section: etree._Element, *, canonical: bool = False) -> bytes:
    """The section in a bare document; with ``canonical``, the page's canonical link too."""
    inner = lxml.html.tostring(section, encoding="unicode", with_tail=False)
    head = '<meta charset="utf-8"/>'
    if canonical:
        (link,) = section.getroottree().xpath("//head/link[@rel='canonical']")
        head += lxml.html.tostring(link, encoding="unicode", with_tail=False)
    return (f"<!DOCTYPE html>\n<html><head>{head}</head><body>\n"
            f"{inner}\n</body></html>\n").encode()


def one(root: etree._Element, css: str) -> etree._Element:
    found = root.cssselect(css)
    if len(found) != 1:
        raise SystemExit(f"expected one {css}, found {len(found)}")
    return found[0]


def text(element: etree._Element) -> str:
    return " ".join(element.text_content().split())


def signed(number: int) -> str:
    return f"+{number}" if number > 0 else str(number)


def move_after(element: etree._Element, anchor: etree._Element) -> None:
    element.tail = None
    element.getparent().remove(element)
    anchor.addnext(element)


# -- old-mapstats -----------------------------------------------------------------------


def old_mapstats(section: etree._Element) -> None:
    box = one(section, ".match-info-box")
    container = box.getparent()
    if "match-info-box-con" not in container.get("class", "").split():
        raise SystemExit(".match-info-box is not inside .match-info-box-con")
    rows = box.cssselect(".match-info-row")
    wrappers = {row.getparent() for row in rows} - {box}
    anchor = box
    for row in rows:
        move_after(row, anchor)
        anchor = row
    for wrapper in wrappers:
        if len(wrapper) == 0 and not (wrapper.text or "").strip():
            wrapper.drop_tree()
    for table in section.cssselect(".stats-match-scoreboards table.stats-table"):
        _old_scoreboard(table)


def _old_scoreboard(table: etree._Element) -> None:
    header = table.xpath("(.//tr[th])[1]")[0]
    columns = header.findall("th")[1:]  # after the team name
    (rating_th,) = [th for th in columns if "st-rating" in th.get("class", "").split()]
    for th in columns:
        header.remove(th)
    for css, label, title in OLD_COLUMNS:
        if css == "st-rating":
            th = copy.deepcopy(rating_th)
            th.attrib.clear()
            th.tail = None
        else:
            th = etree.Element("th")
            th.text = label
        th.set("class", css)
        th.set("title", title)
        header.append(th)
    for row in table.xpath(".//tr[td[contains(concat(' ', normalize-space(@class), ' '), ' st-player ')]]"):
        _old_row(row)


def _cell(row: etree._Element, css: str) -> str:
    """The text of the row's traditional, wide cell of a column."""
    for td in row.findall("td"):
        classes = td.get("class", "").split()
        if css in classes and not {"eco-adjusted-data", "smartphone-only"} & set(classes):
            return text(td)
    raise SystemExit(f"a scoreboard row has no {css} cell")


def _old_row(row: etree._Element) -> None:
    def with_bracket(css: str) -> tuple[str, str | None]:
        """ "18(6)" -> ("18", "6"); "10" -> ("10", None)."""
        shown = _cell(row, css)
        match = _BRACKETED.match(shown)
        return match.groups() if match else (shown, None)

    kills, headshots = with_bracket("st-kills")
    assists, flash_assists = with_bracket("st-assists")
    deaths, _ = with_bracket("st-deaths")  # the traded count is not on a 2022 page
    opening_kills, opening_deaths = (int(n) for n in _cell(row, "st-opkd").split(":"))
    values = {
        "st-kills": f"{kills} ({headshots})",
        "st-assists": f"{assists} ({flash_assists})",
        "st-deaths": deaths,
        "st-kdratio": _cell(row, "st-kast"),
        "st-kddiff": signed(int(kills) - int(deaths)),
        "st-adr": _cell(row, "st-adr"),
        "st-fkdiff": signed(opening_kills - opening_deaths),
        "st-rating": _cell(row, "st-rating"),
    }
    for td in row.findall("td")[1:]:  # after the player
        row.remove(td)
    for css, _, _ in OLD_COLUMNS:
        td = etree.SubElement(row, "td")
        td.set("class", css)
        if css == "st-fkdiff":
            td.set("title", f"{opening_kills} first kills, {opening_deaths} first deaths in a round")
        td.text = values[css]


def old_mapstats_expected(truth: dict[str, Any]) -> dict[str, Any]:
    players = []
    for player in truth["players"]:
        row = {f.name: player[f.name] for f in fields(ScoreboardRow)}
        row.update(dict.fromkeys(OLD_SCOREBOARD_UNKNOWN))
        players.append(row)
    return {
        "not_on_this_page": {"players": list(OLD_SCOREBOARD_UNKNOWN)},
        "item": {
            **{key: truth["match"][key] for key in ("map_name", "event_id", "event_name", "date_unix_ms")},
            "rating_version": truth["rating_version"],
            "teams": [{f.name: team[f.name] for f in fields(MapTeam)} for team in truth["teams"]],
            "players": players,
            "rounds": [{f.name: r[f.name] for f in fields(RoundOutcome)} for r in truth["rounds"]],
        },
    }


# -- variant-mr15-mapstats ---------------------------------------------------------------

MR15_SLOTS = 30  # an MR15 map's regulation rounds: the slots of a 2022 round history row
MR15_HALF = 15


def mr15_round_history(section: etree._Element) -> None:
    """Each team row: its leading marker, 15 slots, the half marker, 15 slots."""
    (container,) = section.cssselect(".round-history-con")
    rows = container.cssselect(".round-history-team-row")
    for row in rows:
        icons = row.cssselect("img.round-history-outcome")
        bars = row.cssselect(".round-history-bar")
        lost = next(icon for icon in icons if "emptyHistory" in icon.get("src"))
        if len(icons) >= MR15_SLOTS or len(bars) != 2:
            raise SystemExit("expected a short map's row: two markers, fewer than 30 rounds")
        for element in [*icons, bars[1]]:
            element.tail = None
            row.remove(element)
        empty = [copy.deepcopy(lost) for _ in range(MR15_SLOTS - len(icons))]
        for icon in empty:
            icon.set("title", "")
        slots = [*icons, *empty]
        row.extend([*slots[:MR15_HALF], bars[1], *slots[MR15_HALF:]])


def mr15_mapstats(section: etree._Element) -> None:
    old_mapstats(section)
    mr15_round_history(section)


# -- variant-rewatch-match ---------------------------------------------------------------


def _stream_box(**attributes: str) -> etree._Element:
    box = etree.Element("div")
    box.set("class", "stream-box")
    for name, value in attributes.items():
        box.set(name.replace("_", "-"), value)
    return box


def rewatch_2025(section: etree._Element, demo_id: int) -> None:
    one(section, ".match-demo").drop_tree()
    streams = one(section, ".streams")
    box = _stream_box(data_demo_link=f"/download/demo/{demo_id}")
    label = etree.SubElement(box, "div")
    label.set("class", "stream-box-embed")
    label.text = "GOTV Demo"
    streams.append(box)
    headline = etree.Element("span")
    headline.set("class", "headline")
    headline.text = "Rewatch"
    streams.addprevious(headline)


def rewatch_2022(section: etree._Element, demo_id: int) -> None:
    one(section, ".match-demo").drop_tree()
    streams = one(section, ".streams")
    box = _stream_box()
    link = etree.SubElement(box, "a")
    link.set("href", f"https://www.hltv.org/download/demo/{demo_id}")
    link.set("class", "flexbox left-right-padding")
    link.text = "GOTV Demo"
    streams.insert(0, box)


REWATCH_VARIANTS = {"rewatch2025": (2389951, rewatch_2025), "rewatch2022": (2366498, rewatch_2022)}


def _match_truth(match_id: int) -> dict[str, Any]:
    return json.loads((PAGES / f"expected-match-{match_id}.json").read_text("utf-8"))


# -- variant-performance ------------------------------------------------------------------


def _overview_row(table: etree._Element, label: str) -> etree._Element:
    (row,) = [tr for tr in table.iter("tr")
              if any(text(td) == label for td in tr.cssselect("td.name-column"))]
    return row


def _edit_bars(section: etree._Element, change: Callable[[list[dict]], list[dict]]) -> None:
    for card in section.cssselect(".player-overview .highlighted-player"):
        chart = one(card, "[data-fusionchart-config]")
        config = json.loads(chart.get("data-fusionchart-config"))
        config["dataSource"]["data"] = change(config["dataSource"]["data"])
        chart.set("data-fusionchart-config", json.dumps(config))


def _without(*labels: str) -> Callable[[list[dict]], list[dict]]:
    return lambda bars: [bar for bar in bars if bar["label"].lower() not in labels]


def performance_219128(section: etree._Element) -> None:
    one(section, ".stats-match-menu .menu-header").drop_tree()
    table = one(section, "table.overview-table")
    kills, deaths, assists = (_overview_row(table, label) for label in ("Kills", "Deaths", "Assists"))
    assists.drop_tree()
    kills.addprevious(deaths)
    _edit_bars(section, lambda bars: _without("dpr", "swing")(bars)[::-1])
    blocks = [one(section, f'[id="{name}-content"]') for name in ("ALL", "FIRST_KILL", "AWP")]
    for block in reversed(blocks[1:]):
        blocks[0].addprevious(block)  # AWP, then FIRST_KILL, then ALL


def performance_162345(section: etree._Element) -> None:
    one(section, "table.overview-table").drop_tree()
    _edit_bars(section, _without("impact", "adr"))
    for column in section.cssselect(".player-overview > .col"):
        cards = column.cssselect(".highlighted-player")
        for card in reversed(cards[1:]):
            cards[0].addprevious(card)


PERFORMANCE_VARIANTS = {
    219128: (performance_219128, {"page": ["event_name"], "teams": ["assists"],
                                   "players": ["dpr", "round_swing"]}),
    162345: (performance_162345, {"teams": ["all"], "players": ["impact", "adr"]}),
}


def performance_expected(truth: dict[str, Any], unknown: dict[str, list[str]]) -> dict[str, Any]:
    team_names = {team["team_id"]: team["team_name"] for team in truth["teams"]}
    players = []
    for player in truth["players"]:
        card = {f.name: player.get(f.name) for f in fields(PlayerPerformance)}
        card["team_name"] = team_names[player["team_id"]]
        card.update(dict.fromkeys(unknown.get("players", [])))
        players.append(card)
    teams = [] if unknown.get("teams") == ["all"] else [
        {**{f.name: team[f.name] for f in fields(TeamOverview)},
         **dict.fromkeys(unknown.get("teams", []))}
        for team in truth["teams"]
    ]
    return {
        "not_on_this_page": unknown,
        "item": {
            "event_name": None if "event_name" in unknown.get("page", []) else truth["match"]["event_name"],
            "rating_version": truth["rating_version"],
            "teams": teams,
            "players": players,
            "kill_matrix": [{f.name: cell[f.name] for f in fields(KillMatrixEntry)}
                            for cell in truth["kill_matrix"]],
        },
    }


# -- variant-economy ----------------------------------------------------------------------


def economy_219128(section: etree._Element) -> None:
    for element in section.cssselect("table.equipment-categories, .team-economy-stat"):
        element.drop_tree()


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def economy_162345(section: etree._Element) -> None:
    chart = one(section, ".stats-match-economy [data-fusionchart-config]")
    chart.set("data-fusionchart-config",
              json.dumps(_reversed_keys(json.loads(chart.get("data-fusionchart-config")))))
    holder = chart.getparent()
    for element in [*section.cssselect(".stats-match-economy .columns"),
                    *section.cssselect("table.equipment-categories")]:
        element.tail = None
        holder.addprevious(element)


ECONOMY_VARIANTS = {219128: economy_219128, 162345: economy_162345}


def economy_expected(truth: dict[str, Any]) -> dict[str, Any]:
    return {
        "not_on_this_page": {},
        "item": {
            "team_names": [team["team_name"] for team in truth["teams"]],
            "rounds": [{f.name: entry[f.name] for f in fields(EconomyRound)}
                       for entry in truth["economy"]],
        },
    }


# -- all of them ---------------------------------------------------------------------------

OLD_MAPSTATS = (219128, 162345, 206389, 173424)
MR15_MAP = 188093


def variants() -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Variant name -> (its page, its expected values)."""
    made = {}

    def add(name, page, mapstatsid, edit, expected, truth_file=None):
        section = content_section(page, mapstatsid)
        edit(section)
        truth_file = truth_file or f"expected-{mapstatsid}.json"
        made[name] = (document(section, canonical=page == "match"),
                      {"page": name, "derived_from": truth_file, **expected})

    for mapstatsid in OLD_MAPSTATS:
        truth = _truth(mapstatsid)
        add(f"old-mapstats-{mapstatsid}", "mapstats", mapstatsid, old_mapstats,
            old_mapstats_expected(truth))
    add(f"variant-mr15-mapstats-{MR15_MAP}", "mapstats", MR15_MAP, mr15_mapstats,
        old_mapstats_expected(_truth(MR15_MAP)))
    for variant, (match_id, edit) in REWATCH_VARIANTS.items():
        truth = _match_truth(match_id)
        if truth["demo_id"] is None:
            raise SystemExit(f"match {match_id} has no demo to link")
        add(f"variant-{variant}-match-{match_id}", "match", match_id,
            lambda section, edit=edit, demo_id=truth["demo_id"]: edit(section, demo_id),
            {key: value for key, value in truth.items() if key != "files"},
            truth_file=f"expected-match-{match_id}.json")
    for mapstatsid, (edit, unknown) in PERFORMANCE_VARIANTS.items():
        add(f"variant-performance-{mapstatsid}", "performance", mapstatsid, edit,
            performance_expected(_truth(mapstatsid), unknown))
    for mapstatsid, edit in ECONOMY_VARIANTS.items():
        add(f"variant-economy-{mapstatsid}", "economy", mapstatsid, edit,
            economy_expected(_truth(mapstatsid)))
    return made


def _truth(mapstatsid: int) -> dict[str, Any]:
    return json.loads((PAGES / f"expected-{mapstatsid}.json").read_text("utf-8"))


def expected_json(expected: dict[str, Any]) -> str:
    return json.dumps(expected, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args()
    stale = []
    for name, (page, expected) in variants().items():
        page_path, expected_path = PAGES / f"{name}.html.gz", PAGES / f"expected-{name}.json"
        if args.check:
            if (not page_path.exists() or gzip.decompress(page_path.read_bytes()) != page
                    or not expected_path.exists()
                    or expected_path.read_text("utf-8") != expected_json(expected)):
                stale.append(name)
            continue
        page_path.write_bytes(gzip.compress(page, compresslevel=9, mtime=0))
        expected_path.write_text(expected_json(expected), "utf-8")
        print(f"{page_path.relative_to(ROOT)}: {len(page):,} bytes, "
              f"{page_path.stat().st_size:,} gzipped")
    if stale:
        print("not what this script makes:", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
