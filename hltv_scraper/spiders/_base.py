"""What every stage's spider shares: it routes each unit's pages to their parsers.

A stage's spider is its declaration (``stage``, :mod:`hltv_scraper.stages`): the pages
one unit needs with their URLs and parsers, and where its units come from (its unit
source: leases claimed from the database, or a walk of pages). The spiders are made
from the registry (:mod:`hltv_scraper.spiders.stages`). The units themselves, in flight and settled, are the crawl's
:class:`~hltv_scraper.ledger.ledger.Ledger`, which the spider builds once its ``-a``
arguments are checked. For each unit the ledger hands out, the spider requests every
page; each request ends in exactly one item for the pipeline: the parsed page, or a
:class:`PageFailure` saying why there is none.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request, Spider, signals
from scrapy.exceptions import CloseSpider

from hltv_scraper.brakes import nothing_fetched
from hltv_scraper.fetch.errors import failure_reason
from hltv_scraper.items import PageFailure
from hltv_scraper.ledger.arguments import passed_by_scrapyd, positive_int, whole_number
from hltv_scraper.ledger.ledger import Ledger
from hltv_scraper.parsers import ParseError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure
    from typing_extensions import Self

    from hltv_scraper.ledger.sources import UnitSource
    from hltv_scraper.stages import Page, Stage
    from hltv_scraper.storage import Unit

__all__ = ["UnitSpider", "positive_int", "whole_number"]

logger = logging.getLogger(__name__)


class UnitSpider(Spider):
    #: The stage's declaration: its unit, its pages, its storage.
    stage: ClassVar[Stage]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Read (and refused) here, before from_crawler opens anything.
        self.units_from = self.check_arguments(kwargs)
        super().__init__(*args, **{name: value for name, value in kwargs.items() if passed_by_scrapyd(name)})
        self._unscheduled: set[tuple[int, str]] = set()  # yielded, not yet scheduled

    @classmethod
    def check_arguments(cls, arguments: dict[str, Any]) -> UnitSource:
        """The unit source the ``-a`` arguments choose; a bad or unknown one is a
        UsageError. Pure: the crawl command calls it before Scrapy starts anything."""
        ours = {name: value for name, value in arguments.items() if not passed_by_scrapyd(name)}
        unit = cls.stage.unit
        return unit.source.from_arguments(
            cls.name, ours, named_argument=unit.named_argument, adding_hint=unit.adding_hint
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.ledger = Ledger.build(crawler, stage=cls.stage, source=spider.units_from)
        crawler.signals.connect(spider._scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Request | PageFailure]:
        async for unit in self.ledger.units():
            for page in self.stage.pages:
                request = self.page_request(unit, page)
                self._unscheduled.add((unit.id, page.name))
                yield request
                # The engine takes start() output one at a time: by now the request
                # is scheduled, or a middleware dropped it (URLLENGTH_LIMIT does)
                # without an errback, and nothing else would ever resolve its page.
                if (unit.id, page.name) in self._unscheduled:
                    self._unscheduled.discard((unit.id, page.name))
                    yield self._dropped(unit, page.name, request)

    def page_request(self, unit: Unit, page: Page) -> Request:
        return Request(
            page.url(self.ledger.config.base_url, unit),
            callback=self.parse_page,
            errback=self.page_not_fetched,
            cb_kwargs={"unit": unit, "page": page.name},
            meta={
                "hltv_page": page.name,
                "hltv_unit": unit.id,
                # what fetching checks a body against, and whether the archive may serve it
                "hltv_markers": page.markers,
                "hltv_changes": page.changes(unit.id),
                # a unit read again, or whose last attempt failed, is fetched anew
                "hltv_fetch_anew": unit.fetch_anew,
            },
            dont_filter=True,  # a unit is requested once per crawl by construction
        )

    # -- outcomes -------------------------------------------------------------------

    def parse_page(self, response: Response, unit: Unit, page: str) -> Any:
        try:
            item = self.ledger.parsed(unit, self.stage.page(page).parse(response))
        except ParseError as exc:
            item = self._failure(unit, page, PageFailure.PARSE, str(exc), response.url)
        except Exception as exc:  # a parser bug must not retry the unit forever
            logger.exception("Parser crashed on %s", response.url)
            reason = f"parser crashed: {type(exc).__name__}: {exc}"
            item = self._failure(unit, page, PageFailure.PARSE, reason, response.url)
        else:
            item.unit_id = unit.id
            self.crawler.stats.inc_value(f"hltv/pages/parsed/{page}")
        yield item

    def page_not_fetched(self, failure: Failure) -> Any:
        request = failure.request
        unit, page = request.cb_kwargs["unit"], request.cb_kwargs["page"]
        reason = failure_reason(failure)
        logger.warning("Could not fetch the %s page of %s: %s", page, self.ledger.label(unit.id), reason)
        yield self._failure(unit, page, PageFailure.FETCH, reason, request.url)

    def _idle(self, spider: Spider) -> None:
        """Nothing left to do: a crawl that fetched nothing of what it asked for did not
        finish (exit status 1), however few its units."""
        ledger = self.ledger
        counts = {key: ledger.stats.get_value(f"hltv/{ledger.units_name}/{key}", 0)
                  for key in ("requested", "fetch_failed")}
        stop = nothing_fetched(ledger.units_name, counts, dict(ledger.fetch_reasons))
        if stop is not None:
            logger.error("Stopping: %s", stop.message)
            ledger.stats.set_value("hltv/stopped_because", stop.message)
            raise CloseSpider(stop.reason)

    def _scheduled(self, request: Request, spider: Spider) -> None:
        self._unscheduled.discard((request.meta.get("hltv_unit"), request.meta.get("hltv_page")))

    def _dropped(self, unit: Unit, page: str, request: Request) -> PageFailure:
        logger.warning(
            "The %s page of %s was dropped before download by a middleware "
            "(is %s longer than URLLENGTH_LIMIT?); it stays pending",
            page, self.ledger.label(unit.id), request.url,
        )
        return self._failure(unit, page, PageFailure.FETCH, "dropped_before_download", request.url)

    def _failure(self, unit: Unit, page: str, kind: str, reason: str, url: str) -> PageFailure:
        self.crawler.stats.inc_value(f"hltv/pages/{kind}_failed/{page}")
        return PageFailure(unit_id=unit.id, page=page, kind=kind, reason=reason, url=url)
