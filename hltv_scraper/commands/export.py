"""``scrapy export``: the dataset as files, one per table plus ``player_maps``.

    scrapy export --out DIR [--format parquet|csv|jsonl] [--since YYYY-MM-DD]
                  [--until YYYY-MM-DD] [--changed-since TIME] [--include-incomplete]

Only complete maps (performance and economy stored) and their matches unless
``--include-incomplete``. ``--since``/``--until`` select by the match's date, whole UTC
days, both included. ``--changed-since`` takes only rows updated after that time, so a
nightly job can append; the export prints the time to give the next run.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DatabaseCommand
from hltv_scraper.export import FORMATS, ExportError, export_dataset, selection


class Command(DatabaseCommand, ScrapyCommand):
    def syntax(self) -> str:
        return (
            "--out DIR [--format parquet|csv|jsonl|duckdb] [--since YYYY-MM-DD] [--until YYYY-MM-DD] "
            "[--changed-since TIME] [--include-incomplete]"
        )

    def short_desc(self) -> str:
        return "Write the dataset to files: one per table, and player_maps"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--out", metavar="DIR", help="the folder to write into (created if needed)")
        parser.add_argument("--format", dest="file_format", default="parquet",
                            help=f"the file format: {', '.join(FORMATS)} (default parquet)")
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="matches played on or after this day (UTC)")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="matches played on or before this day (UTC)")
        parser.add_argument("--changed-since", dest="changed_since", metavar="TIME",
                            help="only rows updated after this day or ISO-8601 time")
        parser.add_argument("--include-incomplete", dest="include_incomplete", action="store_true",
                            help="maps without performance and economy too")

    def execute(self, opts: Namespace) -> None:
        if not opts.out:
            raise UsageError("--out is required: the folder to write the files into (e.g. --out export)")
        if opts.file_format not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {opts.file_format!r}")
        try:
            rows = selection(since=opts.since, until=opts.until, changed_since=opts.changed_since,
                             include_incomplete=opts.include_incomplete)
        except ExportError as exc:
            raise UsageError(str(exc)) from None
        with self.database() as db:
            try:
                result = export_dataset(db, Path(opts.out), file_format=opts.file_format, rows=rows)
            except ExportError as exc:
                raise UsageError(f"nothing exported: {exc}") from None
        print(f"Exported {db.location} as of {result.as_of} into {result.out} ({result.file_format}):")
        width = max(map(len, result.files))
        for name, count in result.files.items():
            print(f"  {name:<{width}}  {count:>9} rows")
        print(f"Next incremental export: --changed-since {result.next_changed_since}")
