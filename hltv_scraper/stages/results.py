"""The results stage: HLTV's results listing, newest first, into matches to collect.

``scrapy crawl results [-a since=YYYY-MM-DD] [-a until=YYYY-MM-DD] [-a offset=N]
[-a pages=N] [-a full=1]``. Pages are read one after the other from ``offset`` (steps
of 100), each written in one transaction, until the first of: ``pages`` pages read; a
page whose entries are all older than ``since``; the last page; and, unless ``full``, a
page on which every match is already known (so a scheduled run reads a page or two).
Entries completed after ``until`` are skipped. A page that cannot be fetched or parsed
stops the crawl and writes nothing of it. The walk is
:class:`~hltv_scraper.ledger.sources.ResultsListing`.
"""

from __future__ import annotations

from hltv_scraper.items import RESULTS, ResultsPages
from hltv_scraper.ledger.sources import ResultsListing
from hltv_scraper.parsers.results import parse_results
from hltv_scraper.stages.stage import Page, Stage, UnitKind, id_in, path_url
from hltv_scraper.storage.results import write_results

RESULTS_STAGE = Stage(
    name="results",
    unit=UnitKind(called="results_pages", label="results page at offset {}".format, source=ResultsListing),
    pages=(
        Page(
            RESULTS,
            url=path_url("/results?offset={id}"),
            unit_of_url=id_in(r"/results\?(?:[^#]*&)?offset=(?P<id>\d+)(?:&|#|$)"),
            markers=(b"results-all",),
            parse=parse_results,
            changes=lambda offset: True,
        ),
    ),
    bundle=ResultsPages,
    write=write_results,
)
