"""What every project command shares: the database it opens, its stray arguments, its errors.

A command is ``class Command(DatabaseCommand, ScrapyCommand)`` and writes
``execute(opts)``. (The base is a mixin: Scrapy takes every ScrapyCommand subclass in
this package for a command named after its module.) The base rejects positional
arguments the command does not take, opens the database the settings name (``with
self.database() as db``; only commands whose ``creates`` is true may make a new one)
and closes it, and turns the two kinds of expected mistakes,
``scrapy.exceptions.UsageError`` and ``hltv_scraper.storage.DatabaseUnavailable``, into
the one line Scrapy prints last, after its usage line, with exit status 2. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.exceptions import UsageError

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage import Database, DatabaseUnavailable

if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Iterator

#: What every command's ``-h`` says about the database it uses.
DATABASE_HELP = (
    "Database: the SQLite file HLTV_DB_PATH (default data/hltv.sqlite3), or PostgreSQL when "
    "HLTV_DB_URL is set; choose another with -s HLTV_DB_PATH=FILE or "
    "-s HLTV_DB_URL=postgresql://USER:PASSWORD@HOST:PORT/DB."
)

#: How a user gets a database to read, for the error when there is none.
HOW_TO_MAKE_ONE = "make one with `make demo`, `scrapy initdb` or a crawl (`scrapy collect`)"


class DatabaseCommand:
    """A project command on the database the settings name (mixed into ScrapyCommand)."""

    settings: Any

    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}
    #: May this command make a database that does not exist yet (``initdb``, ``add*``)?
    #: Commands that only read refuse to, so they never leave an empty file behind.
    creates: ClassVar[bool] = False

    def long_desc(self) -> str:
        return f"{self.short_desc()}. {DATABASE_HELP}"

    def run(self, args: list[str], opts: Namespace) -> None:
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)} (see scrapy {self._name()} -h)")
        try:
            self.execute(opts)
        except DatabaseUnavailable as exc:
            raise UsageError(one_line(exc), print_help=False) from None

    def execute(self, opts: Namespace) -> None:
        raise NotImplementedError

    @property
    def config(self) -> HltvConfig:
        config = getattr(self, "_config", None)
        if config is None:
            config = self._config = HltvConfig.from_settings(self.settings)
        return config

    @contextmanager
    def database(self) -> Iterator[Database]:
        with open_database(self.config.database, create=self.creates) as db:
            yield db

    def _name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]


def one_line(error: BaseException) -> str:
    """An expected error's message as the one line printed last."""
    return " ".join(str(error).split())


@contextmanager
def open_database(location: Any, *, create: bool) -> Iterator[Database]:
    """``Database.open(location, create=create)``, closed afterwards."""
    if not create:
        _refuse_missing_file(location)
    with opening(location):
        db = Database.open(location, create=create)
    try:
        yield db
    finally:
        db.close()


@contextmanager
def opening(location: Any) -> Iterator[None]:
    """Around opening a database: the driver's refusals (a folder, a file that is not a
    database, a server that is down, a wrong password) become DatabaseUnavailable."""
    try:
        yield
    except (DatabaseUnavailable, UsageError):
        raise
    except OSError as exc:  # a parent folder that cannot be made
        culprit = f" ({exc.filename})" if exc.filename else ""
        raise DatabaseUnavailable(
            f"cannot open the database {shown(location)}: {exc.strerror or exc}{culprit}"
        ) from None
    except Exception as exc:
        unavailable = _driver_error(location, exc)
        if unavailable is None:
            raise
        raise unavailable from None


def shown(location: Any) -> str:
    """The database's location as it may be printed: a path, or a URL without its password."""
    from sqlalchemy.engine import URL, make_url

    if isinstance(location, Path):
        return str(location)
    url = location if isinstance(location, URL) else make_url(str(location)) if "://" in str(location) else None
    if url is None:
        return str(location)
    if url.drivername.startswith("sqlite"):
        return str(url.database)
    return url.render_as_string(hide_password=True)


def _sqlite_path(location: Any) -> Path | None:
    from sqlalchemy.engine import URL

    if isinstance(location, URL):
        return Path(location.database or "") if location.drivername.startswith("sqlite") else None
    text = str(location)
    return None if "://" in text else Path(text)


def _refuse_missing_file(location: Any) -> None:
    """A reading command on a SQLite file that is not there: say so, create nothing.
    (Storage refuses it too with ``create=False``; this keeps the message the same on
    every storage version and names how to make one.)"""
    path = _sqlite_path(location)
    if path is not None and not path.exists():
        raise DatabaseUnavailable(
            f"no database at {path} (HLTV_DB_PATH): {HOW_TO_MAKE_ONE}, or name another with -s HLTV_DB_PATH=FILE"
        )


def _driver_error(location: Any, exc: Exception) -> DatabaseUnavailable | None:
    """The database driver's refusal to open (a folder, a file that is not a database,
    a server that is down, a wrong password) as one line, or None for anything else."""
    from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError

    # a bare DatabaseError is SQLite's "file is not a database"; its subclasses other
    # than OperationalError (a bad statement, a constraint) are bugs
    if not (type(exc) is DatabaseError or isinstance(exc, (OperationalError, InterfaceError))):
        return None
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return DatabaseUnavailable(f"cannot open the database {shown(location)}: {reason[0] if reason else type(exc).__name__}")
