"""A map as both map stages see it: leased from the maps table, named by its mapstatsid."""

from __future__ import annotations

from hltv_scraper.ledger.sources import LeasedUnits
from hltv_scraper.stages.stage import UnitKind

MAPS = UnitKind(
    called="maps",
    label="map {}".format,
    source=LeasedUnits,
    named_argument="mapstatsid",
    adding_hint="add maps with `scrapy addmaps`",
)
