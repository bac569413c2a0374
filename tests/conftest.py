from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import ClearanceGate, FixtureServer


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
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "hltv.sqlite3"


@pytest.fixture
def crawl_settings(server: FixtureServer, db_path: Path, tmp_path: Path) -> dict:
    return {
        "HLTV_DB_PATH": str(db_path),
        "HLTV_BASE_URL": server.base_url,
        "HLTV_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
