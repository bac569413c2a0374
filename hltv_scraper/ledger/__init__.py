"""The unit ledger: one object per crawl that owns its units.

Spiders only route requests; the pipeline asks the ledger whether a unit is whole and
hands it to storage. Where units come from (claimed leases, or the results listing
walked page by page) is the ledger's source; the spider arguments that choose them are
read in :mod:`hltv_scraper.ledger.arguments`, before any database is opened.

The package imports none of its modules: each user imports the one it needs, so that
reaching the arguments does not pull in storage.
"""
