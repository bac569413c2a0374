"""SQLite storage: the schema migrations and every query the project runs."""

from hltv_scraper.storage._errors import AlreadyStored, SaveResult, ValidationError
from hltv_scraper.storage.database import Database, MapKey

__all__ = ["AlreadyStored", "Database", "MapKey", "SaveResult", "ValidationError"]
