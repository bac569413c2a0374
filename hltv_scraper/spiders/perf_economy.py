"""The core job: each pending map's performance page and economy page, as a pair.

Run ``scrapy crawl perf_economy [-a limit=N] [-a mapstatsid=ID[,ID...]]``. Maps come
from the database (scoreboard stored, performance/economy not yet); the pipeline
commits a map only when both pages have parsed.
"""

from __future__ import annotations

from hltv_scraper.items import ECONOMY, PERFORMANCE
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.spiders._base import UnitSpider
from hltv_scraper.storage.stages import PERF_ECONOMY


class PerfEconomySpider(UnitSpider):
    name = "perf_economy"
    stage = PERF_ECONOMY
    parsers = {PERFORMANCE: parse_performance, ECONOMY: parse_economy}
    units_name = "maps"
    unit_label = "map {}"
    named_argument = "mapstatsid"
