"""Helpers for the discovery tests: more results pages than the one bundled, and the
match truth files as rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.pages import MATCH_IDS, PAGES_DIR, page_bytes
from tests.support.seed import rows

DAY_MS = 86_400_000
RESULTS_0 = page_bytes("results-0").decode("utf-8")
_FEATURED = re.compile(r'<div class="big-results">.*?</div></div></div>\n', re.S)


def results_page(offset: int, *, days_back: int, last: bool = False) -> bytes:
    """The bundled results page moved to ``offset``: other match ids (their match pages
    do not exist), completion times ``days_back`` days earlier, its own pagination."""
    text = RESULTS_0 if offset == 0 else _FEATURED.sub("", RESULTS_0, count=1)
    shift = offset * 10
    text = re.sub(r"/matches/(\d+)/", lambda m: f"/matches/{int(m.group(1)) + shift}/", text)
    text = re.sub(
        r'data-zonedgrouping-entry-unix="(\d+)"',
        lambda m: f'data-zonedgrouping-entry-unix="{int(m.group(1)) - days_back * DAY_MS}"',
        text,
    )
    text = text.replace("1 - 100 of 115045", f"{offset + 1} - {offset + 100} of 115045")
    next_link = '<a class="pagination-next" href="/results?offset=100">'
    assert next_link in text
    if last:
        text = text.replace(next_link, '<a class="pagination-next inactive">')
    else:
        text = text.replace(next_link, f'<a class="pagination-next" href="/results?offset={offset + 100}">')
    return text.encode("utf-8")


def results_entries(offset: int = 0) -> list[dict]:
    """The regular entries of the bundled page, as the page at ``offset`` shows them."""
    truth = json.loads((PAGES_DIR / "expected-results-0.json").read_text("utf-8"))
    return [{**entry, "match_id": entry["match_id"] + offset * 10} for entry in truth["entries"]]


def match_truth(match_id: int) -> dict:
    return json.loads((PAGES_DIR / f"expected-match-{match_id}.json").read_text("utf-8"))


def assert_match_matches_truth(database: Path | str, match_id: int) -> None:
    """The match row, its veto, lineups and map rows, field by field."""
    truth = match_truth(match_id)
    stored = rows(
        database,
        "SELECT team1_id, team1_name, team2_id, team2_name, team1_score, team2_score, best_of, "
        "is_lan, event_id, event_name, date_unix_ms, status, stage, is_forfeit, team1_rank, "
        "team2_rank, match_page_at IS NOT NULL FROM matches WHERE match_id = ?",
        match_id,
    )
    ranks = [lineup["ranking"] for lineup in truth["lineups"]]
    assert stored == [(
        truth["team1_id"], truth["team1_name"], truth["team2_id"], truth["team2_name"],
        truth["team1_score"], truth["team2_score"], truth["best_of"], int(truth["is_lan"]),
        truth["event_id"], truth["event_name"], truth["date_unix_ms"], truth["status"],
        truth["stage"], int(truth["is_forfeit"]), ranks[0], ranks[1], 1,
    )], match_id
    (format_text,), = rows(database, "SELECT format_text FROM matches WHERE match_id = ?", match_id)
    assert format_text.split("\n") == truth["format_text"]
    assert rows(database, "SELECT step, team_id, action, map_name FROM vetoes WHERE match_id = ? ORDER BY step", match_id) == [
        (v["step"], v["team_id"], v["action"], v["map_name"]) for v in truth["vetoes"]
    ]
    assert rows(database, "SELECT team_id, player_id, player_name FROM lineups WHERE match_id = ? ORDER BY team_id, player_id", match_id) == sorted(
        (lineup["team_id"], p["player_id"], p["player_name"]) for lineup in truth["lineups"] for p in lineup["players"]
    )
    columns = ("map_number", "map_name", "mapstatsid", "played", "is_forfeit", "team1_rounds", "team2_rounds",
               "team1_ct_rounds", "team1_t_rounds", "team2_ct_rounds", "team2_t_rounds",
               "team1_ot_rounds", "team2_ot_rounds", "team1_starting_side")
    expected_maps = [] if truth["full_forfeit"] else [
        tuple(int(m[c]) if c in ("played",) else int(m["forfeit"]) if c == "is_forfeit" else m[c] for c in columns)
        for m in truth["maps"]
    ]
    assert rows(database, f"SELECT {', '.join(columns)} FROM maps WHERE match_id = ? ORDER BY map_number", match_id) == expected_maps, match_id


PUBLIC_MATCHES = MATCH_IDS
