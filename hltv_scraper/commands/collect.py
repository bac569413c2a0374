"""``scrapy collect``: the whole chain, from HLTV's results listing to complete maps.

    scrapy collect [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--pages N] [--limit N] [--full]

Runs ``results``, ``matches``, ``map_stats`` and ``perf_economy`` one after the other in
this process, each a normal crawl with its own stats, log summary and close reason, then
prints ``scrapy summary``. ``--since``/``--until``/``--pages``/``--full`` go to the results
stage, ``--limit`` to each of the others. A stage that stops early (the site refusing
us, a changed layout, the database, Ctrl-C) ends the chain there, with that reason and
a non-zero exit code: the next stages would meet the same wall.
"""

from __future__ import annotations

import asyncio
import logging
from argparse import ArgumentParser, Namespace
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands.summary import summarise
from hltv_scraper.spiders._base import positive_int
from hltv_scraper.spiders.results import day_start_ms
from hltv_scraper.storage import STAGES

logger = logging.getLogger(__name__)

#: The stages in the order their units flow.
CHAIN = tuple(STAGES)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[--since YYYY-MM-DD] [--until YYYY-MM-DD] [--pages N] [--limit N] [--full]"

    def short_desc(self) -> str:
        return "Run results, matches, map_stats and perf_economy in order, then the summary"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--since", help="results completed on or after this day (UTC)")
        parser.add_argument("--until", help="results completed on or before this day (UTC)")
        parser.add_argument("--pages", help="read at most N results pages")
        parser.add_argument("--limit", help="at most N units in each later stage")
        parser.add_argument("--full", action="store_true",
                            help="read results pages on past ones whose matches are all known")

    def run(self, args: list[str], opts: Namespace) -> None:
        arguments = self._spider_arguments(opts)
        process = self.crawler_process
        outcomes: list[tuple[str, str | None]] = []

        async def chain() -> None:
            try:
                for name in CHAIN:
                    crawler = process.create_crawler(name)
                    await process.crawl(crawler, **arguments[name])
                    reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
                    outcomes.append((name, reason))
                    if reason != "finished":
                        logger.error("Stage %s ended with %s: the chain stops here", name, reason)
                        return
            except Exception:
                logger.exception("The chain stopped: a stage could not run")
            finally:
                from twisted.internet import reactor

                reactor.callLater(0, reactor.stop)

        asyncio.get_event_loop().create_task(chain())
        process.start(stop_after_crawl=False)

        print("\nStages: " + ", ".join(f"{name} ({reason})" for name, reason in outcomes))
        summarise(self.settings)
        if len(outcomes) < len(CHAIN) or any(reason != "finished" for _, reason in outcomes):
            self.exitcode = 1

    @staticmethod
    def _spider_arguments(opts: Namespace) -> dict[str, dict[str, Any]]:
        """Each stage's ``-a`` arguments, checked before anything runs."""
        try:
            for name in ("since", "until"):
                if getattr(opts, name):
                    day_start_ms(name, getattr(opts, name))
            for name in ("pages", "limit"):
                if getattr(opts, name):
                    positive_int(name, getattr(opts, name))
        except ValueError as exc:
            raise UsageError(str(exc).replace("-a ", "--").replace("=", "")) from None
        results = {name: getattr(opts, name) for name in ("since", "until", "pages") if getattr(opts, name)}
        if opts.full:
            results["full"] = "1"
        limit = {"limit": opts.limit} if opts.limit else {}
        return {"results": results, **{name: dict(limit) for name in CHAIN if name != "results"}}
