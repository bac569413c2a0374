"""Storage: the schema migrations and every query the project runs, on SQLite or PostgreSQL."""

from hltv_scraper.storage._errors import AlreadyStored, DatabaseUnavailable, SaveResult, ValidationError
from hltv_scraper.storage._stages import STAGES, Stage
from hltv_scraper.storage.database import Database, Unit

__all__ = ["STAGES", "AlreadyStored", "DatabaseUnavailable", "Database", "SaveResult", "Stage", "Unit", "ValidationError"]
