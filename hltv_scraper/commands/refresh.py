"""``scrapy refresh``: read stored units again, and record what HLTV changed.

    scrapy refresh --since YYYY-MM-DD [--until YYYY-MM-DD] [--stage NAME ...]
                   [--rating-version 2.0] [--mapstatsid ID ...]

HLTV corrects stats after a match, and recomputed ratings when it moved to Rating 2.1
and 3.0. This makes the stored units of the chosen stages (all three without
``--stage``) due for a re-read: the matches played in the date window, the maps of
those matches, maps whose stored rating is of ``--rating-version``, or maps named by
id (every option given must hold). It changes no data: the next ``scrapy collect`` (or
the stages' crawls) fetches their pages anew, never from the archive, writes what they
say in each unit's one transaction and records every value that changed in the
``corrections`` table. A unit whose page now fails to parse keeps its stored rows.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from datetime import date, datetime, timedelta, timezone

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DatabaseCommand
from hltv_scraper.commands._rows import ids_option
from hltv_scraper.stages import STAGES, claimable

#: The stages whose stored units can be read again: those whose units wait in their
#: table (a walk's snapshots are read again by walking).
TRACKED = [stage.name for stage in claimable()]
#: Pages one unit of each stage costs to read again.
PAGES_PER_UNIT = {name: len(STAGES[name].pages) for name in TRACKED}


class Command(DatabaseCommand, ScrapyCommand):
    def syntax(self) -> str:
        return ("--since YYYY-MM-DD [--until YYYY-MM-DD] [--stage NAME ...] "
                "[--rating-version VERSION] [--mapstatsid ID ...]")

    def short_desc(self) -> str:
        return "Make stored matches and maps due for a re-read (fetched anew; changes go to corrections)"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="units of matches played on or after this day (UTC)")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="units of matches played on or before this day (UTC)")
        parser.add_argument("--stage", nargs="+", action="extend", default=[], metavar="NAME",
                            help=f"the stages to read again (default: all): {', '.join(TRACKED)}")
        parser.add_argument("--rating-version", dest="rating_version", metavar="VERSION",
                            help="only maps whose stored rating is of this version (2.0, 2.1, 3.0)")
        parser.add_argument("--mapstatsid", nargs="+", action="extend", default=[], metavar="ID",
                            help="only these maps (ids separated by spaces or commas)")

    def execute(self, opts: Namespace) -> None:
        stages = [part for value in opts.stage for part in value.split(",") if part.strip()]
        unknown = [name for name in stages if name not in TRACKED]
        if unknown:
            raise UsageError(f"--stage must be among {', '.join(TRACKED)}, got {', '.join(map(repr, unknown))}")
        stages = list(dict.fromkeys(stages)) or TRACKED
        since, until = _day(opts.since, "--since"), _day(opts.until, "--until")
        if since and until and until < since:
            raise UsageError(f"--until {opts.until} is before --since {opts.since}")
        since_ms = _ms(since) if since else None
        until_ms = _ms(until + timedelta(days=1)) if until else None  # the whole day
        rating_version = opts.rating_version.strip() if opts.rating_version is not None else None
        if opts.rating_version is not None and not rating_version:
            raise UsageError("--rating-version needs a version (2.0, 2.1, 3.0)")
        mapstatsids = ids_option(opts.mapstatsid, "--mapstatsid")
        if not (since or until or rating_version or mapstatsids):
            raise UsageError("say what to read again: --since (and --until), --rating-version or --mapstatsid")
        with self.database() as db:
            try:
                asked = db.refresh([STAGES[name] for name in stages], since_ms=since_ms, until_ms=until_ms, rating_version=rating_version,
                                   mapstatsids=mapstatsids)
            except KeyError as exc:
                column, missing = exc.args
                raise UsageError(
                    f"nothing refreshed: {column} {', '.join(map(str, missing))} not in the database {db.location}"
                ) from None
        pages = sum(PAGES_PER_UNIT[name] * count for name, count in asked.items())
        shown = ", ".join(f"{count} {'matches' if name == 'matches' else 'maps'} ({name})"
                          for name, count in asked.items())
        print(f"{db.location}: due for a re-read: {shown}; about {pages} pages, fetched anew by the "
              "next `scrapy collect` (changes go to the corrections table)")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} takes a day as YYYY-MM-DD, got {text!r}") from None


def _ms(day: date) -> int:
    """Midnight UTC of ``day``, in ms since the epoch (as matches are dated)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
