"""Stopping when asked: after the first Ctrl-C (or scrapyd's SIGTERM) no request leaves.

Scrapy's graceful shutdown closes the spider once every request already handed to the
downloader is done, and the downloader still sends those waiting in its slots, a
download delay apart: at the default pacing a crawl with sixteen maps in flight would
go on fetching for minutes. This extension wraps Scrapy's handler of the first signal:
it also claims nothing more, fails the requests waiting for their turn (their units
are given back untouched, see ``fetch/errors.drop_unsent``) and lets only the pages
already on the wire arrive. Units whose pages are all in are committed as usual; the
crawl then releases every lease it holds. A second signal is Scrapy's: the reactor
stops at once, and the leases left behind are freed by the next crawl on this host
(``ledger/sources.free_leases_of_the_dead``) or by ``scrapy requeue --release-leases``.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from scrapy import signals

from hltv_scraper.fetch.errors import drop_unsent
from hltv_scraper.ledger.ledger import Ledger

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds pages already on the wire have to arrive after the first signal; then the
#: crawl gives its leases back and ends without them (a local page takes milliseconds,
#: HLTV's seconds; DOWNLOAD_TIMEOUT, 30 s, is too long for a person waiting).
ABANDON_AFTER = 5.0


class StopSending:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._previous: dict[int, Any] = {}
        self.asked = False
        self._abandon: Any = None  # the delayed call that ends a crawl still waiting

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension._opened, signal=signals.spider_opened)
        crawler.signals.connect(extension._closed, signal=signals.spider_closed)
        return extension

    def _opened(self) -> None:
        # Scrapy installed its handlers when the reactor started; only the main thread
        # may install one (a crawl run in a thread by a test or a library has none)
        if threading.current_thread() is not threading.main_thread():
            return
        for number in _SIGNALS:
            previous = signal.getsignal(number)
            if callable(previous):
                self._previous[number] = previous
                signal.signal(number, self._signalled)

    def _signalled(self, number: int, frame: Any) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.stop_sending)
        for wrapped in _SIGNALS:  # Scrapy's handler installs the second signal's own
            signal.signal(wrapped, self._previous.get(wrapped, signal.SIG_DFL))
        self._previous.get(number, signal.default_int_handler)(number, frame)

    def stop_sending(self) -> None:
        """Claim nothing more and send nothing more; what is on the wire may arrive."""
        if self.asked:
            return
        self.asked = True
        ledger = Ledger.on(self.crawler)
        if ledger is not None:
            ledger.ended = True
        dropped = drop_unsent(self.crawler) if self.crawler.engine is not None else 0
        logger.info("Stopping: no new request is sent (%d waiting were dropped; their units are "
                    "given back); pages on their way have %g s to arrive", dropped, ABANDON_AFTER)
        from twisted.internet import reactor

        self._abandon = reactor.callLater(ABANDON_AFTER, self.abandon)

    def abandon(self) -> None:
        """The pages on the wire did not arrive in time: give every lease back (what was
        whole is committed already) and end the process's reactor, as a second signal
        would."""
        from twisted.internet import reactor

        logger.warning("Pages still on their way after %g s are abandoned; their units stay pending",
                       ABANDON_AFTER)
        ledger = Ledger.on(self.crawler)
        if ledger is not None:
            ledger.give_back_all()
        if reactor.running:
            reactor.stop()

    def _closed(self) -> None:
        if self._abandon is not None and self._abandon.active():
            self._abandon.cancel()
        for number, previous in self._previous.items():
            if signal.getsignal(number) == self._signalled:
                signal.signal(number, previous)
        self._previous.clear()
