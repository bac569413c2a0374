"""``scrapy initdb``: create or migrate the database (HLTV_DB_URL or HLTV_DB_PATH); safe to repeat."""

from __future__ import annotations

from typing import Any

from scrapy.commands import ScrapyCommand

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage import Database


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Create or migrate the database (SQLite at HLTV_DB_PATH, or HLTV_DB_URL)"

    def run(self, args: list[str], opts: Any) -> None:
        with Database.open(HltvConfig.from_settings(self.settings).database) as db:
            done = f"applied {', '.join(db.applied)}" if db.applied else "already up to date"
            print(f"{db.location}: schema version {db.schema_version} ({done})")
