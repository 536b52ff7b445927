"""Backups of the database file: consistent, verified copies, and their restore.

DuckDB lets one process open a database file for writing, and no other
process may open it at all meanwhile, so a running dashboard makes its own
backups: every RELIEFHUB_BACKUP_MINUTES (default 60; 0 turns the schedule
off), and whenever `python -m reliefhub backup` leaves a request file beside
the database. Without a dashboard the command makes the copy itself.

A copy is made under the process's write lock right after a CHECKPOINT, so
no change is half in it, and it counts only once every block of every table
has been read back from it with DuckDB's block checksums checked. A copy that
fails that check means the live file is damaged: the caller stops writing.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

KEEP = 48
REQUEST = ".backup-request-"
ANSWER = ".backup-answer-"


def backup_dir(db_path: Path) -> Path:
    return Path(os.environ.get("RELIEFHUB_BACKUPS") or Path(db_path).parent / "backups")


def backups(db_path: Path) -> list[Path]:
    """This database's backups, oldest first (their names sort by time)."""
    folder = backup_dir(db_path)
    return sorted(folder.glob(f"{Path(db_path).stem}-*Z.duckdb")) if folder.is_dir() else []


def latest(db_path: Path) -> Path | None:
    found = backups(db_path)
    return found[-1] if found else None


def backup_name(db_path: Path, note: str = "") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return backup_dir(db_path) / f"{Path(db_path).stem}-{stamp}{note}Z.duckdb"


def verify(con: duckdb.DuckDBPyConnection) -> None:
    """Read every row of every table, so DuckDB checks each block's checksum;
    raises duckdb.IOException ('Corrupt database file') if one does not match."""
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
    for (table,) in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        con.execute(f"SELECT count(*), sum(hash(columns(*))) FROM {quoted}").fetchall()  # noqa: S608


def verify_file(path: Path) -> None:
    with duckdb.connect(str(path), read_only=True) as con:
        verify(con)


def copy_verified(con: duckdb.DuckDBPyConnection, source: Path, target: Path) -> Path:
    """Checkpoint `con` (the one connection writing `source`), copy the file
    and check the copy. The caller holds the write lock."""
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute("CHECKPOINT")
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(source, partial)
        verify_file(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def prune(db_path: Path, keep: int = KEEP) -> None:
    for old in backups(db_path)[:-keep]:
        old.unlink(missing_ok=True)


# ---------------------------------------------------------------- requests from another process


class BackupFailed(RuntimeError):
    """The dashboard holding the file answered that its backup failed, and why."""


def request(db_path: Path, wait_seconds: float) -> Path | None:
    """Ask the dashboard holding `db_path` for a backup; the backup's path, or
    None when no answer came in time (no dashboard is running on it). Raises
    BackupFailed when the dashboard answered that it could not make one."""
    token = uuid.uuid4().hex
    asked = Path(db_path).with_name(Path(db_path).name + REQUEST + token)
    answer = Path(db_path).with_name(Path(db_path).name + ANSWER + token)
    asked.touch()
    deadline = time.monotonic() + wait_seconds
    try:
        while time.monotonic() < deadline:
            if answer.exists():
                text = answer.read_text()
                answer.unlink(missing_ok=True)
                if not text.endswith(".duckdb"):
                    raise BackupFailed(text)
                return Path(text)
            time.sleep(0.2)
        return None
    finally:
        asked.unlink(missing_ok=True)


def pending_requests(db_path: Path) -> list[Path]:
    db_path = Path(db_path)
    return sorted(db_path.parent.glob(db_path.name + REQUEST + "*"))


def answer(asked: Path, outcome: str) -> None:
    """Answer a request with the backup's path (or why there is none). Written
    under another name and renamed: the asker polls for the answer's name and
    must never read it half written (an empty answer read as no backup)."""
    target = asked.with_name(asked.name.replace(REQUEST, ANSWER))
    writing = target.with_name(target.name + ".writing")
    writing.write_text(outcome)
    writing.replace(target)
    asked.unlink(missing_ok=True)


# ---------------------------------------------------------------- restore


def restore(backup: Path, target: Path) -> Path | None:
    """Put a verified backup in place of `target` (no process may hold it).

    The file it replaces is kept first: as a backup when it can be read, or
    set aside as '<name>.damaged-<time>' when it cannot. Returns where it went.
    """
    verify_file(backup)
    kept = None
    if target.exists():
        try:
            with duckdb.connect(str(target)) as con:
                kept = copy_verified(con, target, backup_name(target, "-before-restore"))
        except duckdb.IOException as error:
            if "Could not set lock" in str(error):
                raise
            kept = target.with_name(f"{target.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            os.replace(target, kept)
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        os.replace(wal, (kept or target).with_name((kept or target).name + ".wal"))
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(backup, partial)
    os.replace(partial, target)
    return kept
