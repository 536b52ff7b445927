"""Connections to the store and its schema.

The store's schema is store/schema.sql, PostgreSQL's translation of the
DuckDB schema at version 3 (reliefhub/migrations/0001 to 0003). Migrations are numbered as
DuckDB's are (reliefhub/migrations/NNNN_name.sql), and each DuckDB migration
has a PostgreSQL variant of the same number and name in store/migrations/, so
a store and a replica are always at the same version. Variants rather than a
translation: the two dialects differ in their regular expressions, in what
can be altered in place (PostgreSQL can change a CHECK; DuckDB rebuilds the
file) and in types, and a migration is written once and read by people, so
each dialect's text is what runs. No store predates version 3 (the first
version a store could be made at), so variants start after it; a test fails
when a DuckDB migration lacks one.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import psycopg

from reliefhub import faults, migrations

STORE_DIR = Path(__file__).parent
BASELINE = 3  # the schema version of store/schema.sql's first release
LOCK = 18_000_001  # pg_advisory lock key of the store's one writer at a time


class StoreUnreachable(faults.DatabaseFault):
    """PostgreSQL did not answer: writing is refused until it does."""


def connect(url: str, **options) -> psycopg.Connection:
    try:
        return psycopg.connect(url, connect_timeout=3, **options)
    except psycopg.OperationalError as error:
        raise StoreUnreachable(f"the store at {safe_url(url)} is unreachable: {error}") from error


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def variants() -> list[tuple[int, str, Path]]:
    """(number, name, path) of each PostgreSQL migration variant, in order."""
    found = []
    for path in sorted((STORE_DIR / "migrations").glob("[0-9]*.sql")):
        number, name = re.fullmatch(r"(\d{4})_(\w+)\.sql", path.name).groups()
        found.append((int(number), name, path))
    return found


def version(con: psycopg.Connection) -> int | None:
    """The store's schema version; None for a database without the store's tables."""
    if con.execute("SELECT to_regclass('public.meta')").fetchone()[0] is None:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = %s", (migrations.VERSION_KEY,)).fetchone()
    return int(row[0]) if row else None


def _set_version(con: psycopg.Connection, number: int) -> None:
    con.execute(
        "INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (migrations.VERSION_KEY, str(number)),
    )


def prepare(url: str, say=lambda text: None) -> int:
    """Create the store's schema in an empty database, or apply the migrations
    it lacks, in one transaction under the store's lock (two servers starting
    at once migrate once); returns the version it is at."""
    latest = migrations.latest()
    with connect(url) as con, con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        at = version(con)
        if at is None:
            say(f"Creating the store's schema at version {BASELINE}")
            con.execute((STORE_DIR / "schema.sql").read_text())
            _set_version(con, BASELINE)
            at = BASELINE
        if at > latest:
            raise migrations.MigrationError(f"the store is at schema version {at}, past this code's {latest}")
        for number, name, path in variants():
            if number > at:
                say(f"Applying the store's migration {number:04d}_{name}")
                con.execute(path.read_text())
                _set_version(con, number)
                at = number
        if at != latest:
            raise migrations.MigrationError(
                f"the store is at version {at}: no PostgreSQL variant of migration {at + 1}"
            )
    return at


def extension_path() -> Path:
    """DuckDB's postgres extension, from the duckdb-extension-postgres-scanner wheel."""
    import duckdb_extension_postgres_scanner as wheel

    return next(Path(wheel.__file__).parent.glob("extensions/*/postgres_scanner.duckdb_extension"))


def attach(con: duckdb.DuckDBPyConnection, url: str, name: str = "store", *, read_only: bool = False) -> None:
    """Attach the store to a DuckDB connection as catalogue `name`."""
    con.execute(f"LOAD '{extension_path()}'")
    mode = ", READ_ONLY" if read_only else ""
    quoted = url.replace("'", "''")  # ATTACH takes no parameters; the URL is configuration
    con.execute(f"ATTACH '{quoted}' AS {name} (TYPE postgres{mode})")
