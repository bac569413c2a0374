"""Benchmark data: many maps made from the ten fixture maps by re-numbering them.

Copy ``i`` of a fixture map gets its own mapstatsid and (match_id, map_number); its
pages are the fixture map's pages (hard links when the file system allows, so 20,000
maps cost no disk), and the database holds what the map stats stage would have stored
for it, from the truth files. Player and team ids repeat across copies, as they do on
the real site.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hltv_scraper.storage import Database

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ARCHIVE = FIXTURES / "archive"
TRUTH = FIXTURES / "pages"
FIXTURE_MAPS = sorted(int(p.name.split(".")[0]) for p in (ARCHIVE / "mapstats").glob("*.html.gz"))
FIRST_MAPSTATSID = 3_000_000
FIRST_MATCH_ID = 90_000_000
NOW = "2026-01-01T00:00:00+00:00"
_SCOREBOARD = (
    "player_name team_id kills deaths assists flash_assists hs_kills kd_diff adr kast "
    "fk_diff opening_kills opening_deaths multi_kills clutch_wins traded_deaths "
    "round_swing rating rating_version"
).split()
_CONTENT = re.compile(rb'<div\b[^>]*\bclass\s*=\s*["\']contentCol\b')
_CONTENT_END = re.compile(rb"<aside\b|<footer\b")


@dataclass(frozen=True)
class Copy:
    mapstatsid: int  # the copy's own id
    source: int  # the fixture map whose pages and truth it reuses
    match_id: int


def plan(count: int, sources: Sequence[int] = FIXTURE_MAPS) -> list[Copy]:
    """``count`` copies, cycling through ``sources``."""
    return [
        Copy(FIRST_MAPSTATSID + i, sources[i % len(sources)], FIRST_MATCH_ID + i)
        for i in range(count)
    ]


def truth(mapstatsid: int) -> dict:
    return json.loads((TRUTH / f"expected-{mapstatsid}.json").read_text("utf-8"))


def page_bytes(page: str, mapstatsid: int) -> bytes:
    return gzip.decompress((ARCHIVE / page / f"{mapstatsid}.html.gz").read_bytes())


def content_only(body: bytes) -> bytes:
    """The page cut down to its ``.contentCol`` section: the same data, a small page."""
    start = _CONTENT.search(body)
    end = _CONTENT_END.search(body, start.end())
    return b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>" + (
        body[start.start() : end.start()] + b"</body></html>"
    )


def build_archive(
    root: Path, copies: Iterable[Copy], pages: dict[str, bytes | None] | None = None
) -> None:
    """An archive (``{page}/{mapstatsid}.html.gz`` + ``.json``) for every copy.

    ``pages`` maps a page name to the body every copy gets (``None``: each copy's
    fixture page, linked). A given body is written once and linked for every copy.
    """
    pages = pages or {"performance": None, "economy": None}
    shared: dict[str, Path] = {}
    for page, body in pages.items():
        (root / page).mkdir(parents=True, exist_ok=True)
        if body is not None:
            shared[page] = root / ".shared" / f"{page}.html.gz"
            shared[page].parent.mkdir(parents=True, exist_ok=True)
            shared[page].write_bytes(gzip.compress(body, compresslevel=6))
    for copy in copies:
        for page in pages:
            source = shared.get(page) or ARCHIVE / page / f"{copy.source}.html.gz"
            _link(source, root / page / f"{copy.mapstatsid}.html.gz")
            meta = {
                "url": f"https://www.hltv.org/stats/matches/{page}/mapstatsid/{copy.mapstatsid}/x",
                "status": 200,
                "headers": {"Content-Type": ["text/html; charset=UTF-8"]},
            }
            (root / page / f"{copy.mapstatsid}.json").write_text(json.dumps(meta))


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def seed(database: Path | str, copies: Iterable[Copy]) -> None:
    """Store each copy's match, map, scoreboard and round history (the map stats stage's
    output), in one transaction, in a SQLite file or a PostgreSQL database."""
    truths: dict[int, dict] = {}
    matches, maps, players, rounds = [], [], [], []
    for copy in copies:
        t = truths.get(copy.source) or truths.setdefault(copy.source, truth(copy.source))
        key = {"match_id": copy.match_id, "map_number": 1, "now": NOW}
        matches.append({**t["match"], **key})
        maps.append({**t["match"], **key, "mapstatsid": copy.mapstatsid})
        players.extend({**key, **{c: p[c] for c in ("player_id", *_SCOREBOARD)}} for p in t["players"])
        rounds.extend({**key, **r} for r in t["rounds"])
    db = Database.open(database)
    try:
        with db.transaction() as sql:
            sql.many(
                "INSERT INTO matches (match_id, event_id, event_name, team1_id, team1_name, team2_id, "
                "team2_name, best_of, date_unix_ms, scraped_at, updated_at) VALUES (:match_id, "
                ":event_id, :event_name, :team1_id, :team1_name, :team2_id, :team2_name, :best_of, "
                ":date_unix_ms, :now, :now)", matches)
            sql.many(
                "INSERT INTO maps (match_id, map_number, mapstatsid, map_name, team1_rounds, "
                "team2_rounds, played, is_forfeit, mapstats_at, scraped_at, updated_at) VALUES "
                "(:match_id, :map_number, :mapstatsid, :map_name, :team1_rounds, :team2_rounds, 1, 0, "
                ":now, :now, :now)", maps)
            sql.many(
                f"INSERT INTO player_stats (match_id, map_number, player_id, {', '.join(_SCOREBOARD)}, "
                f"scraped_at, updated_at) VALUES (:match_id, :map_number, :player_id, "
                f"{', '.join(':' + c for c in _SCOREBOARD)}, :now, :now)", players)
            sql.many(
                "INSERT INTO round_history (match_id, map_number, round_number, winner_side, win_type, "
                "winner_team_id, scraped_at, updated_at) VALUES (:match_id, :map_number, :round_number, "
                ":winner_side, :win_type, :winner_team_id, :now, :now)", rounds)
        if db.dialect == "sqlite":
            db.sql.run("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def database_bytes(db_path: Path) -> int:
    """The database's size on disk once its WAL is checkpointed into it."""
    connection = sqlite3.connect(db_path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return sum(
        path.stat().st_size
        for path in (db_path, Path(f"{db_path}-wal"))
        if path.exists()
    )
