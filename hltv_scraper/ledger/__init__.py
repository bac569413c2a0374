"""The unit ledger: one object per crawl that owns its units.

Spiders only route requests; the pipeline asks the ledger whether a unit is whole and
hands it to storage. Where units come from (claimed leases, or the results listing
walked page by page) is the ledger's source; the spider arguments that choose them are
read in :mod:`hltv_scraper.ledger.arguments`, before any database is opened.
"""

from hltv_scraper.ledger.arguments import SpiderArgumentError
from hltv_scraper.ledger.ledger import (
    ALREADY_STORED,
    COMMITTED,
    DROPPED,
    FAILED,
    FETCH_FAILED,
    NOT_REACHED,
    NOT_WRITTEN,
    Ledger,
)
from hltv_scraper.ledger.sources import LeasedUnits, ResultsListing, Waiting

__all__ = [
    "ALREADY_STORED",
    "COMMITTED",
    "DROPPED",
    "FAILED",
    "FETCH_FAILED",
    "NOT_REACHED",
    "NOT_WRITTEN",
    "LeasedUnits",
    "Ledger",
    "ResultsListing",
    "SpiderArgumentError",
    "Waiting",
]
