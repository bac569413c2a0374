"""``scrapy summary``: what the database holds, how far units got, who holds leases, what failed.

Besides the counts it shows which parser version stored each stage's units (the others
are what ``-a reparse=stale`` would re-parse), and the recent failures grouped by stage,
page and reason, ids and names folded out: a page HLTV changed reads as one line with
its count, not as a thousand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from hltv_scraper.commands._base import DatabaseCommand, open_database
from hltv_scraper.config import HltvConfig
from hltv_scraper.parsers import current_parser_version
from hltv_scraper.stages import STAGES, claimable, tracked

if TYPE_CHECKING:
    from argparse import Namespace

    from scrapy.settings import BaseSettings

    from hltv_scraper.storage import Database

#: How many of the latest failures are grouped.
RECENT_FAILURES = 10_000


class Command(DatabaseCommand, ScrapyCommand):
    def short_desc(self) -> str:
        return "Print what the database holds: units by stage and parser version, rows, leases, failures"

    def execute(self, opts: Namespace) -> None:
        with self.database() as db:
            print_summary(db, max_attempts=self.config.max_attempts)


def summarise(settings: BaseSettings) -> None:
    """Print the summary of the database the settings name (which must exist)."""
    config = HltvConfig.from_settings(settings)
    with open_database(config.database, create=False) as db:
        print_summary(db, max_attempts=config.max_attempts)


def print_summary(db: Database, *, max_attempts: int) -> None:
    version = current_parser_version()
    counts = db.summary(STAGES.values())
    pending = {
        f"pending: {stage}": count
        for stage, count in db.pending_counts(claimable(), max_attempts=max_attempts, parser_version=version).items()
    }
    print(f"Database {db.location}")
    width = max(map(len, [*counts, *pending]))
    for name, count in {**counts, **pending}.items():
        print(f"  {name:<{width}}  {count:>8}")
    _print_versions(db, version)
    leases = db.leases(tracked())
    if leases:
        print("Live leases:")
    for lease in leases:
        print(f"  {lease['worker']}: {lease['units']} {lease['units_of']}, "
              f"expiring within {lease['expires_in']:.0f} s")
    _print_failures(db)


def _print_versions(db: Database, current: str) -> None:
    stored = {stage: versions for stage, versions in db.stored_versions(tracked()).items() if versions}
    if not stored:
        return
    print(f"Stored by parser version (this code: {current}):")
    width = max(map(len, stored))
    for stage, versions in stored.items():
        shown = ", ".join(f"{version or 'unrecorded'}: {units}" for version, units in versions.items())
        stale = sum(units for version, units in versions.items() if version != current)
        hint = f"  ({stale} stale: scrapy crawl {stage} -a reparse=stale -s HLTV_REPLAY=1)" if stale else ""
        print(f"  {stage:<{width}}  {shown}{hint}")


def _print_failures(db: Database) -> None:
    groups = db.failure_groups(recent=RECENT_FAILURES)
    if not groups:
        return
    print(f"Failures by stage, page and reason (the latest {RECENT_FAILURES} at most):")
    for group in groups:
        versions = ", ".join(sorted(group.parser_versions))
        units = f"{group.units} unit{'s' if group.units != 1 else ''}"
        print(f"  {group.failures:>7}  {group.stage} {group.page} page, {units}, parser {versions}, "
              f"latest {group.latest}: {group.reason}")
