"""The results stage: HLTV's results listing, newest first, into matches to collect.

Run ``scrapy crawl results [-a since=YYYY-MM-DD] [-a until=YYYY-MM-DD] [-a offset=N]
[-a pages=N] [-a full=1]``. Pages are read one after the other from ``offset`` (steps
of 100), each written in one transaction, until the first of: ``pages`` pages read; a
page whose entries are all older than ``since``; the last page; and, unless ``full``, a
page on which every match is already known (so a scheduled run reads a page or two).
Entries completed after ``until`` are skipped. A page that cannot be fetched or parsed
stops the crawl and writes nothing of it. The walk itself is the ledger's
:class:`~hltv_scraper.ledger.sources.ResultsListing`.
"""

from __future__ import annotations

from hltv_scraper.items import RESULTS
from hltv_scraper.ledger.sources import ResultsListing
from hltv_scraper.ledger.arguments import day_start_ms
from hltv_scraper.parsers.results import parse_results
from hltv_scraper.spiders._base import UnitSpider
from hltv_scraper.storage.stages import RESULTS_STAGE

__all__ = ["ResultsSpider", "day_start_ms"]


class ResultsSpider(UnitSpider):
    name = "results"
    stage = RESULTS_STAGE
    parsers = {RESULTS: parse_results}
    units_name = "results_pages"
    unit_label = "results page at offset {}"
    source = ResultsListing
