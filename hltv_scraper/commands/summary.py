"""``scrapy summary``: what the database at HLTV_DB_PATH holds, and how far maps got."""

from __future__ import annotations

from typing import Any

from scrapy.commands import ScrapyCommand

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage import Database


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Print what the database holds: maps by stage, rows by table, failures"

    def run(self, args: list[str], opts: Any) -> None:
        db = Database.open(HltvConfig.from_settings(self.settings).db_path)
        try:
            counts = db.summary()
            failures = db.recent_failures()
        finally:
            db.close()
        print(f"Database {db.path}")
        width = max(map(len, counts))
        for name, count in counts.items():
            print(f"  {name:<{width}}  {count:>8}")
        for row in failures:
            print(f"  failed: map {row['mapstatsid']} ({row['stage']}, {row['page']} page): {row['reason']}")
