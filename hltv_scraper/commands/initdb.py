"""``scrapy initdb``: create or migrate the database (HLTV_DB_URL or HLTV_DB_PATH); safe to repeat."""

from __future__ import annotations

from typing import Any

from scrapy.commands import ScrapyCommand

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage._schema import connect, database_url, describe, migrate, schema_version


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Create or migrate the database (SQLite at HLTV_DB_PATH, or HLTV_DB_URL)"

    def run(self, args: list[str], opts: Any) -> None:
        config = HltvConfig.from_settings(self.settings)
        url = database_url(url=config.db_url, path=config.db_path)
        connection = connect(url)
        try:
            applied = migrate(connection)
            version = schema_version(connection)
        finally:
            connection.close()
        done = f"applied {', '.join(applied)}" if applied else "already up to date"
        print(f"{describe(url)}: schema version {version} ({done})")
