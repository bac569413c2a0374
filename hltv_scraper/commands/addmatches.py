"""``scrapy addmatches``: tell the project which matches to collect, by match id.

One match (the slug is the free text after the id in its URL; optional)::

    scrapy addmatches --match-id 2389951 [--slug northwind-vs-blue-harbor]

Many, from a CSV with a header row ``match_id`` (and optionally ``slug``)::

    scrapy addmatches --csv matches.csv

The same rules as ``addmaps``: a file is checked whole first, bad rows are listed by
line number and nothing is imported; a known match changes nothing. The matches are
pending for ``scrapy crawl matches``, which finds their maps.
"""

from __future__ import annotations

import re
from argparse import ArgumentParser, Namespace
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DatabaseCommand
from hltv_scraper.commands._rows import positive_id, read_csv

_SLUG = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")


class Command(DatabaseCommand, ScrapyCommand):
    creates = True

    def syntax(self) -> str:
        return "(--match-id ID [--slug SLUG] | --csv FILE)"

    def short_desc(self) -> str:
        return "Add matches (match id, optional URL slug) for the crawls to collect"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--match-id", dest="match_id", metavar="ID", help="the match id (the number in its URL)")
        parser.add_argument("--slug", dest="slug", help="the text after the id in the match's URL (optional)")
        parser.add_argument("--csv", dest="csv_file", metavar="FILE",
                            help="a UTF-8 CSV file with the header row match_id (and optionally slug)")

    def execute(self, opts: Namespace) -> None:
        if opts.csv_file and (opts.match_id or opts.slug):
            raise UsageError("give either --csv or --match-id [--slug]")
        if opts.csv_file:
            matches = read_csv(
                Path(opts.csv_file), required=("match_id",), parse_row=_parse_row,
                keys=lambda m: {"match_id": m[0]},
            )
        elif opts.match_id:
            matches = [_parse_row({"match_id": opts.match_id, "slug": opts.slug}, "arguments")]
        else:
            raise UsageError("give --match-id ID [--slug SLUG], or --csv FILE")
        with self.database() as db:
            added, known = db.add_matches(matches)
        print(f"{db.location}: {added} matches added, {known} already known")


def _parse_row(row: dict[str, str | None], where: str) -> tuple[int, str | None]:
    match_id = positive_id(row.get("match_id"), "match_id", where)
    slug = (row.get("slug") or "").strip() or None
    if slug is not None and not _SLUG.match(slug):
        raise UsageError(f"{where}: slug must be URL text (letters, digits, - . _ ~), got {slug!r}")
    return match_id, slug
