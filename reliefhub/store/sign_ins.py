"""Accounts, wall keys and sign-in events through the store.

With a store, PostgreSQL is their system of record as it is the records':
every write to them (auth.py: an account added, a role changed, a password
reset, a wall key made, revoked or used, a sign-in tried) is made and checked
on the replica inside one transaction, under a lock of their own (a long
import must not hold up a sign-in), after the replica has caught up with the
store's, and lands in the store before the replica commits (push.writing
with SIGN_INS).

How a replica follows them: every change to an account or a key adds a
sign-in event, and writers number their events after the store's last one
while holding the lock, so "the events after my largest" is exactly what a
replica lacks, as with the audit trail's change ids. Accounts and keys are
few (tens to thousands of rows), so the replica takes the store's rows
whole where they differ rather than naming each one; that also brings a
key's last use, which is noted without an event. A follower looks whenever
the store's (last event, last key use) differs from its own.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import psycopg

from reliefhub.store import postgres, push, replica
from reliefhub.validation import table_columns

LOCK = postgres.LOCK + 1  # pg_advisory lock key of the sign-in tables' one writer at a time
KEPT_WHOLE = {"users": "user_id", "wall_keys": "key_id"}
EVENTS = "sign_in_events"
# (the last event, the last use of a key in microseconds), in each dialect
STORE_POSITION = (
    "SELECT (SELECT coalesce(max(event_id), 0) FROM sign_in_events), "
    "(SELECT (extract(epoch FROM max(last_used_at)) * 1000000)::bigint FROM wall_keys)"
)
REPLICA_POSITION = (
    "SELECT (SELECT coalesce(max(event_id), 0) FROM sign_in_events), "
    "(SELECT epoch_us(max(last_used_at)) FROM wall_keys)"
)


def store_position(pg: psycopg.Connection) -> tuple[int, int | None]:
    return pg.execute(STORE_POSITION).fetchone()


def replica_position(cursor: duckdb.DuckDBPyConnection) -> tuple[int, int | None]:
    return cursor.execute(REPLICA_POSITION).fetchone()


def behind(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's sign-in tables hold something the replica lacks."""
    return store_position(pg) != replica_position(cursor)


def pull(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection) -> int:
    """Inside the cursor's transaction: the store's events after the replica's
    last, and its accounts and keys where they differ; returns the events taken."""
    since = replica_position(cursor)[0]
    if since > store_position(pg)[0]:
        raise replica.StoreBehind()
    whole = " ".join(
        f"UNION ALL SELECT 0, '{table}', {key}, row_to_json(t)::text FROM {table} t"  # noqa: S608 (our names)
        for table, key in KEPT_WHOLE.items()
    )
    rows = pg.execute(
        f"SELECT event_id, '{EVENTS}', event_id::text, row_to_json(e)::text FROM {EVENTS} e "  # noqa: S608 (our names)
        f"WHERE event_id > %s {whole}",
        (since,),
    ).fetchall()
    incoming = pd.DataFrame(rows, columns=["change_id", "table_name", "record_id", "after_row"])
    cursor.register("incoming_frame", incoming)
    cursor.execute("CREATE OR REPLACE TEMP TABLE incoming_sign_ins AS SELECT * FROM incoming_frame")
    cursor.unregister("incoming_frame")
    structure = json.dumps(dict(table_columns(cursor, EVENTS)))
    taken = cursor.execute(
        f"INSERT INTO {EVENTS} BY NAME SELECT unnest(json_transform(after_row, $structure)) "  # noqa: S608
        f"FROM incoming_sign_ins WHERE table_name = '{EVENTS}' ORDER BY change_id",
        {"structure": structure},
    ).fetchone()[0]
    for table in KEPT_WHOLE:
        replica.apply_latest_rows(cursor, table, "incoming_sign_ins")
    cursor.execute("DROP TABLE temp.incoming_sign_ins")
    return taken


def catch_up(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection) -> int:
    """The write path's first step: the replica made the store's; returns the store's last event."""
    pull(pg, cursor)
    return store_position(pg)[0]


def push_sign_ins(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection, since: int) -> None:
    """The write's events (after `since`), and the accounts and keys as the replica now holds them."""
    for table in KEPT_WHOLE:
        push.upsert(pg, cursor, table)
    columns = tuple(table_columns(cursor, EVENTS))
    events = cursor.execute(
        f"SELECT {push.as_copied(columns)} FROM {EVENTS} WHERE event_id > $since ORDER BY event_id",  # noqa: S608
        {"since": since},
    )
    push.copy_rows(pg, f"{EVENTS} ({', '.join(name for name, _ in columns)})", events)


SIGN_INS = push.Feed(LOCK, catch_up, push_sign_ins)
