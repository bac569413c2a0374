"""The core job: each pending map's performance page and economy page, as a pair.

``scrapy crawl perf_economy [-a limit=N] [-a mapstatsid=ID[,ID...]]``. Maps come from
the database (scoreboard stored, performance/economy not yet); the pipeline commits a
map only when both pages have parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hltv_scraper.items import ECONOMY, PERFORMANCE, PerfEconomyPages
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.stages._maps import MAPS
from hltv_scraper.stages.stage import Page, Stage, id_in, path_url
from hltv_scraper.storage import perf_economy
from hltv_scraper.validation import check_perf_economy

if TYPE_CHECKING:
    from scrapy.http import Response

    from hltv_scraper.items import PageOutcome


def _chart_page(name: str, parse: Callable[[Response], PageOutcome]) -> Page:
    return Page(
        name,
        url=path_url(f"/stats/matches/{name}/mapstatsid/{{id}}/{{slug}}"),
        unit_of_url=id_in(rf"/stats/matches/{name}/mapstatsid/(?P<id>\d+)(?:/|$|\?)"),
        markers=(f"stats-match-{name}".encode(), b"data-fusionchart-config"),
        parse=parse,
    )


PERF_ECONOMY = Stage(
    name="perf_economy",
    unit=MAPS,
    pages=(_chart_page(PERFORMANCE, parse_performance), _chart_page(ECONOMY, parse_economy)),
    bundle=PerfEconomyPages,
    write=perf_economy.write_perf_economy,
    rows=perf_economy.ROWS,
    check=check_perf_economy,
    counts=perf_economy.COUNTS,
    exports=perf_economy.EXPORTS,
    left="{} maps for performance/economy",
)
