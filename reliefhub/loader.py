"""Build the DuckDB database from the committed sources in data/.

The build is a pure function of the files: the same files always give the same
tables. It writes a new file beside the live one and swaps it in only when every
row of every file has passed validation, so a bad source never costs the
previous database.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from reliefhub import PACKAGE_DIR, migrations, models
from reliefhub.validation import Problem, ValidationError, insert_typed, stage_csv, validate_staged

SOURCE_TABLES = models.SOURCE_TABLES


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Today's tables (what the migrations make of an empty file), at the latest
    migration's version, and the models' definitions."""
    migrations.create_tables(con)
    models.define(con)


def apply_views(con: duckdb.DuckDBPyConnection) -> None:
    """The views and macros the pages' queries read, which read the stored
    models (DuckDB checks a macro's tables when it is created)."""
    con.execute((PACKAGE_DIR / "views.sql").read_text())


def sources_digest(data_dir: Path) -> str:
    digest = hashlib.sha256()
    for table in SOURCE_TABLES:
        digest.update((data_dir / f"{table}.csv").read_bytes())
    return digest.hexdigest()


def load_sources(con: duckdb.DuckDBPyConnection, data_dir: Path) -> dict[str, int]:
    """Validate and insert every source file; raise ValidationError on the first bad file.

    Stops at the first file with problems: later files reference it, and their
    errors would only echo the first ones.
    """
    counts = {}
    for table in SOURCE_TABLES:
        path = data_dir / f"{table}.csv"
        label = str(path)
        if not path.exists():
            raise ValidationError([Problem(label, 0, "", None, "source file is missing")])
        try:
            stage_csv(con, path, f"stage_{table}")
        except duckdb.Error as error:
            raise ValidationError([Problem(label, 0, "", None, f"not a readable CSV: {error}")]) from error
        typed, problems = validate_staged(con, table, f"stage_{table}", label)
        if problems:
            raise ValidationError(problems)
        counts[table] = insert_typed(con, table, typed)
    return counts


def build_database(data_dir: Path, db_path: Path) -> dict[str, int]:
    """Build db_path from data_dir atomically; returns row counts per table."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if db_path.with_name(db_path.name + ".wal").exists():
        # A write-ahead log belongs to the live file; swapping a new file in
        # under it would replay old changes into new data.
        raise RuntimeError(
            f"{db_path} has unsaved changes in its .wal file (is the dashboard writing to it?); "
            "stop the dashboard and try again"
        )
    building = db_path.with_name(f"{db_path.name}.building-{os.getpid()}")
    _remove_database_files(building)
    try:
        with duckdb.connect(str(building)) as con:
            create_schema(con)
            counts = load_sources(con, Path(data_dir))
            models.build_all(con)
            apply_views(con)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ["built_at", now],
                    ["data_changed_at", now],
                    ["sources_sha256", sources_digest(Path(data_dir))],
                ],
            )
            con.execute("CHECKPOINT")
        os.replace(building, db_path)
    finally:
        _remove_database_files(building)
    return counts


def _remove_database_files(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
