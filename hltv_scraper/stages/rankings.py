"""The rankings stage: HLTV's world ranking, one weekly snapshot per unit.

``scrapy crawl rankings [-a since=YYYY-MM-DD] [-a until=YYYY-MM-DD] [-a full=1]``. The
walk starts at the current ranking (``/ranking/teams``) and follows each page's link to
the previous snapshot (``/ranking/teams/2026/december/7``): no date is guessed. It stops
at the first of: a snapshot older than ``since`` (default: a year back); the first
snapshot HLTV links; and, unless ``full``, a snapshot already stored, which it does not
read, so a weekly run reads one page. Snapshots after ``until`` are read for their link
and passed over. A snapshot is written whole or not at all; a page that cannot be read
or stored stops the walk there, as the next would be out of reach.

This module is the example of a stage: its declaration, and how its units are found
(:class:`RankingWalk`). Its parser is :mod:`hltv_scraper.parsers.ranking`, its writer
and unit rows :mod:`hltv_scraper.storage.rankings`, its check
:func:`hltv_scraper.validation.check_ranking`, its tables migration ``0005_rankings``.
"""

from __future__ import annotations

import calendar
import logging
import re
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from hltv_scraper.items import RANKING, PagePassedOver, RankingPage, RankingPages, Unit
from hltv_scraper.ledger.arguments import SpiderArgumentError, a_day, flag, reject_unknown
from hltv_scraper.ledger.sources import Walk
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.ranking import parse_ranking
from hltv_scraper.stages.stage import Page, Stage, UnitKind
from hltv_scraper.storage import rankings
from hltv_scraper.validation import check_ranking

if TYPE_CHECKING:

    from typing_extensions import Self

    from hltv_scraper.ledger.arguments import CollectOptions
    from hltv_scraper.ledger.sources import SourceContext

logger = logging.getLogger(__name__)

#: The unit of the current ranking, whose date the page tells.
LATEST = 0
#: How far back a walk goes without ``-a since=``.
DEFAULT_DAYS_BACK = 365
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_DATED = re.compile(r"/ranking/teams/(\d{4})/([a-z]+)/(\d{1,2})(?:[/?#]|$)", re.I)
_CURRENT = re.compile(r"/ranking/teams/?(?:[?#]|$)")


def snapshot_day(unit_id: int) -> date:
    """The day of a snapshot unit (its id is the date as the number YYYYMMDD)."""
    return date(unit_id // 10000, unit_id // 100 % 100, unit_id % 100)


def unit_of(day: date | str) -> int:
    return rankings.ranking_id(day if isinstance(day, str) else day.isoformat())


def ranking_url(base_url: str, unit: Unit) -> str:
    """``/ranking/teams`` for the current ranking, else the snapshot's dated page
    (``/ranking/teams/2026/december/7``: lower-case month name, no zero padding)."""
    path = "/ranking/teams"
    if unit.id != LATEST:
        day = snapshot_day(unit.id)
        path += f"/{day.year}/{calendar.month_name[day.month].lower()}/{day.day}"
    return base_url.rstrip("/") + path


def ranking_of_url(url: str) -> int | None:
    if found := _DATED.search(url):
        year, month, day = found.groups()
        if month.lower() in _MONTHS:
            try:
                return unit_of(date(int(year), _MONTHS[month.lower()], int(day)))
            except ValueError:
                return None
    return LATEST if _CURRENT.search(url) else None


def label(unit_id: int) -> str:
    """``the current world ranking``, ``world ranking of 2026-12-07``."""
    return "the current world ranking" if unit_id == LATEST else f"world ranking of {snapshot_day(unit_id)}"


class RankingWalk(Walk):
    """The snapshots, newest first, each page leading to the one before it."""

    what: ClassVar[str] = "snapshot"
    end: ClassVar[str] = "the end of the snapshots linked"

    def __init__(self, *, since: date, until: date | None, full: bool) -> None:
        self.since = since
        self.until = until
        self.full = full
        self._next: int | None = LATEST

    @staticmethod
    def arguments(named_argument: str | None = None) -> list[str]:
        return ["since", "until", "full"]

    @classmethod
    def from_arguments(cls, spider: str, arguments: dict[str, Any], **_: Any) -> Self:
        reject_unknown(spider, arguments, cls.arguments())
        since, until = arguments.get("since"), arguments.get("until")
        first = a_day("since", since) if since else _today() - timedelta(days=DEFAULT_DAYS_BACK)
        last = a_day("until", until) if until else None
        if last is not None and last < first:
            raise SpiderArgumentError(f"-a until={until} is before -a since={since or first}")
        return cls(since=first, until=last, full=flag("full", arguments.get("full")))

    @staticmethod
    def collect_arguments(options: CollectOptions) -> dict[str, str]:
        given = {"since": options.since, "until": options.until}
        return {name: str(value) for name, value in given.items() if value}

    def next_unit(self) -> int | None:
        unit_id, self._next = self._next, None
        return unit_id

    def parsed(self, context: SourceContext, unit: Unit, page: RankingPage) -> RankingPage | PagePassedOver:
        """Check the page is the snapshot asked for, decide where the walk goes next,
        and pass over a snapshot outside the dates asked or stored already."""
        day = date.fromisoformat(page.ranking_date or "")
        if unit.id != LATEST and unit_of(day) != unit.id:
            raise ParseError(f"ranking: the page is the snapshot of {day}, not of {snapshot_day(unit.id)}")
        stored = context.db.stored(context.stage, [unit_of(day)] + ([unit_of(page.prev_date)] if page.prev_date else []))
        stop = self._stop_reason(day, page.prev_date, stored)
        if stop:
            logger.info("%s: %s: stopping", label(unit_of(day)).capitalize(), stop)
            context.set_stat("stopped_because", stop)
        else:
            self._next = unit_of(page.prev_date or "")
        passed_over = self._passed_over(day, stored)
        if passed_over:
            logger.info("%s: %s: not stored", label(unit_of(day)).capitalize(), passed_over)
            return PagePassedOver(unit_id=unit.id, page=RANKING, reason=passed_over, url=page.url)
        return page

    def _stop_reason(self, day: date, prev_date: str | None, stored: set[int]) -> str | None:
        if day < self.since:
            return "older than -a since"
        if prev_date is None:
            return "no previous snapshot linked (the first HLTV shows)"
        if date.fromisoformat(prev_date) < self.since:
            return f"the previous snapshot ({prev_date}) is older than -a since={self.since}"
        if not self.full and unit_of(prev_date) in stored:
            return f"the previous snapshot ({prev_date}) is stored already (-a full=1 reads on)"
        return None

    def _passed_over(self, day: date, stored: set[int]) -> str | None:
        if day < self.since:
            return f"before -a since={self.since}"
        if self.until is not None and day > self.until:
            return f"after -a until={self.until}"
        if unit_of(day) in stored:
            return "stored already"
        return None


def _today() -> date:
    return datetime.now(timezone.utc).date()


RANKINGS = Stage(
    name="rankings",
    unit=UnitKind(called="snapshots", label=label, source=RankingWalk),
    pages=(
        Page(
            RANKING,
            url=ranking_url,
            unit_of_url=ranking_of_url,
            markers=(b"ranked-team",),
            parse=parse_ranking,
            changes=lambda unit_id: unit_id == LATEST,
        ),
    ),
    bundle=RankingPages,
    write=rankings.write_rankings,
    rows=rankings.ROWS,
    check=check_ranking,
    counts=rankings.COUNTS,
    exports=rankings.EXPORTS,
    left="{} ranking snapshots",
)
