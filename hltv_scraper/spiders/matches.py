"""The match stage: each pending match's page (teams, veto, lineups, and its maps).

Run ``scrapy crawl matches [-a limit=N] [-a match_id=ID[,ID...]]``. Matches come from
the results stage (or ``scrapy addmatches``); the maps a match page links become
pending for the map stats stage.
"""

from __future__ import annotations

from hltv_scraper.items import MATCH
from hltv_scraper.parsers.match import parse_match
from hltv_scraper.spiders._base import UnitSpider
from hltv_scraper.storage.stages import MATCHES


class MatchesSpider(UnitSpider):
    name = "matches"
    stage = MATCHES
    parsers = {MATCH: parse_match}
    units_name = "matches"
    unit_label = "match {}"
    named_argument = "match_id"
    adding_hint = "add matches with `scrapy addmatches`, or find them with `scrapy crawl results`"
