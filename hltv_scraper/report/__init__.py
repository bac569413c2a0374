"""``scrapy report``: one self-contained HTML page on how complete the dataset is.

Maps by month and by stage, the failures grouped by stage, page and reason (the folded
rule of ``scrapy summary``, one real reason shown per group), the share of maps per rating
version, and one map up close as HLTV's match stats read it: the series around it and its
veto, its round history by half (sides, how each round ended, the score at half-time and
after each overtime, as the export's ``rounds`` view has them), its scoreboard, both
teams' equipment value where HLTV publishes it, and its three kill matrices
(:mod:`hltv_scraper.report._map`). Styles and charts (inline SVG,
:mod:`hltv_scraper.charts`) are inside the file: it opens in any browser with no network.
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
from hltv_scraper.report._map import map_section
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.storage import report as queries

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hltv_scraper.storage import Database, StoredStage
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


def render_report(
    db: Database, *, max_attempts: int, mapstatsid: int | None = None, stages: Iterable[StoredStage] = ()
) -> str:
    """The whole page. ``mapstatsid``: the map to show up close (default: the complete
    map played last). ``stages`` (the registry's): what each stage has stored."""
    sql = db.sql
    shown = _pick_map(sql, mapstatsid)
    body = "\n".join((
        _stored_section(db, stages),
        _stages_section(sql, max_attempts),
        _failures_section(db),
        _rating_section(sql),
        map_section(sql, shown.mapstatsid if shown else None, chosen=shown is not None and shown.chosen),
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


def _stored_section(db: Database, stages: Iterable[StoredStage]) -> str:
    """Each stage's counts (those of ``scrapy summary``), the world ranking's included."""
    rows = [(stage.name, label, count) for stage in stages for label, count in db.summary([stage]).items()
            if label != "failures recorded"]
    if not rows:
        return ""
    body = "".join(
        f'<tr><td>{escape(name)}</td><td>{escape(label)}</td><td class="n">{count:,}</td></tr>'
        for name, label, count in rows
    )
    return (
        '<section id="stored-by-stage"><h2>Stored by stage</h2>'
        f"<table><thead><tr><th>stage</th><th>what</th><th class=\"n\">count</th></tr></thead><tbody>{body}"
        "</tbody></table></section>"
    )


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


def _maps(count: int) -> str:
    return f"{count:,} map" + ("" if count == 1 else "s")


def _minute(stored: str) -> str:
    """A stored ISO-8601 UTC time, to the minute (the report says UTC once)."""
    return stored[:16].replace("T", " ")


def _month(day: int | None) -> str:
    if day is None:
        return NO_DATE
    return datetime.fromtimestamp(int(day) * 86_400, tz=timezone.utc).strftime("%Y-%m")
