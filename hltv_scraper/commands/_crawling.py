"""What ``scrapy crawl`` and ``scrapy collect`` share: the exit status a close reason means,
and catching the expected mistakes a crawl raises while it is being built.

A crawl's spider and components are built inside the reactor, in a task Scrapy starts;
a ``UsageError`` raised there (a bad ``-a`` argument or ``HLTV_*`` setting) would only be
logged by asyncio as "Task exception was never retrieved", under a traceback, and the
process would exit 0 or 1. :func:`watch` takes it from the task instead, so the command
can print it as one line, last, with exit status 2.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from hltv_scraper.brakes import (
    CLOSE_REASON_DATABASE,
    CLOSE_REASON_LAYOUT,
    CLOSE_REASON_NOTHING,
    CLOSE_REASON_REFUSED,
)
from hltv_scraper.storage import DatabaseUnavailable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: The close reasons of the brakes: the crawl stopped before its work was done.
BRAKES = frozenset({
    CLOSE_REASON_REFUSED, "hltv_site_unreachable", CLOSE_REASON_LAYOUT, CLOSE_REASON_DATABASE,
    CLOSE_REASON_NOTHING,
})
#: Scrapy's close reason after Ctrl-C (or SIGTERM, as scrapyd's cancel sends).
INTERRUPTED = "shutdown"


def say_where(settings: Any, config: Any) -> None:
    """The crawl's first line: its database and archive. On the terminal it comes before
    Scrapy's own start-up lines; into a log file (scrapyd's), it is logged there."""
    if settings.get("LOG_FILE"):
        logger.info(config.where())
    else:
        print(config.where(), file=sys.stderr, flush=True)


def is_mistake(error: BaseException) -> bool:
    """Is this error a mistake in the user's input, to be printed as one line?"""
    from scrapy.exceptions import UsageError

    return isinstance(error, (UsageError, DatabaseUnavailable))


def finish_reason(crawler: Crawler) -> str | None:
    """The crawl's close reason, None if it never closed (a forced second Ctrl-C)."""
    return crawler.stats.get_value("finish_reason") if crawler.stats else None


def committed(crawler: Crawler) -> int:
    """Units the crawl committed (``hltv/<units>/committed``)."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return sum(value for key, value in stats.items()
               if key.startswith("hltv/") and key.endswith("/committed") and key.count("/") == 2)


def exit_status(reason: str | None) -> int:
    """0 when the crawl's work is done, 1 when a brake or Ctrl-C stopped it."""
    return 1 if reason is None or reason in BRAKES or reason == INTERRUPTED else 0


def watch(running: Any, mistakes: list[BaseException]) -> None:
    """Take a mistake raised by a crawl's task (asyncio) or deferred (Twisted) into
    ``mistakes``; any other error is a bug and is logged with its traceback."""
    if hasattr(running, "addErrback"):
        running.addErrback(_from_failure, mistakes)
    else:
        running.add_done_callback(lambda task: _from_task(task, mistakes))


def _from_task(task: Any, mistakes: list[BaseException]) -> None:
    if task.cancelled():
        return
    error = task.exception()  # taken: asyncio no longer reports it as never retrieved
    if error is None:
        return
    if is_mistake(error):
        mistakes.append(error)
    else:
        logger.error("The crawl could not run", exc_info=(type(error), error, error.__traceback__))


def _from_failure(failure: Any, mistakes: list[BaseException]) -> Any:
    if is_mistake(failure.value):
        mistakes.append(failure.value)
        return None
    return failure
