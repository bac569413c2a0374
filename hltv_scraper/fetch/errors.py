"""What can go wrong fetching a page, at the bottom of the fetch package.

Exceptions a request fails with, the signal a refusal is announced by, and
:func:`failure_reason`: the one rule that names why a request failed. Reasons are short
keys for stats and logs; one that starts with ``unreachable`` means the site (or the
proxy) could not be reached at all: no connection, no such host, no answer to connect.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import exceptions
from scrapy.exceptions import IgnoreRequest
from twisted.internet import error

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Signal sent with ``request`` and ``reason`` for every response refused as not the page.
request_refused = object()
#: Signal sent with ``unreachable`` (whether none of them answered at all) and
#: ``message`` when every address the crawl fetches through is benched: the crawl's
#: brakes (``hltv_scraper.brakes``, applied by the pipeline) stop it. Fetching only
#: says what it saw; how a crawl stops is decided in one place.
every_address_benched = object()

#: Reason prefix of a request that reached nothing (see :func:`unreachable_reason`).
UNREACHABLE = "unreachable"


class PageRefused(IgnoreRequest):
    """The site answered with something other than the page (a fetch failure)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SolverFailed(PageRefused):
    """The challenge solver could not be used (a fetch failure with its reason)."""


class BrowserNeeded(PageRefused):
    """The site asks for a browser (a challenge) and there is no Chromium to solve it:
    a fetch failure, and every later page fails alike without being sent, so the crawl
    stops at its fetch-failure brake instead of asking the site again and again."""

    def __init__(self, executable: str) -> None:
        super().__init__(
            f"browser_needed: the site asks for a browser and there is no Chromium at "
            f"{executable}; `make browser` installs one"
        )


class SiteUnreachable(IgnoreRequest):
    """Nothing answered at the site's (or the proxy's) address: not a refusal."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotSent(IgnoreRequest):
    """A request still waiting in a download slot when the crawl stopped: never sent."""

    reason = "not_sent: the crawl was stopping"


#: The close reason of a crawl stopped because the site refuses it (the brakes' own
#: ``hltv_fetch_failures``): exit status 1, pending units left for a later run.
FETCH_FAILURES = "hltv_fetch_failures"


def stop_fetching(crawler: Crawler, message: str) -> None:
    """Stop a crawl that cannot get a single page more (the site asks for a browser and
    there is none): said once, closed as a fetch-failure stop, nothing more sent."""
    from scrapy.utils.defer import deferred_from_coro

    if crawler.stats.get_value(SENDS_STOPPED):
        return
    logger.error("Stopping: %s", message)
    crawler.stats.set_value("hltv/stopped_because", message)
    deferred_from_coro(crawler.engine.close_spider_async(reason=FETCH_FAILURES))
    drop_unsent(crawler)


#: Stats key set when a crawl sends nothing more (see :func:`drop_unsent`).
SENDS_STOPPED = "hltv/sends_stopped"


def drop_unsent(crawler: Crawler) -> int:
    """Send nothing more: fail the requests waiting in the downloader's slots (they
    would otherwise be sent, a delay apart, while the crawl closes) and, through
    :data:`SENDS_STOPPED`, those still on their way to them; how many were waiting."""
    crawler.stats.set_value(SENDS_STOPPED, True)
    dropped = 0
    for slot in crawler.engine.downloader.slots.values():
        while slot.queue:
            _, waiting = slot.queue.popleft()
            waiting.errback(NotSent(NotSent.reason))
            dropped += 1
    return dropped


def unreachable_reason(exc: BaseException, address: str | None) -> str | None:
    """``unreachable: <error> (<host:port>)`` when ``exc`` says nothing answered at
    ``address`` (connection refused, DNS failure, connect timeout), else None."""
    what = _unreachable(exc)
    return f"{UNREACHABLE}: {what} ({address or '?'})" if what else None


def _unreachable(exc: BaseException) -> str | None:
    if isinstance(exc, (exceptions.DownloadConnectionRefusedError, error.ConnectionRefusedError)):
        return "connection refused"
    if isinstance(exc, (exceptions.CannotResolveHostError, error.DNSLookupError)):
        return "no such host (DNS lookup failed)"
    if isinstance(exc, error.TCPTimedOutError):
        return "connect timed out"
    # Twisted's connect timeout ("User timeout caused connection failure."); a page that
    # is slow to arrive says "Getting <url> took longer than ..." and is retried
    if isinstance(exc, (exceptions.DownloadTimeoutError, error.TimeoutError)) and "connection failure" in str(exc):
        return "connect timed out"
    if isinstance(exc, error.NoRouteError):
        return "no route to host"
    return _curl_unreachable(exc)


def _curl_unreachable(exc: BaseException) -> str | None:
    """The same for curl_cffi's errors (impersonated requests), by their curl codes."""
    code = getattr(exc, "code", None)
    if type(exc).__module__.split(".")[0] != "curl_cffi" or not isinstance(code, int):
        return None
    # CURLE_COULDNT_RESOLVE_PROXY 5, _HOST 6, COULDNT_CONNECT 7, OPERATION_TIMEDOUT 28
    # (curl reports a connect timeout as 28 with "Connection timed out" / "Connect")
    if code in (5, 6):
        return "no such host (DNS lookup failed)"
    if code == 7:
        return "connection refused"
    if code == 28 and "connect" in str(exc).lower():
        return "connect timed out"
    return None


def failure_reason(failure: Failure) -> str:
    """Why a request failed, as a short key: a refusal's reason, ``http_<status>``,
    ``not_in_archive``, ``unreachable: ...``, else the exception's name."""
    from scrapy.spidermiddlewares.httperror import HttpError

    exc = failure.value
    if isinstance(exc, (PageRefused, SiteUnreachable, NotSent)):
        return exc.reason
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest) and "not in cache" in str(exc):
        return "not_in_archive"
    request = getattr(failure, "request", None)
    unreachable = unreachable_reason(exc, address(request) if request is not None else None)
    return unreachable or type(exc).__name__


def address(request: Request) -> str:
    """``host:port`` a request had to reach: its proxy's, else the site's."""
    proxy = request.meta.get("proxy")
    parts = urlsplit(proxy if proxy else request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"
