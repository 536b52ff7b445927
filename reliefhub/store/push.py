"""Writes with a store: made and checked on the replica, landed in PostgreSQL.

A write (a form, a page import, a command-line import) runs exactly as in
embedded mode, inside Database.transaction() on the replica, with this around
it: before the write, the store's one-writer lock is taken (a transaction-level
advisory lock, so a writer that dies releases it) and the store's latest
changes are pulled into the same replica transaction, so the validation sees
everything written anywhere and the write's change ids follow the store's
last one. After the write and its model refresh, its audit rows and the rows
they name are copied to the store, a notification is sent, and the store's
transaction commits; only then does the replica commit. Any failure before
the store's commit leaves the store as it was and rolls the replica back: all
or nothing. Should the replica fail after the store committed, the replica
simply pulls the change like any other.

Writes to accounts, wall keys and sign-in events (Database.sign_in_transaction)
take the same way with a Feed of their own: their lock, their catching up and
what they copy (sign_ins.py); the records' Feed is RECORDS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import psycopg

from reliefhub import models
from reliefhub.store import postgres, replica
from reliefhub.validation import quote


@dataclass(frozen=True)
class Feed:
    """What one kind of write shares with the store: the lock its writers
    take, how the replica catches up inside the write's transaction (returning
    the store's position then), and how the write's rows reach the store."""

    lock: int
    catch_up: Callable[[psycopg.Connection, duckdb.DuckDBPyConnection], int]
    push: Callable[[psycopg.Connection, duckdb.DuckDBPyConnection, int], None]


def catch_up_records(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection) -> int:
    replica.check_not_behind(pg, cursor)
    replica.pull(pg, cursor)
    return replica.store_position(pg)


@contextmanager
def writing(
    store: replica.Replica, cursor: duckdb.DuckDBPyConnection, feed: Feed | None = None
) -> Iterator[None]:
    """Around one write on the replica's `cursor` (see the module's docstring);
    `feed` is the records' unless told otherwise."""
    feed = feed or RECORDS
    try:
        with postgres.connect(store.url) as pg, pg.transaction():
            pg.execute("SET LOCAL lock_timeout = '30s'")
            pg.execute("SELECT pg_advisory_xact_lock(%s)", (feed.lock,))
            position = feed.catch_up(pg, cursor)
            yield
            feed.push(pg, cursor, position)
            pg.execute(f"NOTIFY {replica.CHANNEL}")  # delivered when the transaction commits
    except psycopg.OperationalError as error:
        store.lost(error)
        raise postgres.StoreUnreachable(unreachable_message()) from error
    except replica.StoreBehind as error:
        store.lost(error)
        raise
    except postgres.StoreUnreachable as error:
        store.lost(error)
        raise postgres.StoreUnreachable(unreachable_message()) from error
    store.seen()


def unreachable_message() -> str:
    return "The shared store (PostgreSQL) is unreachable: nothing was saved. Try again once it is back."


def push(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection, since: int) -> None:
    """Copy the replica's audit rows after `since`, and the rows they name, to the store."""
    if models.last_change(cursor) <= since:
        return
    for table in replica.changed_tables(cursor, "audit_log", since):
        named = (
            f"{quote(replica.shape(cursor, table).key)} IN "  # noqa: S608 (catalogue names)
            "(SELECT record_id FROM audit_log WHERE change_id > $since AND table_name = $table)"
        )
        upsert(pg, cursor, table, named, {"since": since, "table": table})
    audit = cursor.execute(
        f"SELECT {replica.audit_columns_as_text('VARCHAR')} FROM audit_log "  # noqa: S608 (our column list)
        "WHERE change_id > $since ORDER BY change_id",
        {"since": since},
    )
    copy_rows(pg, f"audit_log ({replica.AUDIT_COLUMNS})", audit)


RECORDS = Feed(postgres.LOCK, catch_up_records, push)


def upsert(
    pg: psycopg.Connection,
    cursor: duckdb.DuckDBPyConnection,
    table: str,
    condition: str = "true",
    params: dict | None = None,
) -> None:
    """The replica's rows of `table` that meet `condition` (DuckDB's SQL)
    inserted into the store, or replacing the rows of the same key where they differ."""
    known = replica.shape(cursor, table)
    key = quote(known.key)
    columns = [quote(c) for c, _ in known.columns]
    staged = f"incoming_{table}"
    pg.execute(f"CREATE TEMP TABLE {staged} (LIKE {quote(table)}) ON COMMIT DROP")
    rows = cursor.execute(f"SELECT {as_copied(known.columns)} FROM {quote(table)} WHERE {condition}", params)  # noqa: S608
    if not copy_rows(pg, staged, rows):
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    pg.execute(
        f"INSERT INTO {quote(table)} AS t SELECT * FROM {staged} "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE t IS DISTINCT FROM excluded"
    )


def as_copied(columns: tuple[tuple[str, str], ...]) -> str:
    """Columns (name, DuckDB type) for COPY to the store: times as text, with
    their offset (which PostgreSQL reads back exactly), the rest as they are."""
    return ", ".join(
        f"{quote(name)}::VARCHAR" if kind.startswith("TIMESTAMP") else quote(name) for name, kind in columns
    )


def copy_rows(
    pg: psycopg.Connection, target: str, rows: duckdb.DuckDBPyConnection, batch: int = 10_000
) -> int:
    """COPY the result's rows into `target` (a table, with its column list); returns how many."""
    copied = 0
    with pg.cursor().copy(f"COPY {target} FROM STDIN") as copy:
        while chunk := rows.fetchmany(batch):
            for row in chunk:
                copy.write_row(row)
            copied += len(chunk)
    return copied
