"""Storage: the schema migrations and every query the project runs, on SQLite or PostgreSQL.

This is the package's public surface: code outside storage imports these names, never
a private module. Storage imports nothing of the project but itself and
``hltv_scraper.items``; what it must know of the rest (the parser version, slugs,
validation) callers pass in.
"""

from hltv_scraper.storage._errors import AlreadyStored, DatabaseUnavailable, SaveResult, ValidationError
from hltv_scraper.storage._failures import FailureGroup, normalise_reason
from hltv_scraper.storage._schema import shipped_schema_version
from hltv_scraper.storage.database import Database, Unit, utc_now
from hltv_scraper.storage.stages import MAP_STATS, MATCHES, PERF_ECONOMY, RESULTS_STAGE, STAGES, Stage

__all__ = [
    "MAP_STATS",
    "MATCHES",
    "PERF_ECONOMY",
    "RESULTS_STAGE",
    "STAGES",
    "AlreadyStored",
    "Database",
    "DatabaseUnavailable",
    "FailureGroup",
    "SaveResult",
    "Stage",
    "Unit",
    "ValidationError",
    "normalise_reason",
    "shipped_schema_version",
    "utc_now",
]
