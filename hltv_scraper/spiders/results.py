"""The results stage: HLTV's results listing, newest first, into matches to collect.

Run ``scrapy crawl results [-a since=YYYY-MM-DD] [-a until=YYYY-MM-DD] [-a offset=N]
[-a pages=N] [-a full=1]``. Pages are read one after the other from ``offset`` (steps
of 100), each written in one transaction, until the first of: ``pages`` pages read; a
page whose entries are all older than ``since``; the last page; and, unless ``full``, a
page on which every match is already known (so a scheduled run reads a page or two).
Entries completed after ``until`` are skipped. A page that cannot be fetched or parsed
stops the crawl and writes nothing of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from typing import Any

from hltv_scraper.items import RESULTS, ResultsPage
from hltv_scraper.parsers.results import parse_results
from hltv_scraper.spiders._base import UnitSpider, positive_int, whole_number
from hltv_scraper.storage import Unit
from hltv_scraper.storage.stages import RESULTS_STAGE

logger = logging.getLogger(__name__)

_DAY_MS = 86_400_000


class ResultsSpider(UnitSpider):
    name = "results"
    stage = RESULTS_STAGE
    parsers = {RESULTS: parse_results}
    units_name = "results_pages"
    #: Pages follow one another: a page we cannot read leaves no way on.
    first_failure_stops = True

    def __init__(
        self,
        *args: Any,
        since: str | None = None,
        until: str | None = None,
        offset: str | None = None,
        pages: str | None = None,
        full: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.since_ms = day_start_ms("since", since) if since else None
        self.until_ms = day_start_ms("until", until) + _DAY_MS if until else None  # exclusive
        if self.since_ms is not None and self.until_ms is not None and self.until_ms <= self.since_ms:
            raise ValueError(f"-a until={until} is before -a since={since}")
        self.offset = whole_number("offset", offset, minimum=0) if offset is not None else 0
        self.pages = positive_int("pages", pages) if pages is not None else None
        self.full = _flag("full", full)
        self._next_offset: int | None = None

    async def units(self) -> AsyncIterator[Unit]:
        offset, read = self.offset, 0
        while True:
            self._next_offset = None
            yield Unit(id=offset)
            read += 1
            await self.settled()
            if offset in self.left_pending:  # fetched or parsed but not stored
                logger.error("Results page at offset %d was not stored: stopping", offset)
                self.crawler.stats.set_value("hltv/results_pages/stopped_because", "a page was not stored")
                return
            if self._next_offset is None:
                return
            if self.pages is not None and read >= self.pages:
                logger.info("Read %d results pages (-a pages=%d): stopping", read, self.pages)
                return
            offset = self._next_offset

    async def settled(self) -> None:
        """Wait until the page in flight has its outcome."""
        while self._in_flight:
            self._room.clear()
            await self._room.wait()

    def parsed(self, unit: Unit, page: ResultsPage) -> ResultsPage:
        """Decide whether to read on, and keep only the entries in the date window."""
        entries = page.entries
        known = self.db.known_match_ids([entry.match_id for entry in entries])
        stop = self._stop_reason(page, known)
        if stop:
            logger.info("Results page at offset %d: %s: stopping", unit.id, stop)
            self.crawler.stats.set_value("hltv/results_pages/stopped_because", stop)
        else:
            self._next_offset = page.next_offset
        page.entries = [entry for entry in entries if self._in_window(entry.completed_unix_ms)]
        skipped = len(entries) - len(page.entries)
        if skipped:
            self.crawler.stats.inc_value("hltv/results_pages/entries_outside_dates", skipped)
        return page

    def _stop_reason(self, page: ResultsPage, known: set[int]) -> str | None:
        entries = page.entries
        if not entries:
            return "no entries (past the end of the listing)"
        if self.since_ms is not None and all(
            e.completed_unix_ms is not None and e.completed_unix_ms < self.since_ms for e in entries
        ):
            return "every entry is older than -a since"
        if not self.full and all(e.match_id in known for e in entries):
            return "every match on it is already known (-a full=1 reads on)"
        if page.next_offset is None:
            return "the last page of the listing"
        return None

    def _in_window(self, completed_unix_ms: int | None) -> bool:
        if completed_unix_ms is None:
            return True  # no time to judge it by: keep it
        if self.since_ms is not None and completed_unix_ms < self.since_ms:
            return False
        return self.until_ms is None or completed_unix_ms < self.until_ms


def day_start_ms(name: str, value: str) -> int:
    """Midnight UTC of a ``YYYY-MM-DD`` day, in ms since the epoch."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"-a {name}= takes a day as YYYY-MM-DD, got {value!r}") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)


def _flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no", ""):
        return False
    raise ValueError(f"-a {name}= takes 1 or 0, got {value!r}")
