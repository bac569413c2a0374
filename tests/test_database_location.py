"""Opening a database: reading never creates one, and a location that cannot be used
is one line naming it (masked) and what was wrong, as DatabaseUnavailable."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from hltv_scraper.storage import Database, DatabaseUnavailable
from hltv_scraper.storage._schema import _statements, migrations
from tests.support.schema import sqlite_at_version


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message and "File \"" not in message, message
    return message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- reading never creates ----------------------------------------------------------------


def test_a_missing_sqlite_file_is_not_created_when_reading(tmp_path):
    path = tmp_path / "nothing" / "here" / "hltv.sqlite3"
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(path, create=False)
    assert one_line(error) == (
        f"no database at {path} yet: make one with `make demo`, `scrapy initdb` or a crawl (`scrapy collect`)"
    )
    assert not (tmp_path / "nothing").exists()


def test_an_empty_postgresql_database_gets_no_tables_when_reading(postgres):
    url = postgres.new_database()
    password = url.split(":")[2].split("@")[0]
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(url, create=False)
    message = one_line(error)
    assert message.startswith("no database at ")
    assert message.endswith(" yet: make one with `make demo`, `scrapy initdb` or a crawl (`scrapy collect`)")
    assert password not in message and "***" in message and url.rsplit("/", 1)[1] in message
    with Database.open(url) as db:  # nothing was made: a crawl's open starts from version 0
        assert db.applied and db.applied[0].startswith("0001_")


@pytest.mark.both_backends
def test_an_existing_database_opens_for_reading_and_is_migrated(database, caplog):
    """A database one migration behind (whichever migration is the newest) is brought up
    to date by a read, which says so first (a rebuild of tables takes a while)."""
    dialect = "postgresql" if str(database).startswith("postgresql") else "sqlite"
    shipped = migrations(dialect)
    latest = len(shipped)
    if dialect == "sqlite":  # an older schema of ours, made by hand
        sqlite_at_version(Path(database), latest - 1)
    else:
        with psycopg.connect(database) as connection:
            for statement in [s for _, _, script in shipped[:-1] for s in _statements(script)]:
                connection.execute(statement)
            connection.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            connection.execute(
                "INSERT INTO schema_migrations (version, name) SELECT v, 'older' FROM generate_series(1, %s) v",
                (latest - 1,),
            )
    with caplog.at_level("INFO", logger="hltv_scraper.storage._schema"):
        with Database.open(database, create=False) as db:
            assert db.schema_version == latest and db.applied == [shipped[-1][1]]
    assert [r.getMessage() for r in caplog.records] == [f"Migrating the database: {shipped[-1][1]}"]


# -- bad locations, whatever create -------------------------------------------------------


@pytest.mark.parametrize("create", [True, False])
def test_a_folder_as_the_database_path(tmp_path, create):
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(tmp_path, create=create)
    assert one_line(error).startswith(f"cannot open the database {tmp_path}: it is a folder; HLTV_DB_PATH names the SQLite database file")


@pytest.mark.parametrize("create", [True, False])
def test_a_file_that_is_not_a_database(tmp_path, create):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 20)
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(path, create=create)
    assert one_line(error) == f"cannot open the database {path}: is not a SQLite database file"
    assert path.read_text().startswith("these are my notes")


@pytest.mark.parametrize("create", [True, False])
def test_a_postgresql_server_that_is_down(create):
    port = _closed_port()
    url = f"postgresql://hltv:s3cret-pw@127.0.0.1:{port}/hltv"
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(url, create=create)
    message = one_line(error)
    assert message.startswith(f"cannot open the database postgresql+psycopg://hltv:***@127.0.0.1:{port}/hltv: ")
    assert "s3cret-pw" not in message and "refused" in message.lower()


@pytest.mark.parametrize("create", [True, False])
def test_a_wrong_password(postgres, create):
    url = postgres.new_database()
    password = url.split(":")[2].split("@")[0]
    wrong = url.replace(password, "not-the-password")
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(wrong, create=create)
    message = one_line(error)
    assert "not-the-password" not in message and password not in message
    assert "***@127.0.0.1" in message and "password authentication failed" in message


@pytest.mark.parametrize("create", [True, False])
def test_a_database_the_server_does_not_have(postgres, create):
    url = postgres.new_database().rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(url, create=create)
    assert 'database "no_such_database" does not exist' in one_line(error)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://hltv:pw-1@127.0.0.1:notaport/hltv", "postgresql://hltv:***@127.0.0.1:notaport/hltv"),
        ("postgresql//hltv:pw-1@127.0.0.1/hltv", "postgresql//hltv:***@127.0.0.1/hltv"),
        ("mysql://hltv:pw-1@127.0.0.1/hltv", "mysql://hltv:***@127.0.0.1/hltv"),
    ],
)
@pytest.mark.parametrize("create", [True, False])
def test_a_malformed_url(url, shown, create, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseUnavailable) as error:
        Database.open(url, create=create)
    message = one_line(error)
    assert message.startswith(f"cannot open the database {shown}: HLTV_DB_URL ") and "pw-1" not in message
    assert list(Path(tmp_path).iterdir()) == []  # not taken for a SQLite path


def test_a_new_database_is_made_without_a_word_of_migrating(tmp_path, caplog):
    """Only an upgrade says it migrates: making a database is not news."""
    with caplog.at_level("INFO", logger="hltv_scraper.storage._schema"):
        with Database.open(tmp_path / "new.sqlite3") as db:
            assert db.applied and db.applied[0].startswith("0001_")
    assert caplog.records == []
