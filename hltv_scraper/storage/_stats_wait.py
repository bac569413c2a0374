"""Matches read again until their maps' stats links appear.

HLTV lists a match as soon as it ends; its map stats pages often come hours later, and
some never do. A match page stored while a played map (one with a score) has no stats
link, or while the match is not over (upcoming, live), leaves the match due again after
the next delay of ``HLTV_STATS_WAIT``, counted from this read of its page (never from
the match's date). After the last delay a map still without a link is marked as having
no published stats (``maps.no_stats_at``) and the match is not read again for it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hltv_scraper.storage._sql import Sql

#: A match page's status while the match is not over (the match parser's words, and
#: HLTV's for a match moved to a later day).
NOT_OVER = ("upcoming", "live", "match postponed")
#: SQL over a map row: played, with a score, and no stats link (yet).
_WITHOUT_LINK = (
    "played = 1 AND is_forfeit = 0 AND mapstatsid IS NULL "
    "AND team1_rounds IS NOT NULL AND team2_rounds IS NOT NULL AND no_stats_at IS NULL"
)


def schedule(db: Sql, match_id: int, delays: Sequence[float], *, now: str) -> None:
    """After a read of the match's page: due again after its next delay, or done with."""
    params = {"match_id": match_id}
    db.run("UPDATE maps SET no_stats_at = NULL WHERE match_id = :match_id "
           "AND mapstatsid IS NOT NULL AND no_stats_at IS NOT NULL", params)
    row = db.one(
        f"""SELECT u.stats_checks,
              lower(coalesce(u.status, '')) IN ('{"', '".join(NOT_OVER)}') AS not_over,
              EXISTS (SELECT 1 FROM maps WHERE maps.match_id = u.match_id AND {_WITHOUT_LINK}) AS waiting
            FROM matches u WHERE u.match_id = :match_id""",
        params,
    )
    if row is None:
        return
    if not (row["not_over"] or row["waiting"]):
        db.run("UPDATE matches SET stats_checks = 0, stats_due_at = NULL WHERE match_id = :match_id", params)
        return
    checks = row["stats_checks"]
    if checks < len(delays):
        db.run(
            "UPDATE matches SET stats_checks = :checks, stats_due_at = :due WHERE match_id = :match_id",
            {**params, "checks": checks + 1, "due": time.time() + delays[checks]},
        )
        return
    db.run("UPDATE matches SET stats_due_at = NULL WHERE match_id = :match_id", params)
    db.run(f"UPDATE maps SET no_stats_at = :now WHERE match_id = :match_id AND {_WITHOUT_LINK}",
           {**params, "now": now})

