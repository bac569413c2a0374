"""The report's charts, drawn as inline SVG from plain numbers.

SVG written here rather than by a plotting library: the report stays one small file that
any browser shows offline, text stays text (searchable, sharp at any zoom), and nothing
heavy is installed for four kinds of chart. Every chart carries the ``id`` it is given,
and every text from the site (team and player names) is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
TEAM_COLOURS = ("#1c7ed6", "#e8590c")
#: HLTV's economy trend lines: the equipment value where a buy type starts.
BUY_LINES = ((5_000, "semi-eco"), (10_000, "semi-buy"), (20_000, "full buy"))


def stacked_bars(
    chart_id: str, categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]]
) -> str:
    """Vertical bars, one per category, stacked by ``series`` of ``(name, colour, values)``."""
    width, height, left, right, top, bottom = 900, 320, 56, 16, 40, 70
    totals = [sum(values[i] for _, _, values in series) for i in range(len(categories))]
    top_value = _nice_ceiling(max(totals, default=0))
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(categories), 1)
    bar = max(min(slot * 0.7, 48), 2)
    parts = [_legend([(name, colour) for name, colour, _ in series], left, 18)]
    parts += _y_axis(left, top, plot_w, plot_h, top_value, str, step_value=max(_nice_ceiling(top_value / 5), 1))
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for name, colour, values in series:
            if not values[i]:
                continue
            h = plot_h * values[i] / top_value
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(category)}: {values[i]} {escape(name)}</title></rect>"
            )
        if len(categories) <= 24 or i % math.ceil(len(categories) / 24) == 0:
            cx, cy = x + bar / 2, top + plot_h + 12
            parts.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="11" text-anchor="end" '
                f'transform="rotate(-45 {cx:.1f} {cy:.1f})">{escape(category)}</text>'
            )
    return _svg(chart_id, width, height, parts)


def horizontal_bars(chart_id: str, rows: Sequence[tuple[str, float, str]], colour: str = "#5c7cfa") -> str:
    """One bar per ``(label, share from 0 to 1, text after the bar)``."""
    width, left, row_h, top = 900, 140, 30, 10
    height = top * 2 + row_h * max(len(rows), 1)
    plot_w = width - left - 120
    parts = []
    for i, (label, share, text) in enumerate(rows):
        y = top + i * row_h
        w = max(plot_w * share, 1)
        parts.append(
            f'<text x="{left - 8}" y="{y + 19}" font-size="13" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 19}" font-size="13">{escape(text)}</text>'
        )
    return _svg(chart_id, width, height, parts)


def economy(
    chart_id: str,
    rounds: Sequence[int],
    teams: Sequence[tuple[str, Sequence[int | None]]],
    winners: Sequence[int | None],
    notes: Sequence[str],
    breaks: Sequence[tuple[int, str]] = (),
) -> str:
    """Each team's equipment value per round (``teams``: name, a value per round, None
    where the round has no economy), a filled dot where the team won the round and a
    strip of winners on top for every round (``winners``: the index in ``teams`` of each
    round's winner; ``notes``: its tooltip). Rounds without economy are shaded and the
    lines break there rather than bridge them. ``breaks``: ``(index of the first round
    of a half, label)``, drawn as a vertical line (half-time, overtime). Labels sit on
    a white halo, readable over the shading."""
    width, height, left, right, top, bottom = 900, 390, 64, 62, 76, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, series in teams for v in series if v is not None]
    top_value = max(_nice_ceiling(max(values, default=0), step=5_000), 25_000)
    step = plot_w / max(len(rounds), 1)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    parts = [_legend([(name, TEAM_COLOURS[n]) for n, (name, _) in enumerate(teams)]
                     + [("won the round (filled)", "#495057")], left, 16)]
    parts += _y_axis(left, top, plot_w, plot_h, top_value, _dollars, step_value=5_000)
    absent = [i for i in range(len(rounds)) if all(series[i] is None for _, series in teams)]
    for i in absent:
        parts.append(
            f'<rect class="no-economy" x="{x(i) - step / 2:.1f}" y="{top}" width="{step:.1f}" '
            f'height="{plot_h}" fill="#e9ecef"><title>round {rounds[i]}: no economy published</title></rect>'
        )
    for value, label in BUY_LINES:
        if value < top_value:
            parts.append(
                f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                f'stroke="#868e96" stroke-dasharray="4 4"/>'
                f'<text class="buy-line" x="{left + plot_w + 4}" y="{y(value) + 4:.1f}" font-size="11" '
                f'fill="#495057" {_HALO}>{label}</text>'
            )
    for index, label in breaks:
        bx = x(index) - step / 2
        parts.append(
            f'<line class="half-break" x1="{bx:.1f}" x2="{bx:.1f}" y1="{top - 34}" y2="{top + plot_h}" '
            f'stroke="#495057" stroke-width="1.2" stroke-dasharray="2 3"/>'
            f'<text class="half-break-label" x="{bx + 4:.1f}" y="{top + 13}" font-size="11" fill="#343a40" '
            f'{_HALO}>{escape(label)}</text>'
        )
    if absent:  # over the lines, on its halo
        first, last = absent[0], absent[-1]
        parts.append(
            f'<text class="no-economy-label" x="{(x(first) + x(last)) / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            f'font-size="12" fill="#495057" text-anchor="middle" {_HALO}>no economy published</text>'
        )
    strip_y = top - 30
    parts.append(f'<text x="{left - 8}" y="{strip_y + 10}" font-size="10" text-anchor="end">winner</text>')
    for i, (number, winner) in enumerate(zip(rounds, winners)):
        colour = TEAM_COLOURS[winner] if winner is not None else "#dee2e6"
        note = escape(notes[i]) if i < len(notes) else ""
        parts.append(
            f'<rect class="round-winner" x="{x(i) - step * 0.4:.1f}" y="{strip_y}" width="{step * 0.8:.1f}" '
            f'height="12" fill="{colour}"><title>{note}</title></rect>'
        )
        if len(rounds) <= 30 or number % 5 == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" font-size="11" '
                         f'text-anchor="middle">{number}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="12" text-anchor="middle">round</text>')
    for n, (name, series) in enumerate(teams):
        colour = TEAM_COLOURS[n]
        path = " ".join(
            f"{'L' if i and series[i - 1] is not None else 'M'}{x(i):.1f},{y(v):.1f}"
            for i, v in enumerate(series) if v is not None
        )
        parts.append(f'<path class="team-line" d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for i, v in enumerate(series):
            if v is None:
                continue
            won = i < len(winners) and winners[i] == n
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{5 if won else 3.5}" '
                f'fill="{colour if won else "#fff"}" stroke="{colour}" stroke-width="2">'
                f"<title>{escape(name)}, round {rounds[i]}: {_dollars(v)}{', won' if won else ''}</title></circle>"
            )
    return _svg(chart_id, width, height, parts)


def heat_map(
    chart_id: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[tuple[int, int] | None]],
    *,
    corner: str = "",
) -> str:
    """A grid of ``(kills, deaths)`` cells, shaded by kills: the row player killed the
    column player ``kills`` times and was killed by them ``deaths`` times."""
    left, top, cell_w, cell_h = 104, 48, 64, 36
    width = left + cell_w * len(columns) + 16
    height = top + cell_h * len(rows) + 16
    most = max((c[0] for row in cells for c in row if c), default=0) or 1
    parts = [f'<text x="4" y="14" font-size="11" fill="#495057">{escape(corner)}</text>']
    for j, name in enumerate(columns):
        cx = left + cell_w * (j + 0.5)
        parts.append(f'<text x="{cx:.1f}" y="{top - 8}" font-size="11" text-anchor="middle">'
                     f"{escape(_short(name, 10))}<title>{escape(name)}</title></text>")
    for i, name in enumerate(rows):
        y = top + cell_h * i
        parts.append(f'<text x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" font-size="11" text-anchor="end">'
                     f"{escape(_short(name, 13))}<title>{escape(name)}</title></text>")
        for j, cell in enumerate(cells[i]):
            x = left + cell_w * j
            if cell is None:
                parts.append(f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="#f1f3f5" stroke="#fff"/>')
                continue
            kills, deaths = cell
            shade = kills / most
            ink = "#fff" if shade > 0.55 else "#212529"
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" '
                f'fill="{_red(shade)}" stroke="#fff" stroke-width="2">'
                f"<title>{escape(rows[i])} killed {escape(columns[j])} {kills} times, "
                f"was killed {deaths} times</title></rect>"
                f'<text class="count" x="{x + cell_w / 2}" y="{y + cell_h / 2 + 5:.1f}" font-size="13" '
                f'text-anchor="middle" fill="{ink}">{kills}:{deaths}</text>'
            )
    return _svg(chart_id, width, height, parts)


#: How a round ended, as a 16 x 16 glyph drawn white on the winner's side colour.
_WIN_GLYPHS = {
    "elimination": '<path d="M4.5 4.5l7 7M11.5 4.5l-7 7" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>',
    "bomb_exploded": (
        '<circle cx="8" cy="8" r="2.8" fill="#fff"/><path d="M8 1.8v2.4M8 11.8v2.4M1.8 8h2.4M11.8 8h2.4'
        'M3.6 3.6l1.7 1.7M10.7 10.7l1.7 1.7M3.6 12.4l1.7-1.7M10.7 5.3l1.7-1.7" stroke="#fff" '
        'stroke-width="1.6" stroke-linecap="round"/>'
    ),
    "bomb_defused": (
        '<path d="M3.8 8.4l2.8 2.8 5.6-6.4" fill="none" stroke="#fff" stroke-width="2.2" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    ),
    "time": (
        '<circle cx="8" cy="8.5" r="5" fill="none" stroke="#fff" stroke-width="1.6"/>'
        '<path d="M8 5.8v2.9l2 1.3" fill="none" stroke="#fff" stroke-width="1.6" stroke-linecap="round"/>'
    ),
}
SIDE_COLOURS = {"CT": "#3867b5", "T": "#c77d1c"}


def round_outcome(win_type: str | None, side: str | None, title: str) -> str:
    """One round won: how it ended (``win_type``) on the colour of the side that won it."""
    glyph = _WIN_GLYPHS.get(win_type or "", '<circle cx="8" cy="8" r="2.5" fill="#fff"/>')
    return (
        f'<svg class="outcome {escape(win_type or "unknown")}" viewBox="0 0 16 16" width="16" height="16">'
        f"<title>{escape(title)}</title>"
        f'<rect width="16" height="16" rx="3" fill="{SIDE_COLOURS.get(side or "", "#868e96")}"/>{glyph}</svg>'
    )


# -- pieces ---------------------------------------------------------------------------

#: A white outline under a text: readable over lines and shading.
_HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"'


def _svg(chart_id: str, width: int, height: float, parts: list[str]) -> str:
    return (
        f'<svg id="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" style="{FONT}">'
        + "".join(parts) + "</svg>"
    )


def _legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for name, colour in entries:
        parts.append(f'<rect x="{x:.0f}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 17:.0f}" y="{y}" font-size="12">{escape(name)}</text>')
        x += 30 + 7 * len(name)
    return "".join(parts)


def _y_axis(left: float, top: float, plot_w: float, plot_h: float, top_value: float, label,
            step_value: float | None = None) -> list[str]:
    step_value = step_value or _nice_ceiling(top_value / 5)
    parts = [f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#adb5bd"/>'
             f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#adb5bd"/>']
    tick = step_value
    while tick <= top_value + 1e-9:
        y = top + plot_h * (1 - tick / top_value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#f1f3f5"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
                     f"{escape(label(int(tick)))}</text>")
        tick += step_value
    return parts


def _nice_ceiling(value: float, step: float | None = None) -> float:
    """The smallest round number (1, 2 or 5 times a power of ten, or a multiple of
    ``step``) at or above ``value``; 1 for nothing."""
    if value <= 0:
        return step or 1
    if step:
        return math.ceil(value / step) * step
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def _dollars(value: float) -> str:
    return f"${value / 1000:g}k" if value >= 1000 else f"${value:g}"


def _red(shade: float) -> str:
    """White (0) to deep red (1)."""
    start, end = (255, 255, 255), (201, 42, 42)
    r, g, b = (round(s + (e - s) * shade) for s, e in zip(start, end))
    return f"#{r:02x}{g:02x}{b:02x}"


def _short(name: str, most: int = 14) -> str:
    return name if len(name) <= most else name[: most - 1] + "…"
