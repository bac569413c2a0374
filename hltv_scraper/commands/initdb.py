"""``scrapy initdb``: create or migrate the database (HLTV_DB_URL or HLTV_DB_PATH); safe to repeat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand

from hltv_scraper.commands._base import DatabaseCommand, opening
from hltv_scraper.storage._schema import connect, database_url, describe, migrate, schema_version

if TYPE_CHECKING:
    from argparse import Namespace

    from sqlalchemy.engine import URL


class Command(DatabaseCommand, ScrapyCommand):
    creates = True

    def short_desc(self) -> str:
        return "Create or migrate the database (SQLite at HLTV_DB_PATH, or HLTV_DB_URL)"

    def execute(self, opts: Namespace) -> None:
        url = _as_url(self.config.database)
        # not Database.open: this command says which migrations it applied
        with opening(url):
            connection = connect(url)
            try:
                applied = migrate(connection)
                version = schema_version(connection)
            finally:
                connection.close()
        done = f"applied {', '.join(applied)}" if applied else "already up to date"
        print(f"{describe(url)}: schema version {version} ({done})")


def _as_url(location: Any) -> URL:
    """The config's location (a URL, a ``postgresql://`` string or a SQLite path) as a URL."""
    from sqlalchemy.engine import URL

    if isinstance(location, URL):
        return location
    if str(location).startswith("postgresql"):
        return database_url(url=str(location), path="")
    return database_url(url=None, path=location)
