"""``scrapy summary``: what the database holds, how far units got, who holds leases, what failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage import Database

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Print what the database holds: units by stage, rows by table, leases, failures"

    def run(self, args: list[str], opts: Any) -> None:
        summarise(self.settings)


def summarise(settings: BaseSettings) -> None:
    """Print the summary of the database the settings name."""
    config = HltvConfig.from_settings(settings)
    db = Database.open(config.database)
    try:
        print_summary(db, max_attempts=config.max_attempts)
    finally:
        db.close()


def print_summary(db: Database, *, max_attempts: int) -> None:
    counts = db.summary()
    pending = {f"pending: {stage}": count for stage, count in db.pending_counts(max_attempts=max_attempts).items()}
    print(f"Database {db.location}")
    width = max(map(len, [*counts, *pending]))
    for name, count in {**counts, **pending}.items():
        print(f"  {name:<{width}}  {count:>8}")
    leases = db.leases()
    if leases:
        print("Live leases:")
    for lease in leases:
        print(f"  {lease['worker']}: {lease['units']} {lease['units_of']}, "
              f"expiring within {lease['expires_in']:.0f} s")
    for row in db.recent_failures():
        print(f"  failed: {row['stage']} {row['unit_id']} ({row['page']} page): {row['reason']}")
