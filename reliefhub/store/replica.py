"""A server's DuckDB file as a replica of the store.

How a replica follows the store: by the audit trail's change ids. Every write
to the store's tables of record adds audit rows holding the whole row after
the change (after_row), and writers take the store's one-writer lock
(push.py) before numbering their changes after the store's last one and hold
it until they commit: change ids are therefore committed in increasing order,
with no later commit ever taking a smaller id. A replica's position is the
largest change id it holds, and "every audit row after my position, in order"
is exactly what it lacks. PostgreSQL's NOTIFY (sent by each write's commit)
wakes the followers at once; a catch-up read at least every second covers a
lost notification or a dropped connection, so LISTEN is only a speed-up.
Logical replication was not chosen: it needs server settings (wal_level,
a replication role, slots that hold WAL while a server is down) that a
managed PostgreSQL may not grant, and its rows would still have to pass
through the models' refresh, which the audit trail's (table, record_id)
already names.

Applying changes reuses the local write's machinery: the audit rows are
inserted, the latest after_row of each record replaces the stored row, and
the Database's after-write hooks (models.catch_up) refresh the models from
those audit rows, as after a local save.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import psycopg

from reliefhub import faults, models
from reliefhub.loader import apply_views, create_schema
from reliefhub.store import postgres
from reliefhub.store.init import TABLES
from reliefhub.validation import column_rules, primary_key, quote, table_columns

CHANNEL = "reliefhub_changes"
AUDIT_COLUMN_NAMES = (
    *("change_id", "change_set", "changed_at", "changed_by_id", "changed_by", "via", "source_file"),
    *("action", "table_name", "record_id", "before_row", "after_row"),
)
AUDIT_COLUMNS = ", ".join(AUDIT_COLUMN_NAMES)
STORE_ID_KEY = "store_id"  # in the replica's meta: which store it copies


def audit_columns_as_text(text_type: str) -> str:
    """The audit columns with the time (and its offset) and the JSON as text,
    which either database reads back exactly; `text_type` in the dialect's words."""
    as_text = ("changed_at", "before_row", "after_row")
    return ", ".join(f"{c}::{text_type}" if c in as_text else c for c in AUDIT_COLUMN_NAMES)


class StoreBehind(postgres.StoreUnreachable):
    """The store holds fewer changes than the replica: it was restored from an
    older backup, or is another store. Writing stops; the replica is filled
    anew when the server restarts."""

    def __init__(self):
        super().__init__(
            "The shared store holds fewer changes than this server's replica (was it restored from a "
            "backup?): nothing can be saved here. Restart this server to fill its replica from the store."
        )


def check_not_behind(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection) -> None:
    if models.last_change(cursor) > store_position(pg):
        raise StoreBehind()


class Replica:
    """The store as one server sees it: where it is, whether it answers, and
    since when the replica is known to hold all of it."""

    def __init__(self, url: str):
        self.url = url
        self.reachable = True
        self.as_of = datetime.now(UTC)
        self.problem: str | None = None

    def seen(self) -> None:
        self.reachable, self.as_of, self.problem = True, datetime.now(UTC), None

    def lost(self, error: BaseException) -> None:
        self.reachable, self.problem = False, str(error)

    def notice(self) -> str | None:
        """What every page says while the store is away (or behind), or None."""
        if self.reachable:
            return None
        if self.problem == str(StoreBehind()):
            return self.problem
        return (
            f"store unreachable: figures as of {self.as_of:%H:%M} UTC. Nothing can be saved until it is back."
        )


# ---------------------------------------------------------------- pulling changes


def store_position(pg: psycopg.Connection) -> int:
    return pg.execute("SELECT coalesce(max(change_id), 0) FROM audit_log").fetchone()[0]


def pull(pg: psycopg.Connection, cursor: duckdb.DuckDBPyConnection) -> int:
    """Apply the store's changes after the replica's position inside the
    cursor's transaction; returns how many audit rows were applied. The
    caller runs the after-write hooks, which refresh the models."""
    position = models.last_change(cursor)
    result = pg.execute(
        f"SELECT {audit_columns_as_text('text')} FROM audit_log WHERE change_id > %s ORDER BY change_id",  # noqa: S608
        (position,),
    )
    rows = result.fetchall()
    if not rows:
        return 0
    incoming = pd.DataFrame(rows, columns=list(AUDIT_COLUMN_NAMES))
    cursor.register("incoming_frame", incoming)
    cursor.execute("CREATE OR REPLACE TEMP TABLE incoming_changes AS SELECT * FROM incoming_frame")
    cursor.unregister("incoming_frame")
    cursor.execute(f"INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT {AUDIT_COLUMNS} FROM incoming_changes")  # noqa: S608
    for table in changed_tables(cursor, "incoming_changes"):
        apply_latest_rows(cursor, table)
    cursor.execute("DROP TABLE temp.incoming_changes")
    return len(rows)


@dataclass(frozen=True)
class Shape:
    """What the replica needs to know of a table of record."""

    key: str
    columns: tuple[tuple[str, str], ...]  # (name, type), in order
    references: tuple[str, ...]  # columns that reference other tables


_shapes: dict[str, Shape] = {}


def shape(cursor: duckdb.DuckDBPyConnection, table: str) -> Shape:
    """The table's shape, read from DuckDB's catalogue once per process (the
    catalogue is slow to ask, and the schema changes only by a migration,
    before a Database opens)."""
    if table not in _shapes:
        _shapes[table] = Shape(
            primary_key(cursor, table),
            tuple(table_columns(cursor, table)),
            tuple(r.name for r in column_rules(cursor, table) if r.references),
        )
    return _shapes[table]


def changed_tables(cursor: duckdb.DuckDBPyConnection, changes: str, since: int = 0) -> list[str]:
    """The tables of record that audit rows of `changes` after `since` name, in reference order."""
    named = {
        t
        for (t,) in cursor.execute(
            f"SELECT DISTINCT table_name FROM {changes} WHERE change_id > $since",  # noqa: S608 (our table names)
            {"since": since},
        ).fetchall()
    }
    return [t for t in models.SOURCE_TABLES if t in named]


def apply_latest_rows(
    cursor: duckdb.DuckDBPyConnection, table: str, changes: str = "incoming_changes"
) -> None:
    """Make each record of `table` named in `changes` (audit rows) what its
    latest after_row says. Columns that reference other tables are set only where
    they change, and key columns never: DuckDB turns an update of an indexed
    column into a delete and an insert, which a row others refer to refuses."""
    known = shape(cursor, table)
    structure = json.dumps(dict(known.columns))
    cursor.execute(
        "CREATE OR REPLACE TEMP TABLE incoming_rows AS "  # noqa: S608 (our temp tables)
        f"SELECT unnest(json_transform(after_row, $structure)) FROM {changes} "
        "WHERE table_name = $table "
        "QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY change_id DESC) = 1",
        {"structure": structure, "table": table},
    )
    key, target = quote(known.key), quote(table)
    plain = ", ".join(
        f"{quote(c)} = i.{quote(c)}" for c, _ in known.columns if c not in known.references and c != known.key
    )
    cursor.execute(f"UPDATE {target} AS t SET {plain} FROM incoming_rows i WHERE t.{key} = i.{key}")  # noqa: S608
    for column in map(quote, known.references):
        cursor.execute(
            f"UPDATE {target} AS t SET {column} = i.{column} FROM incoming_rows i "  # noqa: S608
            f"WHERE t.{key} = i.{key} AND t.{column} IS DISTINCT FROM i.{column}"
        )
    cursor.execute(
        f"INSERT INTO {target} BY NAME SELECT i.* FROM incoming_rows i "  # noqa: S608
        f"ANTI JOIN {target} t ON t.{key} = i.{key}"
    )
    cursor.execute("DROP TABLE temp.incoming_rows")


# ---------------------------------------------------------------- filling


def store_id(pg: psycopg.Connection) -> str:
    """The store's identity, made once: a replica of another store (or of this
    one restored from an older backup) is filled anew, never patched."""
    pg.execute(
        "INSERT INTO meta VALUES (%s, gen_random_uuid()::text) ON CONFLICT (key) DO NOTHING", (STORE_ID_KEY,)
    )
    return pg.execute("SELECT value FROM meta WHERE key = %s", (STORE_ID_KEY,)).fetchone()[0]


def needs_fill(path: Path, pg: psycopg.Connection) -> str | None:
    """Why the file at `path` cannot just follow the store, or None."""
    if not path.exists():
        return "no replica yet"
    with duckdb.connect(str(path), read_only=True) as con:
        held = dict(con.execute("SELECT key, value FROM meta").fetchall())
        position = models.last_change(con)
    if held.get(STORE_ID_KEY) != store_id(pg):
        return "the file is not a replica of this store"
    if position > store_position(pg):
        return "the file holds changes the store does not (a store restored from a backup?)"
    return None


def fill(path: Path, url: str, say=lambda done, text: None) -> dict[str, int]:
    """Make `path` a fresh replica of the store: every table of record copied
    through DuckDB's postgres extension into a new file, the models built,
    then the file swapped in (the old one is kept beside it)."""
    path = Path(path)
    building = path.with_name(f"{path.name}.filling-{os.getpid()}")
    building.unlink(missing_ok=True)
    counts = {}
    with postgres.connect(url, autocommit=True) as pg:
        identity = store_id(pg)
    try:
        with duckdb.connect(str(building)) as con:
            create_schema(con)
            postgres.attach(con, url, read_only=True)
            for done, table in enumerate(TABLES):
                say(done / (len(TABLES) + 1), f"copying {table} from the store")
                con.execute(f"INSERT INTO main.{table} BY NAME SELECT * FROM store.public.{table}")  # noqa: S608 (our table names)
                counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]  # noqa: S608
            con.execute("DETACH store")
            models.build_all(
                con, progress=lambda share, text: say((len(TABLES) + share) / (len(TABLES) + 1), text)
            )
            apply_views(con)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            for key, value in ((STORE_ID_KEY, identity), ("built_at", now), ("data_changed_at", now)):
                con.execute("INSERT OR REPLACE INTO meta VALUES ($key, $value)", {"key": key, "value": value})
            con.execute("CHECKPOINT")
        if path.exists():
            path.replace(path.with_name(f"{path.name}.before-fill-{datetime.now(UTC):%Y%m%dT%H%M%S}"))
        os.replace(building, path)
    finally:
        building.unlink(missing_ok=True)
    return counts


def ensure_filled(path: Path, url: str, say=lambda done, text: None) -> None:
    """Prepare the store's schema, then fill the replica when it cannot follow."""
    postgres.prepare(url)
    with postgres.connect(url, autocommit=True) as pg:
        reason = needs_fill(Path(path), pg)
    if reason:
        say(0.0, f"filling the replica: {reason}")
        fill(path, url, say)


# ---------------------------------------------------------------- following


def follow(db, stop: threading.Event, wait_seconds: float = 1.0) -> None:
    """Keep `db` (a Database with a store) up to date until `stop` is set:
    LISTEN for the writers' notifications, and read at least every
    `wait_seconds`. A store that does not answer is noted (pages say so) and
    tried again; no restart is needed when it comes back."""
    replica: Replica = db.store
    while not stop.is_set():
        try:
            with postgres.connect(replica.url, autocommit=True) as pg:
                pg.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    db.follow_store(pg)
                    replica.seen()
                    for _ in pg.notifies(timeout=wait_seconds, stop_after=1):
                        pass
        except (psycopg.Error, postgres.StoreUnreachable) as error:
            replica.lost(error)
            faults.log.warning("store unreachable: %s", error)
            stop.wait(wait_seconds)
        except Exception:  # a fault of the replica itself: logged, and tried again
            faults.log.exception("following the store failed")
            stop.wait(wait_seconds)


class Following:
    """The thread that keeps one Database up to date with the store."""

    def __init__(self, db):
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=follow, args=(db, self._stop), name="reliefhub-store", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop, and wait for a change being applied to finish (the file is closed next)."""
        self._stop.set()
        self._thread.join(timeout=30)


def start_following(db) -> Following:
    return Following(db)
