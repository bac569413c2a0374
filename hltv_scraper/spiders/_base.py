"""What every map spider shares: which maps to request, and how a page's outcome is told.

A map spider names its ``stage`` and the ``pages`` that make one map whole. For each
map it requests every page; each request ends in exactly one item for the pipeline: the
parsed page, or a :class:`PageFailure` saying why there is none. The pipeline pairs
them by mapstatsid and decides what is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request, Spider, signals
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from hltv_scraper.browser import apply_browser_settings
from hltv_scraper.config import HltvConfig
from hltv_scraper.items import PageFailure
from hltv_scraper.middlewares import PageRefused
from hltv_scraper.parsers import ParseError
from hltv_scraper.site import page_url
from hltv_scraper.storage import Database, MapKey

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: The reason a crawl closes with when the site keeps refusing us.
CLOSE_REASON_REFUSED = "hltv_fetch_failures"


class MapPagesSpider(Spider):
    #: Stage name: whose attempt counter and pending query apply.
    stage: ClassVar[str]
    #: page name -> parser (a plain function of a response).
    parsers: ClassVar[dict[str, Callable[[Response], Any]]]

    def __init__(self, *args: Any, limit: str | None = None, mapstatsid: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = _positive_int("limit", limit) if limit is not None else None
        self.mapstatsids = _id_list(mapstatsid) if mapstatsid else None
        self._in_flight: dict[int, int] = {}  # mapstatsid -> its pages not yet resolved
        self._room = asyncio.Event()  # set whenever a map leaves _in_flight
        self._unfetched: set[int] = set()  # maps in flight with a page not fetched
        self._unfetched_in_a_row = 0  # maps resolved in a row with a page not fetched
        self._unscheduled: set[tuple[int, str]] = set()  # yielded, not yet scheduled

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        apply_browser_settings(settings)  # HLTV_BROWSER=1: pages through Chromium

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = HltvConfig.from_settings(crawler.settings)
        spider.db = Database.open(spider.config.db_path)
        if spider.mapstatsids:
            try:
                spider.db.maps_by_mapstatsid(spider.mapstatsids)
            except KeyError as exc:
                spider.db.close()
                raise ValueError(
                    f"mapstatsid {', '.join(map(str, exc.args[0]))} not in the database "
                    f"{spider.config.db_path} (add maps with `scrapy addmaps`)"
                ) from None
        crawler.signals.connect(spider._log_summary, signal=signals.spider_closed)
        crawler.signals.connect(spider._scheduled, signal=signals.request_scheduled)
        return spider

    # -- which maps -----------------------------------------------------------------

    def maps(self) -> Iterable[MapKey]:
        """The maps named with ``-a mapstatsid``, else the stage's pending maps, streamed."""
        if self.mapstatsids:
            return self.db.maps_by_mapstatsid(self.mapstatsids)
        return self.db.iter_pending(self.stage, max_attempts=self.config.max_attempts)

    async def start(self) -> AsyncIterator[Request]:
        stats = self.crawler.stats
        if not self.mapstatsids:
            pending = self.db.count_pending(self.stage, max_attempts=self.config.max_attempts)
            stats.set_value("hltv/maps/pending_at_start", min(pending, self.limit or pending))
        for count, key in enumerate(self.maps()):
            if self.limit is not None and count >= self.limit:
                break
            while len(self._in_flight) >= self.config.maps_in_flight:
                self._room.clear()
                await self._room.wait()
            self._in_flight[key.mapstatsid] = len(self.parsers)
            stats.inc_value("hltv/maps/requested")
            for page in self.parsers:
                request = self.page_request(key, page)
                self._unscheduled.add((key.mapstatsid, page))
                yield request
                # The engine takes start() output one at a time: by now the request
                # is scheduled, or a middleware dropped it (URLLENGTH_LIMIT does)
                # without an errback, and nothing else would ever resolve its page.
                if (key.mapstatsid, page) in self._unscheduled:
                    self._unscheduled.discard((key.mapstatsid, page))
                    yield self._dropped(key, page, request)

    def page_request(self, key: MapKey, page: str) -> Request:
        meta = {"hltv_page": page, "mapstatsid": key.mapstatsid}
        return Request(
            page_url(self.config.base_url, page, key.mapstatsid, key.slug),
            callback=self.parse_page,
            errback=self.page_not_fetched,
            cb_kwargs={"key": key, "page": page},
            meta=meta,
            dont_filter=True,  # a map is requested once per crawl by construction
        )

    # -- outcomes -------------------------------------------------------------------

    def parse_page(self, response: Response, key: MapKey, page: str) -> Any:
        try:
            item = self.parsers[page](response)
        except ParseError as exc:
            item = self._failure(key, page, PageFailure.PARSE, str(exc), response.url)
        except Exception as exc:  # a parser bug must not retry the map forever
            logger.exception("Parser crashed on %s", response.url)
            reason = f"parser crashed: {type(exc).__name__}: {exc}"
            item = self._failure(key, page, PageFailure.PARSE, reason, response.url)
        else:
            item.mapstatsid = key.mapstatsid
            self.crawler.stats.inc_value(f"hltv/pages/parsed/{page}")
        yield item
        self._resolved(key, fetched=True)

    def page_not_fetched(self, failure: Failure) -> Any:
        request = failure.request
        key, page = request.cb_kwargs["key"], request.cb_kwargs["page"]
        reason = _fetch_failure_reason(failure)
        logger.warning("Could not fetch %s page of map %s: %s", page, key.mapstatsid, reason)
        yield self._failure(key, page, PageFailure.FETCH, reason, request.url)
        # a replay gap is not the site pushing back
        self._resolved(key, fetched=reason == "not_in_archive")

    def _scheduled(self, request: Request, spider: Spider) -> None:
        self._unscheduled.discard((request.meta.get("mapstatsid"), request.meta.get("hltv_page")))

    def _dropped(self, key: MapKey, page: str, request: Request) -> PageFailure:
        logger.warning(
            "The %s page of map %s was dropped before download by a middleware "
            "(is %s longer than URLLENGTH_LIMIT?); the map stays pending",
            page, key.mapstatsid, request.url,
        )
        failure = self._failure(key, page, PageFailure.FETCH, "dropped_before_download", request.url)
        self._resolved(key, fetched=True)  # our settings, not the site pushing back
        return failure

    def _failure(self, key: MapKey, page: str, kind: str, reason: str, url: str) -> PageFailure:
        self.crawler.stats.inc_value(f"hltv/pages/{kind}_failed/{page}")
        return PageFailure(mapstatsid=key.mapstatsid, page=page, kind=kind, reason=reason, url=url)

    def _resolved(self, key: MapKey, *, fetched: bool) -> None:
        """One more page of ``key`` has its outcome; stop the crawl once too many maps
        in a row could not be fetched."""
        if not fetched:
            self._unfetched.add(key.mapstatsid)
        left = self._in_flight.get(key.mapstatsid, 1) - 1
        if left > 0:
            self._in_flight[key.mapstatsid] = left
            return
        self._in_flight.pop(key.mapstatsid, None)
        self._room.set()
        if key.mapstatsid not in self._unfetched:
            self._unfetched_in_a_row = 0
            return
        self._unfetched.discard(key.mapstatsid)
        self._unfetched_in_a_row += 1
        if self._unfetched_in_a_row >= self.config.max_fetch_failures:
            logger.error(
                "Stopping: %d maps in a row could not be fetched. The site is refusing "
                "us; pending maps stay pending for a later run.",
                self._unfetched_in_a_row,
            )
            raise CloseSpider(CLOSE_REASON_REFUSED)

    def _log_summary(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()

        def count(key: str) -> int:
            return stats.get(f"hltv/{key}", 0)

        logger.info(
            "%s finished (%s): %d maps requested, %d committed, %d failed, %d left "
            "pending by fetch failures, %d incomplete halves dropped",
            self.name,
            reason,
            count("maps/requested"),
            count("maps/committed"),
            count("maps/failed"),
            count("maps/fetch_failed"),
            count("maps/dropped_incomplete"),
        )
        self.db.close()


def _fetch_failure_reason(failure: Failure) -> str:
    exc = failure.value
    if isinstance(exc, PageRefused):
        return exc.reason
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest) and "not in cache" in str(exc):
        return "not_in_archive"
    return type(exc).__name__


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"-a {name}= takes a whole number, got {value!r}") from None
    if number < 1:
        raise ValueError(f"-a {name}= must be at least 1, got {number}")
    return number


def _id_list(value: str) -> list[int]:
    ids = []
    for part in value.split(","):
        part = part.strip()
        if not part.isdigit():
            raise ValueError(f"-a mapstatsid= takes ids separated by commas, got {part!r}")
        ids.append(int(part))
    return list(dict.fromkeys(ids))
