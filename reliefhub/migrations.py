"""Numbered schema migrations: reliefhub/migrations/NNNN_name.sql.

The migrations are the one definition of the schema. A database records in
`meta` the number of the last migration applied to it (`schema_version`; none
means 0, the release before migrations). Opening it for writing applies the
migrations after that number, in order, once a backup copy of the file has
been made beside it. A fresh database is created at the latest number from
`schema()`: the tables every migration in turn makes of an empty file. So a
migrated file and a fresh one have the same tables by construction, and a
schema change is one new migration; a migration, once released, is never
edited (it is what older files went through).

A migration is one of two kinds (its `-- kind:` header line):

- `in place` (the default): its statements run in one transaction on the live
  file. For what DuckDB can alter: a new table, a new nullable column.
- `rebuild`: DuckDB can neither change a CHECK constraint nor drop a table
  that foreign keys reference, so the file is rebuilt: a fresh file gets every
  table, each created by the migration's own `CREATE TABLE` when it has one
  and as it stands otherwise (plus the migration's new tables), in the order
  their references require; every row is copied across by column name, the
  counts are compared, and only then is the fresh file swapped in. A row the
  new definition refuses stops the migration with DuckDB's reason, and the
  file is left as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from reliefhub import PACKAGE_DIR

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
VERSION_KEY = "schema_version"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    kind: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.number:04d}_{self.name}"


def all_migrations(directory: Path | None = None) -> list[Migration]:
    found = []
    for path in sorted(Path(directory or MIGRATIONS_DIR).glob("[0-9]*.sql")):
        number, name = re.fullmatch(r"(\d{4})_(\w+)\.sql", path.name).groups()
        text = path.read_text()
        kind = re.search(r"^-- kind: (.+)$", text, flags=re.MULTILINE)
        found.append(Migration(int(number), name, kind.group(1).strip() if kind else "in place", text))
    if [m.number for m in found] != list(range(1, len(found) + 1)):
        labels = [m.label for m in found]
        raise MigrationError(f"migrations must be numbered 1, 2, 3 ... without gaps: {labels}")
    return found


def latest(directory: Path | None = None) -> int:
    return len(all_migrations(directory))


def version(con: duckdb.DuckDBPyConnection, database: str = "main") -> int:
    found = con.execute(
        f"SELECT value FROM {database}.meta WHERE key = $key",  # noqa: S608 (a schema name of ours)
        {"key": VERSION_KEY},
    ).fetchone()
    return int(found[0]) if found else 0


def mark_current(con: duckdb.DuckDBPyConnection, number: int | None = None) -> None:
    """Record that the database is at `number` (default: the latest migration)."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($key, $value)",
        {"key": VERSION_KEY, "value": str(latest() if number is None else number)},
    )


def migrate(path: Path, directory: Path | None = None, say=lambda text: None) -> list[str]:
    """Apply what the file lacks, after a backup copy; returns the labels applied."""
    path = Path(path)
    if not path.exists():
        return []
    with duckdb.connect(str(path)) as con:
        at = version(con)
        todo = [m for m in all_migrations(directory) if m.number > at]
        if at > latest(directory):
            raise MigrationError(f"{path} is at schema version {at}, past this code's {latest(directory)}")
        if todo:
            con.execute("CHECKPOINT")  # the backup is then the file alone, without a write-ahead log
    if not todo:
        return []
    backup = path.with_name(f"{path.name}.before-{todo[0].label}-{datetime.now(UTC):%Y%m%dT%H%M%S}")
    shutil.copy2(path, backup)
    say(f"Backed up {path} to {backup}")
    try:
        for migration in todo:
            say(f"Applying migration {migration.label}")
            apply(path, migration)
    except BaseException:
        shutil.copy2(backup, path)  # all of them or none: back to the file as it was
        say(f"Migration failed; {path} is as it was")
        raise
    return [m.label for m in todo]


def schema(directory: Path | None = None) -> tuple[str, ...]:
    """Today's tables as CREATE TABLE statements, each after the tables it
    references: what every migration in turn makes of an empty file (worked
    out once per process). Tables only: a migration that adds an index or a
    sequence must add it here and in `rebuild` too."""
    return _schema(Path(directory or MIGRATIONS_DIR))


@cache
def _schema(directory: Path) -> tuple[str, ...]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "empty.duckdb"
        duckdb.connect(str(path)).close()
        for migration in all_migrations(directory):
            apply(path, migration)
        with duckdb.connect(str(path), read_only=True) as con:
            return tuple(statement for _, statement in tables_in_reference_order(con, "empty"))


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Today's tables in an empty database, marked as at the latest migration."""
    for statement in schema():
        con.execute(statement)
    mark_current(con)


def apply(path: Path, migration: Migration) -> None:
    if migration.kind == "rebuild":
        rebuild(path, migration)
    else:
        apply_in_place(path, migration)


def apply_in_place(path: Path, migration: Migration) -> None:
    with duckdb.connect(str(path)) as con:
        con.begin()
        con.execute(migration.sql)
        mark_current(con, migration.number)
        con.commit()


def new_definitions(sql: str) -> dict[str, str]:
    """The migration's CREATE TABLE statements, by table name."""
    # DuckDB's own parser splits the statements: a CHECK's pattern may hold a ';'.
    statements = [s.query for s in duckdb.extract_statements(sql)]
    found = {}
    for statement in statements:
        match = re.search(r"^\s*CREATE TABLE (?:IF NOT EXISTS )?(\w+)", statement, re.I | re.M)
        if not match:
            raise MigrationError(f"a rebuild migration holds only CREATE TABLE statements: {statement[:60]}")
        found[match.group(1)] = statement
    return found


def tables_in_reference_order(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every table, each after the tables it references."""
    tables = dict(
        con.execute(
            "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = $db AND schema_name = 'main'",
            {"db": database},
        ).fetchall()
    )
    references = con.execute(
        "SELECT table_name, referenced_table FROM duckdb_constraints() "
        "WHERE database_name = $db AND constraint_type = 'FOREIGN KEY'",
        {"db": database},
    ).fetchall()
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for table, referenced in references:
                if table == name and referenced != name:
                    visit(referenced)
            ordered.append(name)

    for name in sorted(tables):
        visit(name)
    return [(name, tables[name]) for name in ordered]


def rebuild(path: Path, migration: Migration) -> None:
    """Copy every row into a fresh file made with the migration's definitions, then swap it in."""
    fresh = path.with_name(f"{path.name}.migrating-{os.getpid()}")
    fresh.unlink(missing_ok=True)
    definitions = new_definitions(migration.sql)
    try:
        with duckdb.connect(str(fresh)) as con:
            escaped = str(path).replace("'", "''")
            con.execute(f"ATTACH '{escaped}' AS old (READ_ONLY)")
            old_tables = tables_in_reference_order(con, "old")
            for name, statement in old_tables:
                con.execute(definitions.pop(name, statement))
            for statement in definitions.values():  # tables new in this migration
                con.execute(statement)
            for name, _ in old_tables:
                _copy_rows(con, name)
            mark_current(con, migration.number)
            con.execute("DETACH old")
            con.execute("CHECKPOINT")
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)


def _copy_rows(con: duckdb.DuckDBPyConnection, table: str) -> None:
    try:
        con.execute(f"INSERT INTO main.{table} BY NAME SELECT * FROM old.{table}")  # noqa: S608 (catalogue names)
    except duckdb.Error as error:
        raise MigrationError(f"rows of {table} do not fit its new definition: {error}") from error
    copied, had = con.execute(
        f"SELECT (SELECT count(*) FROM main.{table}), (SELECT count(*) FROM old.{table})"  # noqa: S608
    ).fetchone()
    if copied != had:
        raise MigrationError(f"{table}: {copied} rows copied of {had}")
