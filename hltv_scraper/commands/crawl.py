"""``scrapy crawl``: Scrapy's own command, with an exit status a scheduler can use.

    scrapy crawl STAGE [-a NAME=VALUE ...] [-s NAME=VALUE ...]

Scrapy's ``crawl`` exits 0 whatever the close reason. This one (it replaces Scrapy's
for this project, and scrapyd's runner uses it too) exits 0 when the crawl finished,
2 for a mistake in the input (a bad ``-a`` argument or ``HLTV_*`` setting, a database
that cannot be opened: one line, printed last), and 1 when a brake stopped the crawl
(``hltv_fetch_failures``, ``hltv_site_unreachable``, ``hltv_layout_changed``,
``hltv_database_error``) or Ctrl-C interrupted it (``shutdown``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DATABASE_HELP, one_line
from hltv_scraper.commands._crawling import exit_status, finish_reason, say_where, watch
from hltv_scraper.config import HltvConfig

if TYPE_CHECKING:
    from argparse import Namespace


class Command(ScrapyCrawl):
    def long_desc(self) -> str:
        return (
            f"{self.short_desc()}. Exit status: 0 when the crawl finished, 2 for a mistake in "
            "the input, 1 when a brake (the site refusing us or unreachable, a changed layout, "
            f"the database) or Ctrl-C stopped it. {DATABASE_HELP}"
        )

    def process_options(self, args: list[str], opts: Namespace) -> None:
        super().process_options(args, opts)
        # a bad HLTV_* setting is one line here, before Scrapy starts (and logs) anything
        say_where(self.settings, HltvConfig.from_settings(self.settings))

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) < 1:
            raise UsageError("name the stage to crawl: scrapy crawl STAGE (see `scrapy list`)")
        if len(args) > 1:
            raise UsageError(f"crawl one stage at a time, not {' '.join(args)} (scrapy collect runs them all)")
        assert self.crawler_process
        loader = self.crawler_process.spider_loader
        if args[0] not in loader.list():
            raise UsageError(f"no stage named {args[0]!r}: one of {', '.join(sorted(loader.list()))}")
        # a bad -a argument is one line here too, before Scrapy's start-up noise
        check_arguments = getattr(loader.load(args[0]), "check_arguments", None)
        if check_arguments is not None:
            check_arguments(opts.spargs)
        crawler = self._create_crawler(args[0])
        mistakes: list[BaseException] = []
        watch(self.crawler_process.crawl(crawler, **opts.spargs), mistakes)
        self.crawler_process.start()
        if mistakes:
            raise UsageError(one_line(mistakes[0]), print_help=False)
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        else:
            self.exitcode = exit_status(finish_reason(crawler))
