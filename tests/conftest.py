"""Shared fixtures: a small fixture database built from tests/fixtures/data."""

import shutil
from pathlib import Path

import pytest

from reliefhub.db import Database
from reliefhub.loader import build_database

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"


@pytest.fixture(scope="session")
def fixture_db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fixture") / "fixture.duckdb"
    build_database(FIXTURE_DATA, path)
    return path


@pytest.fixture(scope="session")
def fixture_db(fixture_db_path) -> Database:
    db = Database(fixture_db_path)
    yield db
    db.close()


@pytest.fixture
def fixture_copy(tmp_path) -> Path:
    """A writable copy of the fixture sources, to break on purpose."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, target)
    return target


def no_filters(**overrides) -> dict:
    """Query parameters with every shared filter unset."""
    return {"countries": [], "materials": [], "modes": [], "date_from": None, "date_to": None} | overrides
