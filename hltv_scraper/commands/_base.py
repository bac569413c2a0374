"""What every project command shares: the database it opens, its stray arguments, its errors.

A command is ``class Command(DatabaseCommand, ScrapyCommand)`` and writes
``execute(opts)``. (The base is a mixin: Scrapy takes every ScrapyCommand subclass in
this package for a command named after its module.) The base rejects positional
arguments the command does not take, opens the database the settings name (``with
self.database() as db``; only commands whose ``creates`` is true may make a new one)
and closes it, and turns the two kinds of expected mistakes,
``scrapy.exceptions.UsageError`` and ``hltv_scraper.storage.DatabaseUnavailable``, into
the one line Scrapy prints last, after its usage line, with exit status 2. Anything else
is a bug and keeps its traceback. A file it cannot write for a full disk is one line
too, with exit status 1; output into a closed pipe ends quietly. Its first line (on
stderr) names the database and the archive it uses, as absolute paths.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.exceptions import UsageError

from hltv_scraper.config import HltvConfig
from hltv_scraper.output import CannotWrite, standard_output
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
            # on stderr: stdout may be the export or summary a pipe reads
            print(self.config.where(), file=sys.stderr)
            with standard_output() as problems:
                self.execute(opts)
        except DatabaseUnavailable as exc:
            raise UsageError(one_line(exc), print_help=False) from None
        except CannotWrite as exc:
            problems = [str(exc)]
        if problems:  # the disk, not the input: exit 1
            print(f"scrapy {self._name()}: {problems[0]}", file=sys.stderr)
            self.exitcode = 1

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
    """``Database.open(location, create=create)``, closed afterwards. Storage refuses a
    location it cannot use (or, without ``create``, one with no database yet) with
    DatabaseUnavailable, one line naming it."""
    with _migrations_told(), Database.open(location, create=create) as db:
        yield db


@contextmanager
def _migrations_told() -> Iterator[None]:
    """A command has no log of its own (a crawl has Scrapy's): while it opens the
    database, storage's word that it migrates an older one (which can take a minute)
    goes to standard error."""
    schema = logging.getLogger("hltv_scraper.storage._schema")
    shown = [h for h in (*logging.getLogger().handlers, *schema.handlers) if not isinstance(h, logging.NullHandler)]
    if shown:  # someone shows the log already (Scrapy's own, for a crawl)
        yield
        return
    told = logging.StreamHandler(sys.stderr)
    told.setFormatter(logging.Formatter("%(message)s"))
    schema.addHandler(told)
    level, schema.level = schema.level, logging.INFO
    try:
        yield
    finally:
        schema.removeHandler(told)
        schema.setLevel(level)
