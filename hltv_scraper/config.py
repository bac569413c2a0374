"""The project's own settings, read once into one typed object.

Every ``HLTV_*`` setting, its default and the reason for it lives here; the rest of the
code reads :class:`HltvConfig`, never the settings object. Override any of them with
``scrapy crawl ... -s NAME=value``.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hltv_scraper.storage._schema import database_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from sqlalchemy.engine import URL


@dataclass(frozen=True)
class HltvConfig:
    #: HLTV_DB_PATH: the SQLite file; parent folders are created.
    db_path: Path = Path("data/hltv.sqlite3")
    #: HLTV_DB_URL: ``postgresql://user:password@host:port/db`` selects PostgreSQL (the
    #: database several machines share) instead of the SQLite file.
    db_url: str | None = field(default=None, repr=False)  # it may hold a password
    #: HLTV_BASE_URL: site root; pages are requested below it.
    base_url: str = "https://www.hltv.org"
    #: HLTV_MAX_ATTEMPTS: parse failures after which a map is no longer pending. Three
    #: survives a transient glitch without re-fetching a page that is broken for good.
    max_attempts: int = 3
    #: HLTV_MAX_FETCH_FAILURES: units in a row with a page that could not be fetched
    #: (refusals, errors after retries) that stop the crawl. Hammering a site that
    #: refuses us gets us banned.
    max_fetch_failures: int = 10
    #: HLTV_MAX_PARSE_FAILURES: units in a row failing to parse on the same page kind
    #: that stop the crawl as ``hltv_layout_changed``; those failures cost no attempt.
    #: One broken page is the page; five in a row is the site's new layout.
    max_parse_failures: int = 5
    #: HLTV_LEASE_SECONDS: how long a crawl's claim on a unit lasts unless renewed
    #: (renewed every third of it while the unit is in flight). A crawl that dies
    #: holds its units this long.
    lease_seconds: float = 600.0
    #: HLTV_WORKER_ID: this crawl's name on the leases it holds; by default
    #: ``host-pid-random``, unique among crawls sharing a database.
    worker_id: str | None = None
    #: HLTV_REFUSAL_RETRIES: retries of a page Cloudflare refused, each after the
    #: site's download delay has doubled.
    refusal_retries: int = 2
    #: HLTV_BACKOFF_START_DELAY: the delay (seconds) a first refusal raises a delay of 0 to.
    backoff_start_delay: float = 5.0
    #: HLTV_BACKOFF_MAX_DELAY: the most a refusal or a Retry-After slows the site to.
    backoff_max_delay: float = 300.0
    #: HLTV_MAPS_IN_FLIGHT: maps requested but not yet resolved. Bounds memory and keeps
    #: the scheduler from holding the whole pending list.
    maps_in_flight: int = 16
    #: HLTV_ARCHIVE_DIR: where every good response is kept (gzipped, by page and id).
    archive_dir: Path = Path("data/archive")
    #: HLTV_ARCHIVE: record responses into the archive (and serve them from it).
    archive: bool = True
    #: HLTV_REPLAY: serve the crawl from the archive alone; a page not in it is a fetch
    #: failure, the network is never touched.
    replay: bool = False

    def new_worker_id(self) -> str:
        """This crawl's worker id: HLTV_WORKER_ID, else host-pid-random."""
        return self.worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"

    @property
    def database(self) -> URL:
        """The database to open: PostgreSQL with HLTV_DB_URL, else the SQLite file."""
        return database_url(url=self.db_url, path=self.db_path)

    @classmethod
    def of(cls, crawler: Crawler) -> HltvConfig:
        """The crawl's one config: read from its settings the first time, then kept on
        the crawler, so every component of a crawl shares one object."""
        config = getattr(crawler, "hltv_config", None)
        if config is None:
            config = crawler.hltv_config = cls.from_settings(crawler.settings)
        return config

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> HltvConfig:
        default = cls()
        max_attempts = number_setting(settings, "HLTV_MAX_ATTEMPTS", default.max_attempts, minimum=1)
        maps_in_flight = number_setting(settings, "HLTV_MAPS_IN_FLIGHT", default.maps_in_flight, minimum=1)
        max_fetch_failures = number_setting(
            settings, "HLTV_MAX_FETCH_FAILURES", default.max_fetch_failures, minimum=1
        )
        max_parse_failures = number_setting(
            settings, "HLTV_MAX_PARSE_FAILURES", default.max_parse_failures, minimum=1
        )
        lease_seconds = number_setting(settings, "HLTV_LEASE_SECONDS", default.lease_seconds, minimum=0.1)
        db_url = settings.get("HLTV_DB_URL") or None
        if db_url:
            database_url(url=db_url, path="")  # a bad URL fails here, before any request
        return cls(
            db_path=Path(settings.get("HLTV_DB_PATH") or default.db_path),
            db_url=db_url,
            max_parse_failures=max_parse_failures,
            lease_seconds=lease_seconds,
            worker_id=settings.get("HLTV_WORKER_ID") or None,
            base_url=str(settings.get("HLTV_BASE_URL") or default.base_url).rstrip("/"),
            max_attempts=max_attempts,
            max_fetch_failures=max_fetch_failures,
            maps_in_flight=maps_in_flight,
            refusal_retries=max(0, settings.getint("HLTV_REFUSAL_RETRIES", default.refusal_retries)),
            backoff_start_delay=settings.getfloat("HLTV_BACKOFF_START_DELAY", default.backoff_start_delay),
            backoff_max_delay=settings.getfloat("HLTV_BACKOFF_MAX_DELAY", default.backoff_max_delay),
            archive_dir=Path(settings.get("HLTV_ARCHIVE_DIR") or default.archive_dir),
            archive=settings.getbool("HLTV_ARCHIVE", default.archive),
            replay=settings.getbool("HLTV_REPLAY", default.replay),
        )



def number_setting(settings: BaseSettings, name: str, default: float, *, minimum: float) -> Any:
    """A number setting (of the default's type) that must be at least ``minimum``."""
    value = (settings.getint if isinstance(default, int) else settings.getfloat)(name, default)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value
