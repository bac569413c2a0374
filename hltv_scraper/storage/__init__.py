"""SQLite storage: the schema migrations and every query the project runs."""

from hltv_scraper.storage._errors import SaveResult, ValidationError
from hltv_scraper.storage.database import Database, MapKey

__all__ = ["Database", "MapKey", "SaveResult", "ValidationError"]
