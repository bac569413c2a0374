"""``scrapy initdb``: create or migrate the database at HLTV_DB_PATH (safe to repeat)."""

from __future__ import annotations

from typing import Any

from scrapy.commands import ScrapyCommand

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage._schema import connect, migrate, schema_version


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Create or migrate the SQLite database at HLTV_DB_PATH"

    def run(self, args: list[str], opts: Any) -> None:
        path = HltvConfig.from_settings(self.settings).db_path
        connection = connect(path)
        try:
            applied = migrate(connection)
            version = schema_version(connection)
        finally:
            connection.close()
        done = f"applied {', '.join(applied)}" if applied else "already up to date"
        print(f"{path}: schema version {version} ({done})")
