"""``scrapy initdb``: create or migrate the database (HLTV_DB_URL or HLTV_DB_PATH); safe to repeat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from hltv_scraper.commands._base import DatabaseCommand

if TYPE_CHECKING:
    from argparse import Namespace


class Command(DatabaseCommand, ScrapyCommand):
    creates = True

    def short_desc(self) -> str:
        return "Create or migrate the database (SQLite at HLTV_DB_PATH, or HLTV_DB_URL)"

    def execute(self, opts: Namespace) -> None:
        with self.database() as db:
            done = f"applied {', '.join(db.applied)}" if db.applied else "already up to date"
            print(f"{db.location}: schema version {db.schema_version} ({done})")
