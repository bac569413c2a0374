"""When a crawl stops by itself: the site refusing us, not there at all, or its pages no
longer parsing. This is the one home of those rules; fetching (``hltv_scraper.fetch``)
only reports what it saw (refusals, unreachable addresses, every proxy benched) and
never imports this module.

All are streaks over units of work in the order they resolve:

- ``HLTV_MAX_FETCH_FAILURES`` units in a row with a page the site would not give us stop
  the crawl as ``hltv_fetch_failures``: hammering a site that refuses us gets us banned.
- ``HLTV_MAX_UNREACHABLE`` units in a row whose failed pages reached nothing (reasons
  ``unreachable: ...``: connection refused, no such host, connect timeout) stop it as
  ``hltv_site_unreachable``, with the address and the error: no Cloudflare advice, as
  the site never answered. Unreachable pages are not retried (``fetch/refusals.py``),
  so at the default pacing (one request per 3-5 s) a crawl that reaches nothing
  stops within half a minute of its first request.
- ``HLTV_MAX_PARSE_FAILURES`` units in a row failing to parse on the same page kind stop
  it as ``hltv_layout_changed``: one broken page is that page, a streak is the site's new
  layout. Those units lose no attempt (the caller refunds them): nothing is wrong with
  them that a parser fix will not mend.

And one verdict over the whole crawl: a crawl that asked for pages, stored nothing and
fetched none (every page missing, not the page asked for, or unreachable) did not
finish, however few its units: it closes as ``hltv_nothing_fetched`` (or
``hltv_site_unreachable`` when nothing answered), exit status 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scrapy.utils.defer import deferred_from_coro

from hltv_scraper.fetch.errors import UNREACHABLE, NotSent, drop_unsent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.exc import DBAPIError

    from hltv_scraper.config import HltvConfig

logger = logging.getLogger(__name__)

CLOSE_REASON_REFUSED = "hltv_fetch_failures"
#: Nothing answered at the site's address (or any proxy's): not the site refusing us.
CLOSE_REASON_UNREACHABLE = "hltv_site_unreachable"
CLOSE_REASON_LAYOUT = "hltv_layout_changed"
#: The database refuses writes (disk full, read-only, gone): every unit would fail alike.
CLOSE_REASON_DATABASE = "hltv_database_error"
#: Every unit asked for failed to fetch: the crawl stored nothing (see nothing_fetched).
CLOSE_REASON_NOTHING = "hltv_nothing_fetched"
#: What the fetch failures that fill a crawl which stored nothing most likely mean.
_NOTHING_HINTS = {
    "not_in_archive": "the archive (HLTV_ARCHIVE_DIR) has none of them",
    "http_404": "the site says they do not exist",
    "http_410": "the site says they are gone",
    "not_the_page": "the site answered with other pages",
    UNREACHABLE: "nothing answered: check HLTV_BASE_URL and the network",
}
#: Fetch failures that are not the site pushing back: a gap in the archive we replay, a
#: request our own settings dropped, a page the site says does not exist.
NOT_REFUSALS = frozenset({"not_in_archive", "dropped_before_download", "http_404", "http_410", NotSent.reason})


@dataclass
class Stop:
    reason: str
    message: str
    #: units whose parse failures must not cost an attempt
    refund: list[int] = field(default_factory=list)


def fetch_verdict(reasons: list[str]) -> tuple[bool, str | None]:
    """For a unit's fetch failure reasons: whether the site refused us, and, when every
    one of them reached nothing, the last such reason (else None)."""
    unreachable = [reason for reason in reasons if reason.startswith(UNREACHABLE)]
    refused = any(reason not in NOT_REFUSALS and not reason.startswith(UNREACHABLE) for reason in reasons)
    return refused, (unreachable[-1] if unreachable and len(unreachable) == len(reasons) else None)


class Brakes:
    def __init__(
        self, *, max_fetch_failures: int | None, max_parse_failures: int, max_unreachable: int | None = None
    ) -> None:
        self.max_fetch_failures = max_fetch_failures  # None: another rule decides (proxies)
        self.max_parse_failures = max_parse_failures
        self.max_unreachable = max_unreachable  # None: another rule decides (proxies)
        self._not_fetched_in_a_row = 0
        self._unreachable_in_a_row = 0
        self._parse_failed_in_a_row: dict[str, list[int]] = {}  # page -> units
        self._braked: set[str] = set()  # pages a layout stop was called for

    @classmethod
    def for_crawl(cls, config: HltvConfig, *, first_failure_stops: bool = False) -> Brakes:
        """The brakes of a crawl: with proxies, a refusing or unreachable address is
        benched instead, and the crawl stops when all are (``fetch/proxies.py``)."""
        proxies = bool(config.proxies.proxies)
        return cls(
            max_fetch_failures=1 if first_failure_stops else None if proxies else config.max_fetch_failures,
            max_parse_failures=1 if first_failure_stops else config.max_parse_failures,
            max_unreachable=1 if first_failure_stops else None if proxies else config.max_unreachable,
        )

    def resolved(
        self,
        unit_id: int,
        *,
        pages: tuple[str, ...],
        refused: bool,
        parse_failures: dict[str, str],
        unreachable: str | None = None,
    ) -> Stop | None:
        """Account for one resolved unit: ``refused`` when the site would not give a
        page, ``unreachable`` the reason when its failed pages reached nothing,
        ``parse_failures`` page -> reason. A :class:`Stop` when a streak is long enough."""
        if unreachable:
            self._unreachable_in_a_row += 1
            limit = self.max_unreachable
            if limit is not None and self._unreachable_in_a_row >= limit:
                return Stop(
                    CLOSE_REASON_UNREACHABLE,
                    f"{self._unreachable_in_a_row} units in a row could not reach the site, the "
                    f"last with {unreachable}. Nothing answered there: check HLTV_BASE_URL and "
                    "the network. Pending units stay pending for a later run.",
                )
            return None
        self._unreachable_in_a_row = 0
        if refused:
            self._not_fetched_in_a_row += 1
            limit = self.max_fetch_failures
            if limit is not None and self._not_fetched_in_a_row >= limit:
                return Stop(
                    CLOSE_REASON_REFUSED,
                    f"{self._not_fetched_in_a_row} units in a row could not be fetched: the "
                    "site is refusing us. Pending units stay pending for a later run.",
                )
            return None
        self._not_fetched_in_a_row = 0
        for page in pages:
            streak = self._parse_failed_in_a_row.setdefault(page, [])
            if page not in parse_failures:
                streak.clear()
                continue
            streak.append(unit_id)
            if page in self._braked or len(streak) >= self.max_parse_failures:
                # Units still in flight when the stop was called fail alike: refund them too.
                refund, streak[:] = list(streak), []
                self._braked.add(page)
                return Stop(
                    CLOSE_REASON_LAYOUT,
                    f"{self.max_parse_failures} units in a row failed to parse on the {page} "
                    f"page, the last because {parse_failures[page]!r}: HLTV has probably "
                    "changed the page's layout. Their attempts are not counted; update the "
                    "parser (a new parser version makes failed units pending again) and run again.",
                    refund=refund,
                )
        return None


def nothing_fetched(units: str, counts: dict[str, int], reasons: dict[str, int]) -> Stop | None:
    """The verdict on a crawl with nothing left to do: a :class:`Stop` when it asked for
    units and every one failed to fetch (``counts``: the ledger's buckets, ``reasons``:
    fetch failure reason -> pages), else None."""
    requested = counts.get("requested", 0)
    if not requested or counts.get("fetch_failed", 0) != requested:
        return None
    unreachable = all(reason.startswith(UNREACHABLE) for reason in reasons)
    shown = ", ".join(f"{reason}: {count}" for reason, count in sorted(reasons.items(), key=lambda r: -r[1]))
    top = max(reasons, key=reasons.__getitem__, default="")
    hint = _NOTHING_HINTS.get(UNREACHABLE if top.startswith(UNREACHABLE) else top)
    plural = units.replace("_", " ")
    asked = f"all {requested} {plural}" if requested > 1 else f"the one {plural[:-2] if plural.endswith('ches') else plural[:-1]}"
    return Stop(
        CLOSE_REASON_UNREACHABLE if reasons and unreachable else CLOSE_REASON_NOTHING,
        f"nothing was stored: {asked} asked for could not be fetched ({shown})"
        f"{f'; {hint}' if hint else ''}",
    )


def benched_everywhere(*, unreachable: bool, message: str) -> Stop:
    """The stop of a crawl whose every proxy is benched (``fetch/proxies.py`` says so)."""
    return Stop(CLOSE_REASON_UNREACHABLE if unreachable else CLOSE_REASON_REFUSED, message)


def close_crawl(crawler: Crawler, reason: str) -> None:
    """Close the crawl from outside a callback (a pipeline, a signal handler). A crawl
    that reached nothing sends nothing more: the requests still waiting for their turn
    would each cost a download delay of the close, to learn the same."""
    deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
    if reason == CLOSE_REASON_UNREACHABLE:
        drop_unsent(crawler)


def database_refused(crawler: Crawler, location: str, exc: DBAPIError, what: str) -> None:
    """Say once, clearly, that the database refuses writes, and stop the crawl."""
    logger.error(
        "Cannot write to the database %s: %s. %s; stopping the crawl.", location, exc.orig, what
    )
    close_crawl(crawler, CLOSE_REASON_DATABASE)
