"""The match stage: each pending match's page (teams, veto, lineups, and its maps).

``scrapy crawl matches [-a limit=N] [-a match_id=ID[,ID...]]``. Matches come from the
results stage (or ``scrapy addmatches``); the maps a match page links become pending
for the map stats stage.
"""

from __future__ import annotations

from hltv_scraper.items import MATCH, MatchPages
from hltv_scraper.ledger.sources import LeasedUnits
from hltv_scraper.parsers.match import parse_match
from hltv_scraper.stages.stage import Page, Stage, UnitKind, id_in, path_url
from hltv_scraper.storage import match
from hltv_scraper.validation import check_match

MATCHES = Stage(
    name="matches",
    unit=UnitKind(
        called="matches",
        label="match {}".format,
        source=LeasedUnits,
        named_argument="match_id",
        adding_hint="add matches with `scrapy addmatches`, or find them with `scrapy crawl results`",
    ),
    pages=(
        Page(
            MATCH,
            url=path_url("/matches/{id}/{slug}"),
            unit_of_url=id_in(r"/matches/(?P<id>\d+)(?:/|$|\?)"),
            markers=(b"teamsBox",),
            parse=parse_match,
        ),
    ),
    bundle=MatchPages,
    write=match.write_match,
    rows=match.ROWS,
    check=check_match,
    counts=match.COUNTS,
    exports=match.EXPORTS,
    left="{} match pages",
)
