"""Spiders that only end, one way each, for the tests of how `scrapy crawl` exits.

Selected with ``-s SPIDER_MODULES=tests.support.spiders``; they fetch nothing.
"""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider, UsageError

from hltv_scraper.storage import DatabaseUnavailable


class Mistake(scrapy.Spider):
    """A bad argument, found while the spider is built."""

    name = "mistake"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Mistake:
        raise UsageError(f"-a limit= takes a whole number, got {kwargs.get('limit')!r}")


class Unavailable(scrapy.Spider):
    """A database that cannot be opened."""

    name = "unavailable"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Unavailable:
        raise DatabaseUnavailable("cannot open the database postgresql://u:***@127.0.0.1:1/db: Connection refused")


class Bug(scrapy.Spider):
    """A bug: it keeps its traceback."""

    name = "bug"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Bug:
        raise RuntimeError("a bug in the spider")


class Closes(scrapy.Spider):
    """Closes at once with ``-a reason=...`` (``finished`` when none is given)."""

    name = "closes"
    reason: str | None = None

    async def start(self) -> Any:
        if self.reason:
            raise CloseSpider(self.reason)
        return
        yield
