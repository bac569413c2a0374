"""The unit ledger: one object per crawl that owns its units.

Spiders only route requests; the pipeline asks the ledger whether a unit is whole and
hands it to storage. Where units come from is the stage's unit source (leases claimed
from the database, :mod:`hltv_scraper.ledger.sources`, or a walk of pages its stage
declares), which the ledger asks for units through a small context; the spider
arguments that choose them are read in :mod:`hltv_scraper.ledger.arguments`, before any
database is opened.

The package imports none of its modules: each user imports the one it needs, so that
reaching the arguments does not pull in storage.
"""
