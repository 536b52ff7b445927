"""Known faults of the database file, in words a person at the dashboard can act on.

Pages show these messages instead of tracebacks; the traceback goes to the
server log. Anything not recognised here is reported as an unexpected fault.
"""

from __future__ import annotations

import errno
import logging

import duckdb

log = logging.getLogger("reliefhub")

UNEXPECTED = "Something went wrong while drawing this page. The details are in the server log."


class DatabaseFault(RuntimeError):
    """A fault of the database file that the dashboard must not paper over
    (a missing file that held changes, a damaged file): the message says what
    happened and what to do, and writing stops until it is dealt with."""


def locked() -> str:
    return (
        "The database file is open in another program (another dashboard, or an import from the "
        "command line). DuckDB lets one program use it at a time: stop the other one, then reload."
    )


def missing(path, backup: str | None) -> str:
    return (
        f"The database file {path} is missing, and it held changes made here (or a backup of it exists): "
        "the dashboard will not build a fresh one over it, and nothing can be saved. " + restore_hint(backup)
    )


def corrupt(backup: str | None) -> str:
    return "The database file is damaged: nothing can be saved. " + restore_hint(backup)


def disk_full() -> str:
    return "The disk holding the database is full: nothing can be saved until space is freed."


def restore_hint(backup: str | None) -> str:
    if backup is None:
        return "No backup was found; tell whoever runs the server."
    return f"The latest backup is {backup}: stop the dashboard, then `python -m reliefhub restore {backup}`."


def plain_message(error: BaseException, latest_backup: str | None = None) -> str | None:
    """The known fault behind `error` in words, or None when it is not a known one."""
    if isinstance(error, DatabaseFault):
        return str(error)
    text = str(error)
    if isinstance(error, duckdb.IOException) and "Could not set lock" in text:
        return locked()
    if "No space left on device" in text or getattr(error, "errno", None) == errno.ENOSPC:
        return disk_full()
    if "Corrupt database file" in text or "not a valid DuckDB database file" in text:
        return corrupt(latest_backup)
    if isinstance(error, FileNotFoundError):
        return f"A file the dashboard needs is missing: {error.filename}."
    return None
