"""``scrapy report``: one self-contained HTML page on how complete the dataset is.

Maps by month and by stage, the failures grouped by stage, page and reason (the folded
rule of ``scrapy summary``, one real reason shown per group), the share of maps per rating
version, and one map up close as HLTV's match stats read it: the series around it and its
veto, its round history by half (sides, how each round ended, the score at half-time and
after each overtime, as the export's ``rounds`` view has them), its scoreboard, both
teams' equipment value where HLTV publishes it, and its three kill matrices. Styles and
charts (inline SVG, :mod:`hltv_scraper.charts`) are inside the file: it opens in any
browser with no network.
"""

from __future__ import annotations

import os
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from hltv_scraper import charts
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.storage import report as queries

if TYPE_CHECKING:
    from hltv_scraper.storage import Database
    from hltv_scraper.storage._sql import Sql

STAGE_COLOURS = {
    queries.DISCOVERED: "#adb5bd",
    queries.SCOREBOARD: "#fab005",
    queries.COMPLETE: "#2f9e44",
    queries.FAILED: "#e03131",
}
STAGE_MEANINGS = {
    queries.DISCOVERED: "known, with a mapstatsid; nothing stored yet",
    queries.SCOREBOARD: "scoreboard and round history stored; performance and economy not yet",
    queries.COMPLETE: "stored whole: scoreboard, performance, economy, kill matrices",
    queries.FAILED: "given up on: a stage failed HLTV_MAX_ATTEMPTS times",
}
NO_DATE = "no date yet"
#: How a round ended, in words (``round_history.win_type``).
WIN_TYPES = {
    "elimination": "elimination",
    "bomb_exploded": "bomb exploded",
    "bomb_defused": "bomb defused",
    "time": "time ran out",
}
#: The failures grouped: the latest this many (a database's whole history could name a
#: million distinct reasons; the groups of the latest are what a person acts on)
RECENT_FAILURES = 100_000

_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HLTV dataset report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529;
       margin: 0 auto; max-width: 960px; padding: 24px; background: #fff; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { margin-top: 40px; border-bottom: 1px solid #dee2e6; }
.meta { color: #6c757d; } .cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid #dee2e6; border-left: 6px solid; border-radius: 4px; padding: 8px 14px; min-width: 150px; }
.card b { display: block; font-size: 24px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; display: block; max-width: 100%;
        overflow-x: auto; }
th, td { border-bottom: 1px solid #e9ecef; padding: 4px 10px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
svg { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.empty { color: #6c757d; font-style: italic; }
.scroll { overflow-x: auto; }
.scroll > svg { min-width: 620px; }
td.n, th.n, td:first-child { white-space: nowrap; }
tr.current td { background: #fff3bf; font-weight: 600; }
.series-and-veto { display: flex; flex-wrap: wrap; gap: 0 40px; }
#veto ol { margin: 12px 0; padding-left: 22px; font-size: 14px; line-height: 1.6; }
.veto-picked { font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; color: #495057; margin: 8px 0; }
.legend > span { display: inline-flex; align-items: center; gap: 5px; }
.legend svg.outcome { margin: 0; }
.round-history { display: flex; flex-wrap: wrap; align-items: stretch; gap: 10px 6px; margin: 12px 0; }
.half { border: 1px solid #dee2e6; border-radius: 4px; padding: 4px 6px; }
.half-name { font-size: 12px; color: #495057; font-weight: 600; margin-bottom: 2px; }
.half-row { display: flex; align-items: center; gap: 4px; height: 20px; }
.half-row.numbers { height: 14px; }
.cells { display: flex; gap: 2px; }
.cells > * { width: 16px; height: 16px; flex: none; }
.cells svg.outcome { display: block; margin: 0; }
.round-number { font-size: 9px; color: #868e96; text-align: center; line-height: 14px; }
.round-number.pistol { color: #212529; font-weight: 700; }
.team-mark { display: inline-block; width: 6px; height: 16px; border-radius: 2px; flex: none; }
.side { display: inline-block; width: 22px; font-size: 11px; font-weight: 700; text-align: center; flex: none; }
.side-ct { color: #3867b5; } .side-t { color: #c77d1c; }
.lost { display: inline-block; width: 16px; height: 16px; border-radius: 3px; background: #f1f3f5;
        box-sizing: border-box; border: 1px solid #e9ecef; vertical-align: middle; }
.half-score { width: 20px; text-align: right; font-size: 13px; font-variant-numeric: tabular-nums; flex: none; }
.break { display: flex; flex-direction: column; justify-content: center; align-items: center; font-size: 11px;
         color: #495057; padding: 0 4px; text-align: center; max-width: 80px; }
.break b { font-size: 15px; color: #212529; }
.matrices { display: flex; flex-wrap: wrap; gap: 0 24px; }
.matrix h4 { margin: 12px 0 0; font-size: 14px; }
@media (max-width: 600px) {
  body { padding: 12px; }
  h1 { font-size: 22px; } h2 { font-size: 19px; }
  table { font-size: 13px; } th, td { padding: 3px 6px; }
}
</style></head>
<body>
<h1>HLTV dataset report</h1>
<p class="meta">Database $database, read $generated UTC.</p>
$body
</body></html>
""")


class ReportError(ValueError):
    """The report cannot be made as asked (an unknown or incomplete map, a bad --out)."""


@dataclass(frozen=True)
class ReportMap:
    mapstatsid: int
    #: whether the map was named (--mapstatsid) rather than picked as the latest complete one
    chosen: bool


def render_report(db: Database, *, max_attempts: int, mapstatsid: int | None = None) -> str:
    """The whole page. ``mapstatsid``: the map to show up close (default: the complete
    map played last)."""
    sql = db.sql
    shown = _pick_map(sql, mapstatsid)
    body = "\n".join((
        _stages_section(sql, max_attempts),
        _failures_section(db),
        _rating_section(sql),
        _map_section(sql, shown),
    ))
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return _PAGE.substitute(database=escape(db.location), generated=generated, body=body)


def write_report(html: str, out: Path) -> None:
    """Write the page to ``out`` whole or not at all (a temporary file, renamed)."""
    if out.is_dir():
        raise ReportError(f"--out {out} is a folder: give the file to write, e.g. {out / 'report.html'}")
    # A name of its own beside the target, opened like any new file (the umask's mode).
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        file = temporary.open("x", encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write --out {out}: {exc.strerror or exc}") from None
    try:
        with file:
            file.write(html)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _pick_map(sql: Sql, mapstatsid: int | None) -> ReportMap | None:
    if mapstatsid is None:
        latest = queries.latest_complete_map(sql)
        return None if latest is None else ReportMap(latest, chosen=False)
    found = queries.map_details(sql, mapstatsid)
    if found is None:
        raise ReportError(f"map {mapstatsid} is not in the database")
    if found["perf_economy_at"] is None:
        raise ReportError(
            f"map {mapstatsid} has no performance and economy stored yet: choose a complete map "
            "(or leave out --mapstatsid for the latest one)"
        )
    return ReportMap(mapstatsid, chosen=True)


# -- sections -------------------------------------------------------------------------


def _stages_section(sql: Sql, max_attempts: int) -> str:
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(queries.STAGES, 0))
    for row in queries.maps_by_day_and_stage(sql, max_attempts=max_attempts, parser_version=current_parser_version()):
        by_month[_month(row["day"])][row["stage"]] += row["maps"]
    months = sorted(m for m in by_month if m != NO_DATE) + ([NO_DATE] if NO_DATE in by_month else [])
    totals = {stage: sum(by_month[m][stage] for m in months) for stage in queries.STAGES}
    cards = "".join(
        f'<div class="card" style="border-left-color:{STAGE_COLOURS[stage]}" title="{escape(STAGE_MEANINGS[stage])}">'
        f"{stage}<b>{totals[stage]:,}</b></div>"
        for stage in queries.STAGES
    )
    html = [
        '<section id="maps-by-stage"><h2>Maps by month and stage</h2>',
        f'<div class="cards">{cards}</div>',
        "<p>" + "; ".join(f"<b>{s}</b>: {escape(m)}" for s, m in STAGE_MEANINGS.items())
        + ". Maps without a stats page (not played, forfeited) are not counted.</p>",
    ]
    if not months:
        html.append('<p class="empty">No maps with a stats page yet.</p></section>')
        return "\n".join(html)
    series = [(stage, STAGE_COLOURS[stage], [by_month[m][stage] for m in months]) for stage in queries.STAGES]
    html.append(charts.stacked_bars("chart-maps-by-month", months, series))
    rows = "".join(
        f"<tr><td>{escape(m)}</td>" + "".join(f'<td class="n">{by_month[m][s]:,}</td>' for s in queries.STAGES)
        + f'<td class="n">{sum(by_month[m].values()):,}</td></tr>'
        for m in months
    )
    head = "".join(f'<th class="n">{s}</th>' for s in queries.STAGES)
    html.append(f'<table id="table-maps-by-month"><tr><th>month</th>{head}<th class="n">all</th></tr>{rows}</table>')
    html.append("</section>")
    return "\n".join(html)


def _failures_section(db: Database) -> str:
    groups = db.failure_groups(recent=RECENT_FAILURES)
    total = queries.count_failures(db.sql)
    html = ['<section id="failures"><h2>Failures by stage, page and reason</h2>']
    if not groups:
        html.append('<p class="empty">No failures recorded.</p></section>')
        return "\n".join(html)
    window = f" Grouped: the latest {RECENT_FAILURES:,}." if total > RECENT_FAILURES else ""
    html.append(f"<p>{total:,} failures recorded (parse and validation failures; a fetch failure "
                "leaves no record). Reasons are grouped as <code>scrapy summary</code> groups them, "
                "ids and quoted names folded out (<code>#</code>, <code>'…'</code>); each group shows "
                f"its latest reason as it was. The largest groups first.{window}</p>")
    rows = []
    for g in groups:
        rows.append(
            f"<tr><td>{escape(g.stage)}</td><td>{escape(g.page)}</td><td>{escape(g.reason)}</td>"
            f'<td class="example">{escape(g.example)}</td>'
            f'<td class="n">{g.failures:,}</td><td class="n">{g.units:,}</td>'
            f"<td>{escape(_minute(g.latest))}</td></tr>"
        )
    html.append(
        '<table id="table-failures"><tr><th>stage</th><th>page</th><th>reason</th><th>for example</th>'
        f'<th class="n">failures</th><th class="n">units</th><th>latest</th></tr>{"".join(rows)}</table></section>'
    )
    return "\n".join(html)


def _rating_section(sql: Sql) -> str:
    versions = queries.maps_by_rating_version(sql)
    html = ['<section id="rating-versions"><h2>Maps per rating version</h2>',
            "<p>Of the maps with a scoreboard. Which columns each version has: docs/data.md.</p>"]
    total = sum(row["maps"] for row in versions)
    if not total:
        html.append('<p class="empty">No scoreboard stored yet.</p></section>')
        return "\n".join(html)
    bars = [
        (f"Rating {row['rating_version']}" if row["rating_version"] else "not known",
         row["maps"] / total, f"{row['maps'] / total:.1%} ({_maps(row['maps'])})")
        for row in versions
    ]
    html.append(charts.horizontal_bars("chart-rating-versions", bars))
    html.append("</section>")
    return "\n".join(html)


def _map_section(sql: Sql, shown: ReportMap | None) -> str:
    html = ['<section id="map">']
    if shown is None:
        html.append('<h2>One map</h2><p class="empty">No complete map yet: the economy and kill '
                    "matrix of a map are shown once its performance and economy are stored.</p></section>")
        return "\n".join(html)
    m = queries.map_details(sql, shown.mapstatsid)
    team_names = {m["team1_id"]: m["team1_name"] or f"team {m['team1_id']}",
                  m["team2_id"]: m["team2_name"] or f"team {m['team2_id']}"}
    html.append(
        f"<h2>Map {m['mapstatsid']}: {escape(team_names[m['team1_id']])} {m['team1_rounds']}"
        f"–{m['team2_rounds']} {escape(team_names[m['team2_id']])} on {escape(m['map_name'] or '?')}</h2>"
    )
    how = ("chosen with --mapstatsid" if shown.chosen else
           "the complete map played last; choose another with --mapstatsid ID")
    html.append(f'<p class="meta">{escape(m["event_name"] or "")}, {escape(m["date"] or "date not known")} UTC; '
                f"rating {escape(m['rating_version'] or '?')}; {how}.</p>")
    rounds = queries.map_rounds(sql, m["match_id"], m["map_number"])
    players = queries.map_players(sql, m["match_id"], m["map_number"])
    html.append(_series(sql, m, team_names))
    html.append(_round_history(rounds, m, team_names))
    html.append(_scoreboard(players, m, team_names))
    html.append(_economy(sql, rounds, m, team_names))
    html.append(_kill_matrices(sql, m, players, team_names))
    html.append("</section>")
    return "\n".join(html)


def _series(sql: Sql, m, team_names: dict[int, str]) -> str:
    """The match the map belongs to: its score, each map of it (who picked it, its
    score, its stats id) and the veto."""
    maps = queries.match_maps(sql, m["match_id"])
    vetoes = queries.match_vetoes(sql, m["match_id"])
    picked_by = {v["map_name"]: v["team_name"] for v in vetoes if v["action"] == "picked"}
    left_over = {v["map_name"] for v in vetoes if v["action"] == "left_over"}
    facts = [f"best of {m['best_of']}" if m["best_of"] else None, m["stage"],
             {1: "LAN", 0: "online"}.get(m["is_lan"])]
    score = (f" {m['team1_score']}–{m['team2_score']} " if m["team1_score"] is not None
             and m["team2_score"] is not None else " vs ")
    html = ['<div class="series-and-veto"><div id="series">',
            f"<h3>The series</h3><p><b>{escape(team_names[m['team1_id']])}{score}"
            f"{escape(team_names[m['team2_id']])}</b>"
            + "".join(f" · {escape(str(f))}" for f in facts if f) + "</p>"]
    rows = []
    for game in maps:
        if game["is_forfeit"]:
            result = "forfeit"
        elif game["played"] and game["team1_rounds"] is not None:
            result = f"{game['team1_rounds']}–{game['team2_rounds']}"
        else:
            result = "not played"
        who = picked_by.get(game["map_name"]) or ("decider" if game["map_name"] in left_over else "")
        current = game["mapstatsid"] is not None and game["mapstatsid"] == m["mapstatsid"]
        stats = "this map" if current else str(game["mapstatsid"] or "")
        rows.append(f'<tr{" class=current" if current else ""}><td class="n">{game["map_number"]}</td>'
                    f"<td>{escape(game['map_name'] or '?')}</td><td class=\"n\">{result}</td>"
                    f"<td>{escape(who)}</td><td>{escape(stats)}</td></tr>")
    html.append('<table id="table-series"><tr><th class="n">#</th><th>map</th><th class="n">score</th>'
                f'<th>picked by</th><th>mapstatsid</th></tr>{"".join(rows)}</table></div>')
    html.append('<div id="veto"><h3>Veto</h3>')
    if vetoes:
        steps = []
        for v in vetoes:
            if v["action"] == "left_over":
                steps.append(f"<li>{escape(v['map_name'] or '?')} was left over</li>")
            else:
                steps.append(f"<li><span class=\"veto-{v['action']}\">{escape(v['team_name'] or '?')} "
                             f"{v['action']} {escape(v['map_name'] or '?')}</span></li>")
        html.append(f'<ol>{"".join(steps)}</ol>')
    else:
        html.append('<p class="empty">No veto stored for this match.</p>')
    html.append("</div></div>")
    return "\n".join(html)


def _half_name(half: int | None) -> str:
    if half is None:
        return "rounds"
    if half <= 2:
        return ("1st half", "2nd half")[half - 1]
    overtime, second = divmod(half - 3, 2)
    return f"OT {overtime + 1} · {'2nd' if second else '1st'} half"


def _round_history(rounds, m, team_names: dict[int, str]) -> str:
    """The round history as HLTV draws it: per half, each team's side and rounds, how
    each round was won; the score at half-time, after regulation and after each
    overtime between the halves."""
    html = ['<h3 id="rounds">Round history</h3>']
    if not rounds:
        return html[0] + '<p class="empty">No round history stored for this map.</p>'
    team_ids = (m["team1_id"], m["team2_id"])
    regulation = rounds[0]["regulation_rounds"]
    halves: list[list] = []
    for r in rounds:
        if halves and halves[-1][0]["half"] == r["half"]:
            halves[-1].append(r)
        else:
            halves.append([r])
    blocks = []
    for number, played in enumerate(halves):
        half = played[0]["half"]
        numbers = "".join(
            f'<span class="round-number{" pistol" if r["is_pistol"] else ""}"'
            f'{" title=pistol" if r["is_pistol"] else ""}>{r["round_number"]}</span>' for r in played)
        rows = [(f'<div class="half-row numbers"><span class="team-mark"></span><span class="side"></span>'
                 f'<span class="cells">{numbers}</span><b class="half-score"></b></div>')]
        for n, team_id in enumerate(team_ids):
            side = played[0][f"team{n + 1}_side"]
            cells = []
            for r in played:
                before = f"{r['team1_score_before']}–{r['team2_score_before']}"
                if r["winner_team_id"] == team_id:
                    how = WIN_TYPES.get(r["win_type"], "how not known")
                    title = (f"Round {r['round_number']}{' (pistol)' if r['is_pistol'] else ''}: "
                             f"{team_names[team_id]} won on {r['winner_side'] or '?'}, {how}; {before} before")
                    cells.append(charts.round_outcome(r["win_type"], r["winner_side"], title))
                else:
                    cells.append(f'<span class="lost" title="Round {r["round_number"]}: lost; {before} before"></span>')
            won = sum(1 for r in played if r["winner_team_id"] == team_id)
            rows.append(
                f'<div class="half-row team{n + 1}"><span class="team-mark" style="background:{charts.TEAM_COLOURS[n]}" '
                f'title="{escape(team_names[team_id])}"></span>'
                f'<span class="side side-{(side or "unknown").lower()}">{side or "?"}</span>'
                f'<span class="cells">{"".join(cells)}</span><b class="half-score">{won}</b></div>'
            )
        blocks.append(f'<div class="half" data-half="{half}"><div class="half-name">'
                      f'{_half_name(half)}</div>{"".join(rows)}</div>')
        last = played[-1]
        after = [last["team1_score_before"] + (last["winner_team_id"] == team_ids[0]),
                 last["team2_score_before"] + (last["winner_team_id"] == team_ids[1])]
        blocks.append(f'<div class="break">{_break_name(half, number == len(halves) - 1)}'
                      f"<b>{after[0]}–{after[1]}</b></div>")
    legend = "".join(
        f'<span><span class="team-mark" style="background:{charts.TEAM_COLOURS[n]}"></span>'
        f"{escape(team_names[t])}</span>" for n, t in enumerate(team_ids)
    ) + "".join(
        f"<span>{charts.round_outcome(kind, 'CT', label)} {escape(label)}</span>" for kind, label in WIN_TYPES.items()
    ) + ('<span><span class="side side-ct">CT</span><span class="side side-t">T</span> the side played '
         "(a won round: on its colour)</span>"
         '<span><span class="lost"></span> lost</span>')
    length = {24: "MR12: 24 rounds of regulation", 30: "MR15: 30 rounds of regulation"}.get(
        regulation, "regulation length not known")
    return "\n".join((
        html[0],
        f'<p class="meta">{length}; pistol rounds (bold numbers) open each half; overtime halves of 3 rounds.</p>',
        f'<div class="legend">{legend}</div>',
        f'<div id="round-history" class="round-history">{"".join(blocks)}</div>',
    ))


def _break_name(half: int | None, last: bool) -> str:
    if last:
        return "final"
    if half == 1:
        return "half-time"
    if half == 2:
        return "end of regulation"
    return "OT half-time" if (half or 0) % 2 else f"end of OT {((half or 4) - 3) // 2 + 1}"


def _scoreboard(players, m, team_names: dict[int, str]) -> str:
    """Each team's players as the map stats page shows them: K-D, headshots, ADR, KAST,
    opening kills and deaths, multi-kill rounds, clutches won and rating."""
    html = ['<h3 id="scoreboard">Scoreboard</h3>']
    if not players:
        return html[0] + '<p class="empty">No scoreboard stored for this map.</p>'
    columns = 9
    rows = []
    unknown = any(p[c] is None for p in players for c in ("hs_kills", "opening_kills", "multi_kills", "clutch_wins"))
    for team_id in (m["team1_id"], m["team2_id"]):
        rows.append(f'<tr class="team"><th colspan="{columns}">{escape(team_names[team_id])}</th></tr>')
        for p in (p for p in players if p["team_id"] == team_id):
            hs = None if not p["kills"] or p["hs_kills"] is None else 100 * p["hs_kills"] / p["kills"]
            opening = ("-" if p["opening_kills"] is None or p["opening_deaths"] is None
                       else f"{p['opening_kills']}:{p['opening_deaths']}")
            rows.append(
                f'<tr class="player"><td>{escape(p["player_name"] or str(p["player_id"]))}</td>'
                f'<td class="n">{_number(p["kills"])}-{_number(p["deaths"])}</td>'
                f'<td class="n">{_number(hs, "{:.0f}%")}</td>'
                f'<td class="n">{_number(p["adr"], "{:.1f}")}</td>'
                f'<td class="n">{_number(p["kast"], "{:.1f}%")}</td>'
                f'<td class="n">{opening}</td>'
                f'<td class="n">{_number(p["multi_kills"])}</td>'
                f'<td class="n">{_number(p["clutch_wins"])}</td>'
                f'<td class="n">{_number(p["rating"], "{:.2f}")}</td></tr>'
            )
    head = ('<tr><th>player</th><th class="n">K-D</th><th class="n" title="headshot kills, of all kills">HS%</th>'
            '<th class="n">ADR</th><th class="n">KAST</th>'
            '<th class="n" title="opening kills : opening deaths">op. K:D</th>'
            '<th class="n" title="rounds with two kills or more">MK</th>'
            '<th class="n" title="clutches won (1vsX)">1vsX</th>'
            f'<th class="n">rating {escape(m["rating_version"] or "")}</th></tr>')
    note = ('<p class="meta">"-": the page does not show it (2022 scoreboards have no multi-kills or '
            "clutches).</p>" if unknown else "")
    return html[0] + f'<div class="scroll"><table id="table-scoreboard">{head}{"".join(rows)}</table></div>' + note


def _economy(sql: Sql, rounds, m, team_names: dict[int, str]) -> str:
    """Every round of the round history, its winner on the strip; each team's equipment
    value where the economy page has the round, absent (shaded) where HLTV shows none;
    the half-time and overtime lines."""
    economy = queries.map_economy(sql, m["match_id"], m["map_number"])
    html = ['<h3 id="economy">Rounds and economy: equipment value per round</h3>']
    if not rounds:
        return html[0] + '<p class="empty">No round history stored for this map.</p>'
    team_ids = [m["team1_id"], m["team2_id"]]
    numbers = [r["round_number"] for r in rounds]
    value = {(row["round_number"], row["team_id"]): row["equipment_value"] for row in economy}
    winners, notes, breaks = [], [], []
    for i, won in enumerate(rounds):
        index = team_ids.index(won["winner_team_id"]) if won["winner_team_id"] in team_ids else None
        winners.append(index)
        who = team_names.get(won["winner_team_id"], "?")
        how = ", ".join(str(v).replace("_", " ") for v in (won["winner_side"], won["win_type"]) if v)
        notes.append(f"Round {won['round_number']}: {who} won ({how})")
        if i and won["half"] != rounds[i - 1]["half"]:
            half = won["half"] or 0
            label = "2nd half" if half == 2 else f"OT {(half - 3) // 2 + 1}" if half % 2 else ""
            breaks.append((i, label))
    teams = [(team_names[t], [value.get((n, t)) for n in numbers]) for t in team_ids]
    html.append('<div class="scroll">' + charts.economy("chart-economy", numbers, teams, winners, notes, breaks)
                + "</div>")
    absent = [n for n in numbers if all(value.get((n, t)) is None for t in team_ids)]
    html.append('<p class="meta">Round-start equipment value of each team (dollars); a filled dot and the '
                "strip on top mark the round's winner, for every round played; dotted lines: half-time and "
                "overtime. Dashed lines: HLTV's buy types (pistol rounds count as full eco)."
                + (f" Shaded: {_rounds(absent)} without economy, which HLTV does not publish "
                   "(the overtime of MR12 maps)." if absent else "") + "</p>")
    return "\n".join(html)


def _rounds(numbers: list[int]) -> str:
    """``rounds 25-36`` (runs of consecutive rounds joined)."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
    return f"round{'s' if len(numbers) > 1 else ''} {text}"


def _number(value, form: str = "{}") -> str:
    return "-" if value is None else escape(form.format(value))


#: The performance page's kill matrices: ``matrix_type``, heading, chart id.
KILL_MATRICES = (
    ("all", "all kills", "chart-kill-matrix"),
    ("first_kill", "first kills", "chart-kill-matrix-first-kill"),
    ("awp", "AWP kills", "chart-kill-matrix-awp"),
)


def _kill_matrices(sql: Sql, m, players, team_names: dict[int, str]) -> str:
    html = ['<h3 id="kill-matrix">Kill matrices</h3>']
    name = {p["player_id"]: p["player_name"] or str(p["player_id"]) for p in players}
    order = [p["player_id"] for p in players]
    team_of = {p["player_id"]: p["team_id"] for p in players}
    row_team = column_team = ""
    charts_html = []
    for matrix_type, heading, chart_id in KILL_MATRICES:
        cells = queries.map_kill_matrix(sql, m["match_id"], m["map_number"], matrix_type)
        if not cells:
            charts_html.append(f'<div class="matrix"><h4>{heading}</h4><p class="empty">Not stored.</p></div>')
            continue
        row_ids = sorted({c["player1_id"] for c in cells}, key=lambda p: (order.index(p) if p in order else 99, p))
        column_ids = sorted({c["player2_id"] for c in cells}, key=lambda p: (order.index(p) if p in order else 99, p))
        grid = {(c["player1_id"], c["player2_id"]): (c["player1_kills"], c["player2_kills"]) for c in cells}
        row_team = team_names.get(team_of.get(row_ids[0]), "")
        column_team = team_names.get(team_of.get(column_ids[0]), "")
        charts_html.append(f'<div class="matrix"><h4>{heading}</h4>' + charts.heat_map(
            chart_id,
            [name.get(p, str(p)) for p in row_ids],
            [name.get(p, str(p)) for p in column_ids],
            [[grid.get((r, c)) for c in column_ids] for r in row_ids],
            corner=f"rows: {row_team}, columns: {column_team}",
        ) + "</div>")
    html.append(f'<div class="matrices">{"".join(charts_html)}</div>')
    html.append(f'<p class="meta">Each cell: kills of the row player ({escape(row_team)}) on the column player '
                f"({escape(column_team)}) : kills the other way; darker is more kills by the row player. First "
                "kills: the round's opening kill only; AWP: kills with the AWP only.</p>")
    return "\n".join(html)


def _maps(count: int) -> str:
    return f"{count:,} map" + ("" if count == 1 else "s")


def _minute(stored: str) -> str:
    """A stored ISO-8601 UTC time, to the minute (the report says UTC once)."""
    return stored[:16].replace("T", " ")


def _month(day: int | None) -> str:
    if day is None:
        return NO_DATE
    return datetime.fromtimestamp(int(day) * 86_400, tz=timezone.utc).strftime("%Y-%m")
