"""``scrapy crawl`` with the time spent in the page parsers counted.

    python tools/_bench_crawl.py OUT.json crawl perf_economy -s NAME=value ...

Runs exactly the command line after ``OUT.json`` (the same engine, pipeline and
SQLite writes), but wraps each of the spider's parsers with a clock. When the spider
closes, OUT.json receives the crawl's stats, the seconds spent parsing per page kind
and the process's CPU time, so the benchmark can split a crawl's time into parsing
and everything else (engine, archive reads, pipeline, SQLite).
"""

from __future__ import annotations

import dataclasses
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy import signals  # noqa: E402
from scrapy.cmdline import execute  # noqa: E402

from hltv_scraper.spiders._base import UnitSpider  # noqa: E402
from hltv_scraper.spiders.stages import PerfEconomySpider  # noqa: E402

_parse_seconds: dict[str, float] = {}
_parse_calls: dict[str, int] = {}


def _timed(page, parser):
    def parse(response):
        start = time.perf_counter()
        try:
            return parser(response)
        finally:
            _parse_seconds[page] = _parse_seconds.get(page, 0.0) + time.perf_counter() - start
            _parse_calls[page] = _parse_calls.get(page, 0) + 1

    return parse


def _peak_rss_kb() -> int | None:
    """This process's own peak RSS. Not ru_maxrss: on Linux that keeps the peak of the
    process that forked us across exec (the benchmark, with its pages in memory)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(found[0]) if found else None


def main() -> None:
    out = Path(sys.argv[1])
    stage = PerfEconomySpider.stage
    PerfEconomySpider.stage = dataclasses.replace(
        stage, pages=tuple(dataclasses.replace(page, parse=_timed(page.name, page.parse)) for page in stage.pages)
    )
    original = UnitSpider.from_crawler.__func__

    def from_crawler(cls, crawler, *args, **kwargs):
        spider = original(cls, crawler, *args, **kwargs)
        opened_at: list[float] = []

        def opened(spider):
            opened_at.append(time.perf_counter())

        def closed(spider, reason):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            out.write_text(json.dumps({
                "reason": reason,
                "crawl_seconds": time.perf_counter() - opened_at[0],
                "stats": crawler.stats.get_stats(),
                "parse_seconds": _parse_seconds,
                "parse_calls": _parse_calls,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "max_rss_kb": _peak_rss_kb() or usage.ru_maxrss,
            }, default=str))

        crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        return spider

    UnitSpider.from_crawler = classmethod(from_crawler)
    execute(["scrapy", *sys.argv[2:]])


if __name__ == "__main__":
    main()
