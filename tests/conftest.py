from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer
from tests.support.server import ClearanceGate, FixtureServer
from tests.support.crawl import database_settings


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` run once on SQLite and once on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole run (started on first use)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where the test's database is: a SQLite file, or a fresh PostgreSQL database's URL."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres").new_database()
    return tmp_path / "db" / "hltv.sqlite3"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    fixture_server = FixtureServer().start()
    yield fixture_server
    fixture_server.stop()


@pytest.fixture
def gate() -> ClearanceGate:
    return ClearanceGate()


@pytest.fixture
def gated_server(gate: ClearanceGate) -> Iterator[FixtureServer]:
    """The fixture site behind Cloudflare: a test module makes it its ``server``."""
    guarded = FixtureServer(gate=gate).start()
    yield guarded
    guarded.stop()


@pytest.fixture
def crawl_settings(server: FixtureServer, database: Path | str, tmp_path: Path) -> dict:
    settings = {
        **database_settings(database),
        "HLTV_BASE_URL": server.base_url,
        "HLTV_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    if not isinstance(database, Path):  # PostgreSQL: the clearance profiles would go to ./data
        settings["HLTV_BROWSER_PROFILE_DIR"] = str(tmp_path / "browser-profiles")
    return settings


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo dataset (tests/dataset.py) in SQLite, built once: copy it to change it."""
    from tests.support.dataset import build_demo_database

    path = tmp_path_factory.mktemp("demo") / "hltv.sqlite3"
    build_demo_database(path)
    return path


@pytest.fixture(scope="session")
def demo_postgres(postgres: PostgresServer) -> str:
    """The demo dataset in a PostgreSQL database of its own, built once."""
    from tests.support.dataset import build_demo_database

    url = postgres.new_database()
    build_demo_database(url)
    return url


@pytest.fixture
def demo_database(backend: str, request: pytest.FixtureRequest) -> Path | str:
    """The demo dataset on the test's backend, shared by the session: read it only."""
    return request.getfixturevalue("demo_postgres" if backend == "postgresql" else "demo_sqlite")
