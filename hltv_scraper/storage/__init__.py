"""SQLite storage: the schema migrations and every query the project runs."""

from hltv_scraper.storage.database import Database, MapKey, ValidationError

__all__ = ["Database", "MapKey", "ValidationError"]
