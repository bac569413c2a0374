"""The map stats stage: each pending map's stats page (scoreboard and round history).

``scrapy crawl map_stats [-a limit=N] [-a mapstatsid=ID[,ID...]]``. Maps come from the
match stage (or ``scrapy addmaps``).
"""

from __future__ import annotations

from hltv_scraper.items import MAPSTATS, MapStatsPages
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.stages._maps import MAPS
from hltv_scraper.stages.stage import Page, Stage, id_in, path_url
from hltv_scraper.storage import map_stats
from hltv_scraper.validation import check_map_stats

MAP_STATS = Stage(
    name="map_stats",
    unit=MAPS,
    pages=(
        Page(
            MAPSTATS,
            url=path_url("/stats/matches/mapstatsid/{id}/{slug}"),
            unit_of_url=id_in(r"/stats/matches/mapstatsid/(?P<id>\d+)(?:/|$|\?)"),
            markers=(b"match-info-box", b"stats-table"),
            parse=parse_mapstats,
        ),
    ),
    bundle=MapStatsPages,
    write=map_stats.write_map_stats,
    rows=map_stats.ROWS,
    check=check_map_stats,
    counts=map_stats.COUNTS,
    exports=map_stats.EXPORTS,
    left="{} map stats pages",
)
