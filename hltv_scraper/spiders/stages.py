"""A spider per stage of the registry: ``scrapy crawl <stage>``.

Nothing here is a stage's own: each spider is :class:`~hltv_scraper.spiders._base.UnitSpider`
bound to one declaration of :data:`hltv_scraper.stages.STAGES`, under the stage's name
(``ResultsSpider``, ``MatchesSpider``, ``MapStatsSpider``, ``PerfEconomySpider``...).
"""

from __future__ import annotations

from hltv_scraper.spiders._base import UnitSpider
from hltv_scraper.stages import STAGES, Stage


def spider_class(stage: Stage) -> type[UnitSpider]:
    """The spider of ``stage``, named after it."""
    name = "".join(part.capitalize() for part in stage.name.split("_")) + "Spider"
    return type(name, (UnitSpider,), {"name": stage.name, "stage": stage, "__module__": __name__,
                                      "__doc__": f"``scrapy crawl {stage.name}``: see :mod:`hltv_scraper.stages`."})


SPIDERS: dict[str, type[UnitSpider]] = {name: spider_class(stage) for name, stage in STAGES.items()}
globals().update({spider.__name__: spider for spider in SPIDERS.values()})
