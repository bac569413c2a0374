"""``scrapy report --out report.html [--mapstatsid ID]``: one HTML page to open in a browser.

How complete the dataset is (maps by month and stage), what failed (grouped by stage,
page and reason), the share of maps per rating version, and one map up close (series and
veto, round history, scoreboard, economy, kill matrices): the map named by
``--mapstatsid`` (``--map`` is the same option), else the complete map played last.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DatabaseCommand
from hltv_scraper.report import ReportError, render_report, write_report
from hltv_scraper.stages import STAGES


class Command(DatabaseCommand, ScrapyCommand):
    def syntax(self) -> str:
        return "--out FILE [--mapstatsid ID]"

    def short_desc(self) -> str:
        return "Write an HTML report: maps by month and stage, failures, rating versions, one map"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--out", metavar="FILE", help="the HTML file to write")
        parser.add_argument("--mapstatsid", "--map", dest="mapstatsid", metavar="ID",
                            help="the map to show up close (default: the complete map played last)")

    def execute(self, opts: Namespace) -> None:
        if not opts.out:
            raise UsageError("--out is required: the HTML file to write (e.g. --out report.html)")
        mapstatsid = None
        if opts.mapstatsid is not None:
            if not opts.mapstatsid.strip().isdigit():
                raise UsageError(f"--mapstatsid must be a map's stats id (a whole number), got {opts.mapstatsid!r}",
                                 print_help=False)
            mapstatsid = int(opts.mapstatsid)
        with self.database() as db:
            try:
                page = render_report(db, max_attempts=self.config.max_attempts, mapstatsid=mapstatsid,
                                     stages=STAGES.values())
                write_report(page, Path(opts.out))
            except ReportError as exc:
                raise UsageError(f"no report written: {exc}", print_help=False) from None
        print(f"Report on {db.location} written to {opts.out} ({len(page) / 1024:.0f} KB): open it in a browser")
