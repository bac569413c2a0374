"""``scrapy report``: one self-contained HTML page on how complete the dataset is.

Maps by month and by stage, the failures grouped by stage, page and reason (the folded
rule of ``scrapy summary``, one real reason shown per group), the share of maps per rating
version, and one map up close: its scoreboard, every round's winner (overtime included),
both teams' equipment value where HLTV publishes it, and its kill matrix. Styles and charts (inline SVG, :mod:`hltv_scraper.charts`) are inside
the file: it opens in any browser with no network.
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
from hltv_scraper.output import writing
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
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border-bottom: 1px solid #e9ecef; padding: 4px 10px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
svg { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.empty { color: #6c757d; font-style: italic; }
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
    #: whether the map was named (--map) rather than picked as the latest complete one
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
    """Write the page to ``out`` whole or not at all (a temporary file, renamed); a
    full disk is CannotWrite."""
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
        with writing(out), file:
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
            "(or leave out --map for the latest one)"
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
    how = "chosen with --map" if shown.chosen else "the complete map played last; choose another with --map MAPSTATSID"
    html.append(f'<p class="meta">{escape(m["event_name"] or "")}, {escape(m["date"] or "date not known")} UTC; '
                f"rating {escape(m['rating_version'] or '?')}; {how}.</p>")
    players = queries.map_players(sql, m["match_id"], m["map_number"])
    html.append(_scoreboard(players, m, team_names))
    html.append(_economy(sql, m, team_names))
    html.append(_kill_matrix(sql, m, players, team_names))
    html.append("</section>")
    return "\n".join(html)


def _scoreboard(players, m, team_names: dict[int, str]) -> str:
    """Each team's players: K-D, ADR, KAST and rating, as the map stats page shows them."""
    html = ['<h3 id="scoreboard">Scoreboard</h3>']
    if not players:
        return html[0] + '<p class="empty">No scoreboard stored for this map.</p>'
    rows = []
    for team_id in (m["team1_id"], m["team2_id"]):
        rows.append(f'<tr class="team"><th colspan="5">{escape(team_names[team_id])}</th></tr>')
        for p in (p for p in players if p["team_id"] == team_id):
            rows.append(
                f'<tr class="player"><td>{escape(p["player_name"] or str(p["player_id"]))}</td>'
                f'<td class="n">{_number(p["kills"])}-{_number(p["deaths"])}</td>'
                f'<td class="n">{_number(p["adr"], "{:.1f}")}</td>'
                f'<td class="n">{_number(p["kast"], "{:.1f}%")}</td>'
                f'<td class="n">{_number(p["rating"], "{:.2f}")}</td></tr>'
            )
    head = '<tr><th>player</th><th class="n">K-D</th><th class="n">ADR</th><th class="n">KAST</th>' \
           f'<th class="n">rating {escape(m["rating_version"] or "")}</th></tr>'
    return html[0] + f'<table id="table-scoreboard">{head}{"".join(rows)}</table>'


def _economy(sql: Sql, m, team_names: dict[int, str]) -> str:
    """Every round of the round history, its winner on the strip; each team's equipment
    value where the economy page has the round, absent (shaded) where HLTV shows none."""
    rounds = queries.map_rounds(sql, m["match_id"], m["map_number"])
    economy = queries.map_economy(sql, m["match_id"], m["map_number"])
    html = ['<h3 id="economy">Rounds and economy: equipment value per round</h3>']
    if not rounds:
        return html[0] + '<p class="empty">No round history stored for this map.</p>'
    team_ids = [m["team1_id"], m["team2_id"]]
    numbers = [r["round_number"] for r in rounds]
    value = {(row["round_number"], row["team_id"]): row["equipment_value"] for row in economy}
    winners, notes = [], []
    for won in rounds:
        index = team_ids.index(won["winner_team_id"]) if won["winner_team_id"] in team_ids else None
        winners.append(index)
        who = team_names.get(won["winner_team_id"], "?")
        how = ", ".join(str(v).replace("_", " ") for v in (won["winner_side"], won["win_type"]) if v)
        notes.append(f"Round {won['round_number']}: {who} won ({how})")
    teams = [(team_names[t], [value.get((n, t)) for n in numbers]) for t in team_ids]
    html.append(charts.economy("chart-economy", numbers, teams, winners, notes))
    absent = [n for n in numbers if all(value.get((n, t)) is None for t in team_ids)]
    html.append('<p class="meta">Round-start equipment value of each team (dollars); a filled dot and the '
                "strip on top mark the round's winner, for every round played. Dashed lines: HLTV's buy types."
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


def _kill_matrix(sql: Sql, m, players, team_names: dict[int, str]) -> str:
    cells = queries.map_kill_matrix(sql, m["match_id"], m["map_number"])
    html = ['<h3 id="kill-matrix">Kill matrix (all kills)</h3>']
    if not cells:
        return html[0] + '<p class="empty">No kill matrix stored for this map.</p>'
    name = {p["player_id"]: p["player_name"] or str(p["player_id"]) for p in players}
    order = [p["player_id"] for p in players]
    row_ids = sorted({c["player1_id"] for c in cells}, key=lambda p: (order.index(p) if p in order else 99, p))
    column_ids = sorted({c["player2_id"] for c in cells}, key=lambda p: (order.index(p) if p in order else 99, p))
    grid = {(c["player1_id"], c["player2_id"]): (c["player1_kills"], c["player2_kills"]) for c in cells}
    team_of = {p["player_id"]: p["team_id"] for p in players}
    row_team = team_names.get(team_of.get(row_ids[0]), "")
    column_team = team_names.get(team_of.get(column_ids[0]), "")
    html.append(charts.heat_map(
        "chart-kill-matrix",
        [name.get(p, str(p)) for p in row_ids],
        [name.get(p, str(p)) for p in column_ids],
        [[grid.get((r, c)) for c in column_ids] for r in row_ids],
        corner=f"rows: {row_team}, columns: {column_team}",
    ))
    html.append(f'<p class="meta">Each cell: kills of the row player ({escape(row_team)}) on the column player '
                f"({escape(column_team)}) : kills the other way; darker is more kills by the row player.</p>")
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
