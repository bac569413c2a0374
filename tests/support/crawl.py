"""Running real crawls in the test process.

One Twisted reactor (asyncio, as in production) runs for the whole session in a
background thread; each crawl is started on it and waited for. A crawl costs tens of
milliseconds this way, against most of a second for a ``scrapy crawl`` subprocess.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor

_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
_started = threading.Lock()
_thread: threading.Thread | None = None

#: Settings every test crawl uses: no politeness delays against our own server, and the
#: concurrency the tests were written for (the project's default is one at a time).
FAST = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "RETRY_TIMES": 1,
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": 0,
    "HLTV_BACKOFF_START_DELAY": 0.01,
    "HLTV_BACKOFF_MAX_DELAY": 0.05,
}


def _reactor():
    global _thread
    with _started:
        if _thread is None:
            install_reactor(_REACTOR)
            from twisted.internet import reactor

            _thread = threading.Thread(
                target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True
            )
            _thread.start()
    from twisted.internet import reactor

    return reactor


class CrawlResult:
    def __init__(self, stats: dict[str, Any], error: BaseException | None) -> None:
        self.stats = stats
        self.error = error

    def stat(self, key: str) -> int:
        return self.stats.get(key, 0)

    @property
    def close_reason(self) -> str | None:
        return self.stats.get("finish_reason")


def run_crawl(spider: str, settings: dict[str, Any], timeout: float = 120, **spider_args: Any) -> CrawlResult:
    """Run ``spider`` to the end with the project settings plus ``settings``."""
    reactor = _reactor()
    merged = get_project_settings()
    merged.setdict({**FAST, **settings}, priority="cmdline")
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def start() -> None:
        runner = AsyncCrawlerRunner(merged)
        try:
            crawler = runner.create_crawler(spider)
        except Exception as exc:
            outcome["error"] = exc
            done.set()
            return
        outcome["crawler"] = crawler

        def finished(result: Any) -> None:
            if hasattr(result, "value"):
                outcome["error"] = result.value
            done.set()

        deferred_from_coro(runner.crawl(crawler, **spider_args)).addBoth(finished)

    reactor.callFromThread(start)
    if not done.wait(timeout):
        raise TimeoutError(f"crawl {spider} did not finish in {timeout} s")
    crawler = outcome.get("crawler")
    try:
        stats = crawler.stats.get_stats()
    except (AttributeError, RuntimeError):  # the crawl failed before it started
        stats = {}
    return CrawlResult(stats, outcome.get("error"))



def database_settings(database: Path | str) -> dict:
    """The settings that point a crawl or a command at ``database`` (a SQLite path or a
    PostgreSQL URL)."""
    if str(database).startswith("postgresql"):
        return {"HLTV_DB_URL": str(database)}
    return {"HLTV_DB_PATH": str(database)}
