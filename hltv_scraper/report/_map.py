"""The report's one map up close, as HLTV's match stats read it.

The series around the map and its veto; its round history by half (each team's side, how
each round ended, the pistol rounds, the score at half-time, after regulation and after
each overtime: the export's ``rounds`` view); its scoreboard; both teams' equipment value
per round where HLTV publishes it; its three kill matrices.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from hltv_scraper import charts
from hltv_scraper.storage import report as queries

if TYPE_CHECKING:
    from hltv_scraper.storage._sql import Sql

#: How a round ended, in words (``round_history.win_type``).
WIN_TYPES = {
    "elimination": "elimination",
    "bomb_exploded": "bomb exploded",
    "bomb_defused": "bomb defused",
    "time": "time ran out",
}


def map_section(sql: Sql, mapstatsid: int | None, *, chosen: bool) -> str:
    """The map ``mapstatsid`` up close (None: no complete map yet); ``chosen``: named with
    --mapstatsid rather than picked as the complete map played last."""
    html = ['<section id="map">']
    if mapstatsid is None:
        html.append('<h2>One map</h2><p class="empty">No complete map yet: the economy and kill '
                    "matrix of a map are shown once its performance and economy are stored.</p></section>")
        return "\n".join(html)
    m = queries.map_details(sql, mapstatsid)
    team_names = {m["team1_id"]: m["team1_name"] or f"team {m['team1_id']}",
                  m["team2_id"]: m["team2_name"] or f"team {m['team2_id']}"}
    html.append(
        f"<h2>Map {m['mapstatsid']}: {escape(team_names[m['team1_id']])} {m['team1_rounds']}"
        f"–{m['team2_rounds']} {escape(team_names[m['team2_id']])} on {escape(m['map_name'] or '?')}</h2>"
    )
    how = ("chosen with --mapstatsid" if chosen else
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
