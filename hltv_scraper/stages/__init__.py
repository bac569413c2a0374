"""The registry of stages: the one list every other module derives the stages from.

A stage is declared once, in its own module here (:class:`~hltv_scraper.stages.stage.Stage`);
naming it in :data:`STAGES` is what makes it a spider, a step of ``scrapy collect``, a
line of ``scrapy summary``, a ``--stage`` of ``scrapy requeue``, and its pages' URLs
known to the archive. ``rankings`` is the example to follow for a new one.
"""

from __future__ import annotations

from hltv_scraper.stages.map_stats import MAP_STATS
from hltv_scraper.stages.matches import MATCHES
from hltv_scraper.stages.perf_economy import PERF_ECONOMY
from hltv_scraper.stages.rankings import RANKINGS
from hltv_scraper.stages.results import RESULTS_STAGE
from hltv_scraper.stages.stage import Page, Stage, UnitKind

__all__ = ["PAGES", "STAGES", "Page", "Stage", "UnitKind", "claimable", "page_of_url", "tracked"]

#: In the order a collection runs them.
STAGES: dict[str, Stage] = {
    stage.name: stage for stage in (RESULTS_STAGE, MATCHES, MAP_STATS, PERF_ECONOMY, RANKINGS)
}

#: Every page of every stage, by page name.
PAGES: dict[str, Page] = {page.name: page for stage in STAGES.values() for page in stage.pages}


def tracked() -> list[Stage]:
    """The stages whose units are rows (counted, requeued, stored by parser version)."""
    return [stage for stage in STAGES.values() if stage.rows is not None]


def claimable() -> list[Stage]:
    """The stages whose units wait in their table to be claimed (a walk's never do)."""
    return [stage for stage in tracked() if stage.rows is not None and not stage.rows.made_by_writer]


def page_of_url(url: str) -> tuple[str, int] | None:
    """``(page name, unit id)`` for a page URL of any stage, whatever its host and slug."""
    for page in PAGES.values():
        unit_id = page.unit_of_url(url)
        if unit_id is not None:
            return page.name, unit_id
    return None
