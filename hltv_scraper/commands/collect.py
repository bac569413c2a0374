"""``scrapy collect``: the whole chain, from HLTV's results listing to complete maps.

    scrapy collect [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--pages N] [--limit N] [--full]

Runs every stage of the registry (``hltv_scraper.stages``) one after the other in this
process, each a normal crawl with its own stats, log summary and close reason, then
prints ``scrapy summary``. Each stage's unit source takes the options it knows: the
results listing ``--since``/``--until``/``--pages``/``--full``, the leased stages ``--limit``. A stage that stops early (a brake: the site
refusing us or unreachable, a changed layout, the database; or Ctrl-C) ends the chain
there, with that reason and exit status 1: the next stages would meet the same wall. A
stage that fetched nothing of what it asked for (``hltv_nothing_fetched``: those pages
are missing) does not: the chain goes on, and exits 1 only if no stage stored anything. A
mistake in the input (an option, a setting, the database) is one line, exit status 2,
before anything runs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from argparse import ArgumentParser, Namespace
from datetime import date
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.brakes import CLOSE_REASON_NOTHING
from hltv_scraper.commands._base import DATABASE_HELP, one_line, open_database
from hltv_scraper.commands._crawling import committed, exit_status, finish_reason, is_mistake, say_where
from hltv_scraper.commands.summary import summarise
from hltv_scraper.config import HltvConfig
from hltv_scraper.ledger.arguments import CollectOptions
from hltv_scraper.output import standard_output
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import DatabaseUnavailable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: The stages in the order their units flow.
CHAIN = tuple(STAGES)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[--since YYYY-MM-DD] [--until YYYY-MM-DD] [--pages N] [--limit N] [--full]"

    def short_desc(self) -> str:
        return f"Run {', '.join(CHAIN)} in order, then the summary"

    def long_desc(self) -> str:
        return (
            f"{self.short_desc()}. Exit status: 0 when every stage finished, 2 for a mistake in "
            "the input, 1 when a brake or Ctrl-C stopped a stage (the chain ends there). "
            f"{DATABASE_HELP}"
        )

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="results completed on or after this day (UTC)")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="results completed on or before this day (UTC)")
        parser.add_argument("--pages", metavar="N", help="read at most N results pages")
        parser.add_argument("--limit", metavar="N", help="at most N units in each later stage")
        parser.add_argument("--full", action="store_true",
                            help="read results pages on past ones whose matches are all known")

    def process_options(self, args: list[str], opts: Namespace) -> None:
        """Every mistake in the input found here, before Scrapy starts (and logs) anything
        and before a database is made."""
        super().process_options(args, opts)
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)} (see scrapy collect -h)")
        self.arguments = _spider_arguments(opts)
        config = HltvConfig.from_settings(self.settings)
        if config.replay:
            _check_replayable(self.settings, config)
        try:
            with open_database(config.database, create=True):
                pass
        except DatabaseUnavailable as exc:
            raise UsageError(one_line(exc), print_help=False) from None
        say_where(self.settings, config)

    def run(self, args: list[str], opts: Namespace) -> None:
        chain = _Chain(self.crawler_process, self.arguments)
        asyncio.get_event_loop().create_task(chain.run())
        self.crawler_process.start(stop_after_crawl=False)
        outcomes = chain.outcomes()
        if chain.mistake is not None:
            if outcomes:
                print("\nStages: " + _listed(outcomes))
            raise UsageError(one_line(chain.mistake), print_help=False)
        try:
            with standard_output() as problems:
                print("\nStages: " + _listed(outcomes))
                summarise(self.settings)
        except DatabaseUnavailable as exc:
            raise UsageError(one_line(exc), print_help=False) from None
        for problem in problems:
            print(f"scrapy collect: {problem}", file=sys.stderr)
        done = len(outcomes) == len(CHAIN) and all(
            exit_status(reason) == 0 or (reason == CLOSE_REASON_NOTHING and chain.stored) for _, reason in outcomes
        )
        if not chain.stored and any(reason == CLOSE_REASON_NOTHING for _, reason in outcomes):
            logger.error("Nothing was stored: no stage could fetch what it asked for")
        self.exitcode = 0 if done and not chain.bug and not problems else 1


class _Chain:
    """The stages run one after the other in the reactor, and what became of each."""

    def __init__(self, process: Any, arguments: dict[str, dict[str, Any]]) -> None:
        self.process = process
        self.arguments = arguments
        self.ended: list[tuple[str, str | None]] = []
        self.current: tuple[str, Crawler] | None = None  # the stage running
        self.mistake: BaseException | None = None
        self.bug = False
        #: units the stages committed
        self.stored = 0

    async def run(self) -> None:
        try:
            for name in CHAIN:
                crawler = self.process.create_crawler(name)
                self.current = (name, crawler)
                await self.process.crawl(crawler, **self.arguments[name])
                self.current = None
                reason = finish_reason(crawler)
                self.ended.append((name, reason))
                self.stored += committed(crawler)
                if reason == CLOSE_REASON_NOTHING:
                    # what this stage asked for is missing; the next stages have their own units
                    continue
                if reason != "finished":
                    logger.error("Stage %s ended with %s: the chain stops here", name, reason)
                    return
        except Exception as exc:
            if is_mistake(exc):
                self.mistake = exc
            else:
                self.bug = True
                logger.exception("The chain stopped: a stage could not run")
        finally:
            _stop_reactor()

    def outcomes(self) -> list[tuple[str, str | None]]:
        """Each stage that ran and its close reason, the stage Ctrl-C interrupted included
        (a forced second Ctrl-C stops the reactor before the chain hears of it)."""
        if self.current is None or self.mistake is not None or self.bug:
            return list(self.ended)
        name, crawler = self.current
        return [*self.ended, (name, finish_reason(crawler) or "interrupted")]


def _stop_reactor() -> None:
    """Stop the reactor unless Ctrl-C already did (then stopping again would be an error)."""
    from twisted.internet import reactor
    from twisted.internet.error import ReactorNotRunning

    def stop() -> None:
        try:
            reactor.stop()
        except ReactorNotRunning:
            pass

    reactor.callLater(0, stop)


def _check_replayable(settings: Any, config: HltvConfig) -> None:
    """A replay of the chain starts from the first results page: without it in the
    archive every stage would find nothing and the chain would "finish" empty."""
    from hltv_scraper.archive import ArchiveStorage
    from hltv_scraper.storage import Unit

    first = next(iter(STAGES.values()))
    body, meta = ArchiveStorage(settings).entry_paths(first.pages[0].url(config.base_url, Unit(id=0)))
    if not (body.is_file() and meta.is_file()):
        raise UsageError(
            f"HLTV_REPLAY=1: the archive {config.archive_dir} has no first results page "
            f"({body.relative_to(body.parents[1])}), where a collect replay starts; name the "
            "archive to replay with -s HLTV_ARCHIVE_DIR=DIR (fixtures/archive is the demo's)"
        )


def _listed(outcomes: list[tuple[str, str | None]]) -> str:
    return ", ".join(f"{name} ({reason})" for name, reason in outcomes) or "none ran"


def _spider_arguments(opts: Namespace) -> dict[str, dict[str, Any]]:
    """Each stage's ``-a`` arguments, checked here so a mistake names the option."""
    days = {name: _day(name, getattr(opts, name)) for name in ("since", "until")}
    if days["since"] and days["until"] and days["until"] < days["since"]:
        raise UsageError(f"--until {opts.until} is before --since {opts.since}: --until takes the later day")
    for name in ("pages", "limit"):
        _count(name, getattr(opts, name))
    options = CollectOptions(
        since=opts.since.strip() if opts.since else None,
        until=opts.until.strip() if opts.until else None,
        pages=int(opts.pages) if opts.pages else None,
        limit=int(opts.limit) if opts.limit else None,
        full=bool(opts.full),
    )
    return {name: stage.unit.source.collect_arguments(options) for name, stage in STAGES.items()}


def _day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--{name} takes a day as YYYY-MM-DD, got {value!r}") from None


def _count(name: str, value: str | None) -> None:
    if value is None:
        return
    if not value.strip().isdigit() or int(value) < 1:
        raise UsageError(f"--{name} takes a whole number of at least 1, got {value!r}")
