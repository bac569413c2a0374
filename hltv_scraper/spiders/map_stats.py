"""The upstream stage: each pending map's stats page (scoreboard and round history).

Run ``scrapy crawl map_stats [-a limit=N] [-a mapstatsid=ID[,ID...]]`` after telling
the project which maps to collect with ``scrapy addmaps``.
"""

from __future__ import annotations

from hltv_scraper.items import MAPSTATS
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.spiders._base import MapPagesSpider
from hltv_scraper.storage.database import MAP_STATS


class MapStatsSpider(MapPagesSpider):
    name = "map_stats"
    stage = MAP_STATS
    parsers = {MAPSTATS: parse_mapstats}
