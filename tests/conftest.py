"""Shared fixtures: a small fixture database built from tests/fixtures/data."""

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reliefhub import access, auth
from reliefhub.auth import Identity
from reliefhub.db import Database, shared_database
from reliefhub.loader import build_database

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"

# Memory-backed scratch, used when it and the machine's free memory both have this much room.
MEMORY_SCRATCH = Path("/dev/shm")
SCRATCH_ROOM_BYTES = 8 * 2**30


def pytest_configure(config):
    """Scratch files in memory where the machine has room: the tests write
    and sync hundreds of database files and PostgreSQL clusters, and on a
    virtual disk the waiting for that is a large share of the suite's time
    (docs/benchmark.md, "Scratch files in memory"). Set before the workers
    start, so they, the servers and the browsers they start inherit it. An
    explicit TMPDIR or --basetemp is left alone."""
    if "TMPDIR" in os.environ or config.option.basetemp or not has_room(MEMORY_SCRATCH):
        return
    scratch = MEMORY_SCRATCH / "reliefhub-tests"
    scratch.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


def has_room(folder: Path) -> bool:
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        return False
    stat = os.statvfs(folder)
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return min(stat.f_bavail * stat.f_frsize, available) >= SCRATCH_ROOM_BYTES


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


def new_request(request_id: str, requester_iso3: str, **overrides) -> dict:
    """A request for 10 ventilators through the EADRCC, as the form submits it."""
    return {
        "request_id": request_id, "requester_iso3": requester_iso3, "channel": "eadrcc",
        "addressed_to": "NATO EADRCC", "material_code": "ventilators", "quantity": "10",
        "description": "Ventilators", "requested_on": "2020-04-01", "date_precision": "day",
        "status": "open", "source_urls": f"https://example.org/{request_id}", "source_note": "test",
    } | overrides  # fmt: skip


def no_filters(**overrides) -> dict:
    """Query parameters with every shared filter unset."""
    return {"countries": [], "materials": [], "modes": [], "date_from": None, "date_to": None} | overrides


@pytest.fixture
def writable_db(fixture_db_path, tmp_path) -> Database:
    """A private, writable copy of the fixture database, opened as the app opens it."""
    path = tmp_path / "writable.duckdb"
    shutil.copy(fixture_db_path, path)
    db = Database(path)
    yield db
    db.close()


def staff(name: str = "Ana Novak", countries: tuple[str, ...] = ()) -> Identity:
    """A staff member, for calling the write path directly."""
    return Identity(f"test:{name}", name, "staff", tuple(countries))


ADMIN = Identity("test:admin", "Test admin", "admin")
PASSWORD = "a long test password"


def on_tab(app, key: str, label: str):
    """The page with the tab of this label in `st.tabs(key=key)` open, as a click on it does
    (pages draw only the open tab)."""
    app.session_state[key] = label
    return app.run()


def sign_in_as(app, role: str, name: str | None = None, countries: tuple[str, ...] = ()) -> Identity:
    """Sign an AppTest session in as a real local account of `role` in the
    app's database ($RELIEFHUB_DB), made if missing: the page reads the account
    back on every run, as it does for a browser."""
    name = name or f"{role} account"
    db = shared_database()
    if auth.read(db, "users_list").query("name == @name").empty:
        auth.add_user(db, name, role, PASSWORD, by=ADMIN, countries=list(countries))
    outcome = auth.sign_in(db, name, PASSWORD, None)
    app.session_state[access.SESSION_KEY] = access.LocalSession(outcome.identity, datetime.now(UTC))
    return outcome.identity


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole test session (see reliefhub/store/local_server.py)."""
    from reliefhub.store.local_server import PostgresServer, binaries

    if binaries() is None:
        pytest.fail("PostgreSQL's server binaries (Debian's postgresql package) are not installed")
    with PostgresServer.temporary() as server:
        yield server


@pytest.fixture
def store_url(postgres_server) -> str:
    """A new, empty PostgreSQL database for one test."""
    return postgres_server.new_database()


@pytest.fixture(autouse=True)
def pages_closed_after_each_test(request):
    """A browser test's pages close when it ends, passed or failed: the
    module's browser outlives it, and a page left open (a wall replaying at
    4K) would go on drawing and slow every later test of the module."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
