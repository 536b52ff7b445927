"""Numbered migrations bring a database built by an older release to today's
schema, after a backup copy, with every row intact."""

import gzip
import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from reliefhub import __main__ as cli
from reliefhub import imports, migrations, models, operations, writes
from reliefhub.db import Database
from reliefhub.loader import build_database
from tests.conftest import FIXTURE_DATA, staff
from tests.test_movements import shipments_csv
from tests.test_operations import BASE, audit_rows

RELEASE_0_1 = Path(__file__).parent / "fixtures" / "release-0.1.duckdb.gz"
KEPT_TABLES = (*models.SOURCE_TABLES, "audit_log")
WHO = staff("Ana Novak")


@pytest.fixture
def release_db(tmp_path) -> Path:
    """A copy of the database the release before numbered migrations built."""
    path = tmp_path / "release.duckdb"
    with gzip.open(RELEASE_0_1) as packed, open(path, "wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def columns_of(path: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: [c for c, *_ in con.execute(f"DESCRIBE {t}").fetchall()] for t in KEPT_TABLES}


def every_row(path: Path, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of the kept tables, in the columns given (those a file had
    before a migration added more)."""
    with duckdb.connect(str(path), read_only=True) as con:
        # As text: exactly what is stored, and no time zone module needed to read it.
        return {
            t: con.execute(
                f"SELECT {', '.join(f'{c}::VARCHAR' for c in columns[t])} FROM {t} ORDER BY ALL"  # noqa: S608
            ).fetchall()
            for t in KEPT_TABLES
        }


def schema_version(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return migrations.version(con)


@pytest.fixture
def with_migration(tmp_path, monkeypatch):
    """Today's migrations plus one more, written by the test as a helper would."""

    def add(name: str, sql: str) -> None:
        folder = tmp_path / "migrations"
        shutil.copytree(migrations.MIGRATIONS_DIR, folder)
        (folder / f"{migrations.latest() + 1:04d}_{name}.sql").write_text(sql)
        monkeypatch.setattr(migrations, "MIGRATIONS_DIR", folder)

    return add


def definition(table: str) -> str:
    """Today's CREATE TABLE statement for a table, as DuckDB words it."""
    return next(s for s in migrations.schema() if s.startswith(f"CREATE TABLE {table}("))


def requests_definition(status_values: str) -> str:
    """Today's CREATE TABLE requests with another list of statuses."""
    return re.sub(r"status IN \([^)]*\)", f"status IN ({status_values})", definition("requests"), count=1)


# A nullable column: in place when DuckDB can add it (no constraint), by a
# rebuild when it has a CHECK (DuckDB cannot add a column with a constraint).
HANDLING_IN_PLACE = "ALTER TABLE shipments ADD COLUMN handling VARCHAR;"
HANDLING_CHECKED = "-- kind: rebuild\n" + definition("shipments").replace(
    "quantity_precision VARCHAR, ",
    "quantity_precision VARCHAR, handling VARCHAR CHECK (handling IN ('ambient', 'chilled')), ",
    1,
)


def test_the_release_database_opens_migrated_with_every_row_intact(release_db):
    old_columns = columns_of(release_db)
    before = every_row(release_db, old_columns)
    assert schema_version(release_db) == 0
    db = Database(release_db)
    try:
        assert list(release_db.parent.glob("release.duckdb.before-0001_*"))
        assert db.stale  # its models were stored by older definitions: refreshed as a step of its own
        db.refresh()
        assert models.differences(db.connection.cursor()) == {}
        assert str(db.query("data_bounds").at[0, "first_date"].date()) == "2020-03-20"
    finally:
        db.close()
    assert schema_version(release_db) == migrations.latest()
    assert every_row(release_db, old_columns) == before


def test_a_database_from_before_the_audit_trail_gets_it_when_opened(release_db):
    with duckdb.connect(str(release_db)) as con:
        con.execute("DROP TABLE audit_log")
    db = Database(release_db)
    try:
        db.refresh()
        assert writes.audit_available(db)
        assert operations.add_record(db, "places", BASE["places"], who=WHO).ok
        assert [r["record_id"] for r in audit_rows(db)] == ["brno"]
    finally:
        db.close()


def test_a_fresh_database_is_built_at_the_latest_version(tmp_path):
    path = tmp_path / "fresh.duckdb"
    build_database(FIXTURE_DATA, path)
    assert schema_version(path) == migrations.latest()
    Database(path).close()
    assert not list(tmp_path.glob("fresh.duckdb.before-*"))


def schema_catalogue(path: Path) -> dict[str, tuple[list, list]]:
    """The columns and constraints of every table the migrations create, as
    DuckDB's catalogue lists them."""
    tables = [re.match(r"CREATE TABLE (\w+)", statement).group(1) for statement in migrations.schema()]
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: (
                con.execute(
                    "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
                    "WHERE schema_name = 'main' AND table_name = $t ORDER BY column_index",
                    {"t": table},
                ).fetchall(),
                sorted(
                    con.execute(
                        "SELECT constraint_type, constraint_text FROM duckdb_constraints() "
                        "WHERE schema_name = 'main' AND table_name = $t",
                        {"t": table},
                    ).fetchall()
                ),
            )
            for table in tables
        }


def test_the_migrations_bring_the_release_database_to_exactly_what_a_fresh_build_creates(
    release_db, tmp_path
):
    """A fresh build takes its tables from what the migrations make of an
    empty file; the release database, which started elsewhere (release 0.1's
    own schema), must end in the same place."""
    migrations.migrate(release_db)
    fresh = tmp_path / "fresh.duckdb"
    build_database(FIXTURE_DATA, fresh)
    migrated, built = schema_catalogue(release_db), schema_catalogue(fresh)
    assert len(built) == 11
    assert migrated == built


def test_the_schema_command_prints_exactly_todays_tables(capsys, tmp_path):
    assert cli.main(["schema"]) == 0
    printed, fresh = tmp_path / "printed.duckdb", tmp_path / "fresh.duckdb"
    with duckdb.connect(str(printed)) as con:
        con.execute(capsys.readouterr().out)
    with duckdb.connect(str(fresh)) as con:
        migrations.create_tables(con)
    assert schema_catalogue(printed) == schema_catalogue(fresh)


def test_a_check_constraint_changes_by_rebuilding_the_file_with_every_row(release_db, with_migration):
    with_migration(
        "requests_superseded",
        "-- kind: rebuild\n-- A request may be superseded by a later one.\n"
        + requests_definition(
            "'open', 'partially_fulfilled', 'fulfilled', 'closed', 'withdrawn', 'cancelled', 'superseded'"
        ),
    )
    old_columns = columns_of(release_db)
    before = every_row(release_db, old_columns)
    Database(release_db).close()
    assert every_row(release_db, old_columns) == before
    with duckdb.connect(str(release_db)) as con:
        con.execute("UPDATE requests SET status = 'superseded' WHERE request_id = 'req-esp-ventilators'")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("UPDATE requests SET status = 'forgotten' WHERE request_id = 'req-esp-ventilators'")
        with pytest.raises(duckdb.ConstraintException, match="foreign key"):  # references survive the copy
            con.execute("UPDATE shipments SET request_id = 'req-nowhere' WHERE shipment_id = 'shp-suits-esp'")
        with pytest.raises(duckdb.ConstraintException):  # and so do the other tables' rules
            con.execute("UPDATE places SET latitude = 91 WHERE place_id = 'milan'")


def test_rows_the_new_definition_refuses_stop_the_migration_and_leave_the_file_as_it_was(
    release_db, with_migration
):
    with_migration("no_open_requests", "-- kind: rebuild\n" + requests_definition("'closed'"))
    digest = hashlib.sha256(release_db.read_bytes()).hexdigest()
    with pytest.raises(migrations.MigrationError, match="rows of requests do not fit"):
        Database(release_db)
    assert hashlib.sha256(release_db.read_bytes()).hexdigest() == digest
    assert not list(release_db.parent.glob("*.migrating-*"))


@pytest.mark.parametrize("migration", [HANDLING_IN_PLACE, HANDLING_CHECKED], ids=["in place", "rebuild"])
def test_a_nullable_column_is_one_migration_and_files_without_it_keep_importing(
    release_db, with_migration, tmp_path, migration
):
    with_migration(
        "shipment_handling",
        "-- How the goods must be kept on the way.\n" + migration,
    )
    db = Database(release_db)
    try:
        db.refresh()
        db.connection.execute("UPDATE shipments SET handling = 'chilled' WHERE shipment_id = 'shp-suits-ita'")
        older_file = shipments_csv(tmp_path, 3)
        assert "handling" not in older_file.read_text()
        assert imports.import_file(db, older_file, "shipments", who=WHO).ok
        recounted = tmp_path / "update.csv"
        copy = "COPY (SELECT * EXCLUDE (handling) REPLACE ('Suits, recounted' AS description) FROM shipments "
        copy += "WHERE shipment_id = 'shp-suits-ita') TO '{}' (HEADER)"
        db.connection.execute(copy.format(recounted))
        assert imports.import_file(db, recounted, "shipments", who=WHO, update=True).ok
        stored = db.connection.execute(
            "SELECT shipment_id, handling FROM shipments WHERE shipment_id LIKE 'shp-imp-%' "
            "OR description = 'Suits, recounted' ORDER BY 1"
        ).fetchall()
        assert stored == [
            ("shp-imp-1", None), ("shp-imp-2", None), ("shp-imp-3", None), ("shp-suits-ita", "chilled")
        ]  # fmt: skip
        assert models.differences(db.connection.cursor()) == {}
    finally:
        db.close()


def test_migrations_are_numbered_without_gaps(tmp_path, monkeypatch):
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    (tmp_path / "0003_third.sql").write_text("SELECT 1;")
    with pytest.raises(migrations.MigrationError, match="without gaps"):
        migrations.all_migrations(tmp_path)
