"""The map stats stage: each pending map's stats page (scoreboard and round history).

Run ``scrapy crawl map_stats [-a limit=N] [-a mapstatsid=ID[,ID...]]``. Maps come from
the match stage (or ``scrapy addmaps``).
"""

from __future__ import annotations

from hltv_scraper.items import MAPSTATS
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.spiders._base import UnitSpider
from hltv_scraper.storage.stages import MAP_STATS


class MapStatsSpider(UnitSpider):
    name = "map_stats"
    stage = MAP_STATS
    parsers = {MAPSTATS: parse_mapstats}
    units_name = "maps"
    unit_label = "map {}"
    named_argument = "mapstatsid"
