"""Storage: the schema migrations and every query the project runs, on SQLite or PostgreSQL.

This is the package's public surface: code outside storage imports these names, and a
stage's declaration (``hltv_scraper.stages``) imports its own storage module
(``storage/<stage>.py``: its writer and its unit rows), never a private module.
Storage imports nothing of the project but itself and ``hltv_scraper.items``; what it
must know of the rest (the stages, the parser version, slugs, validation) callers pass in.
"""

from hltv_scraper.items import ValidationError
from hltv_scraper.storage._errors import AlreadyStored, DatabaseUnavailable, SaveResult
from hltv_scraper.storage._failures import FailureGroup, normalise_reason
from hltv_scraper.storage._schema import shipped_schema_version
from hltv_scraper.storage.database import Database, Unit, utc_now
from hltv_scraper.storage.stages import (
    Check,
    Counts,
    ExportedTable,
    MapStatsRead,
    MatchRead,
    PerfEconomyRead,
    Read,
    StoredStage,
    UnitTable,
    Writer,
)

__all__ = [
    "AlreadyStored",
    "Check",
    "Counts",
    "Database",
    "DatabaseUnavailable",
    "ExportedTable",
    "FailureGroup",
    "MapStatsRead",
    "MatchRead",
    "PerfEconomyRead",
    "Read",
    "SaveResult",
    "StoredStage",
    "Unit",
    "UnitTable",
    "ValidationError",
    "Writer",
    "normalise_reason",
    "shipped_schema_version",
    "utc_now",
]
