"""The results stage: HLTV's results listing, newest first, into matches to collect.

``scrapy crawl results [-a since=YYYY-MM-DD] [-a until=YYYY-MM-DD] [-a offset=N]
[-a pages=N] [-a full=1]``. Pages are read one after the other from ``offset`` (steps
of 100), each written in one transaction, until the first of: ``pages`` pages read; a
page whose entries are all older than ``since``; the last page; and, unless ``full``, a
page on which every match is already known (so a scheduled run reads a page or two).
Entries completed after ``until`` are skipped. A page that cannot be fetched or parsed
stops the crawl and writes nothing of it. The walk is :class:`ResultsListing`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from hltv_scraper.items import RESULTS, ResultsPage, ResultsPages, Unit
from hltv_scraper.ledger.arguments import (
    SpiderArgumentError,
    day_end_ms,
    day_start_ms,
    flag,
    positive_int,
    reject_unknown,
    whole_number,
)
from hltv_scraper.ledger.sources import Walk
from hltv_scraper.parsers.results import parse_results
from hltv_scraper.stages.stage import Page, Stage, UnitKind, id_in, path_url
from hltv_scraper.storage.results import write_results

if TYPE_CHECKING:

    from typing_extensions import Self

    from hltv_scraper.ledger.arguments import CollectOptions
    from hltv_scraper.ledger.sources import SourceContext

logger = logging.getLogger(__name__)


class ResultsListing(Walk):
    """HLTV's results listing, newest first: pages read one after the other from
    ``offset`` (steps of 100), until the first of: ``pages`` pages read; a page whose
    entries are all older than ``since``; the last page; and, unless ``full``, a page
    on which every match is already known. Entries completed after ``until`` are
    skipped. A page that cannot be fetched or parsed stops the walk."""

    what: ClassVar[str] = "page"
    end: ClassVar[str] = "the end of the listing"

    def __init__(
        self, *, since_ms: int | None, until_ms: int | None, offset: int, pages: int | None, full: bool
    ) -> None:
        self.since_ms = since_ms
        self.until_ms = until_ms  # exclusive
        self.offset = offset
        self.pages = pages
        self.full = full
        self._next_offset: int | None = offset

    @staticmethod
    def arguments(named_argument: str | None = None) -> list[str]:
        """The ``-a`` names the results listing takes."""
        return ["since", "until", "offset", "pages", "full"]

    @classmethod
    def from_arguments(cls, spider: str, arguments: dict[str, Any], **_: Any) -> Self:
        reject_unknown(spider, arguments, cls.arguments())
        since, until = arguments.get("since"), arguments.get("until")
        offset, pages = arguments.get("offset"), arguments.get("pages")
        since_ms = day_start_ms("since", since) if since else None
        until_ms = day_end_ms("until", until) if until else None
        if since_ms is not None and until_ms is not None and until_ms <= since_ms:
            raise SpiderArgumentError(f"-a until={until} is before -a since={since}")
        return cls(
            since_ms=since_ms,
            until_ms=until_ms,
            offset=whole_number("offset", offset, minimum=0) if offset is not None else 0,
            pages=positive_int("pages", pages) if pages is not None else None,
            full=flag("full", arguments.get("full")),
        )

    @staticmethod
    def collect_arguments(options: CollectOptions) -> dict[str, str]:
        given = {"since": options.since, "until": options.until, "pages": options.pages}
        return {name: str(value) for name, value in given.items() if value} | ({"full": "1"} if options.full else {})

    def next_unit(self) -> int | None:
        if self._next_offset is None:
            return None
        if self.pages is not None and self._taken >= self.pages:
            logger.info("Read %d results pages (-a pages=%d): stopping", self._taken, self.pages)
            return None
        offset, self._next_offset = self._next_offset, None
        return offset

    def parsed(self, context: SourceContext, unit: Unit, page: ResultsPage) -> ResultsPage:
        """Decide whether to read on, and keep only the entries in the date window."""
        entries = page.entries
        known = context.db.known_match_ids([entry.match_id for entry in entries])
        stop = self._stop_reason(page, known)
        if stop:
            logger.info("%s: %s: stopping", context.label(unit.id).capitalize(), stop)
            context.set_stat("stopped_because", stop)
        else:
            self._next_offset = page.next_offset
        page.entries = [entry for entry in entries if self._in_window(entry.completed_unix_ms)]
        skipped = len(entries) - len(page.entries)
        if skipped:
            context.count("entries_outside_dates", skipped)
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

RESULTS_STAGE = Stage(
    name="results",
    unit=UnitKind(called="results_pages", label="results page at offset {}".format, source=ResultsListing),
    pages=(
        Page(
            RESULTS,
            url=path_url("/results?offset={id}"),
            unit_of_url=id_in(r"/results\?(?:[^#]*&)?offset=(?P<id>\d+)(?:&|#|$)"),
            markers=(b"results-all",),
            parse=parse_results,
            changes=lambda offset: True,
        ),
    ),
    bundle=ResultsPages,
    write=write_results,
)
