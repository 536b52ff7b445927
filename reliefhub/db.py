"""Database access: one connection per process, one cursor per thread.

Every question a page asks is a file in queries/. `Database.query` runs one by
name, binding only the parameters that file names, and keeps recent results in
a cache bounded in bytes that is emptied whenever the data changes.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import psycopg

from reliefhub import DATA_DIR, QUERIES_DIR, backups, faults, migrations, models
from reliefhub.loader import apply_views, build_database
from reliefhub.store import postgres, push, replica, sign_ins, store_url

DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


def database_path() -> Path:
    return Path(os.environ.get("RELIEFHUB_DB") or DATA_DIR / "reliefhub.duckdb")


def ensure_database(path: Path, data_dir: Path = DATA_DIR) -> None:
    """Build the database from the committed sources the first time it is needed.

    Never over a file that went missing after holding changes: a .wal or a
    backup beside it says it did, and a fresh build would hide their loss.
    """
    path = Path(path)
    if path.exists():
        return
    if path.with_name(path.name + ".wal").exists() or backups.latest(path):
        raise faults.DatabaseFault(faults.missing(path, _shown(backups.latest(path))))
    build_database(data_dir, path)


def _shown(backup: Path | None) -> str | None:
    return None if backup is None else str(backup)


@cache
def query_text(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a query name: {name!r}")
    return (QUERIES_DIR / f"{name}.sql").read_text()


def parameter_names(sql: str) -> list[str]:
    return sorted(set(re.findall(r"\$([A-Za-z_]\w*)", sql)))


def _freeze(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def frame_bytes(frame: pd.DataFrame) -> int:
    """The frame's size in memory, read from its columns' buffers: exact for
    numbers, dates and Arrow strings, and quicker than
    memory_usage(deep=True), which builds a Series. Only columns of Python
    objects need counting one by one."""
    return sum(
        int(column.memory_usage(index=False, deep=True)) if column.dtype == object else column.array.nbytes
        for _, column in frame.items()
    )


class ResultCache:
    """Least-recently-used results, bounded by their size in memory."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[pd.DataFrame, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> pd.DataFrame | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def put(self, key: tuple, frame: pd.DataFrame) -> None:
        size = frame_bytes(frame)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._bytes -= self._entries.pop(key)[1]
            self._entries[key] = (frame, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._bytes -= self._entries.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def duckdb_threads() -> int:
    """Threads each query may use: the cores this process may run on (DuckDB
    counts the machine's), or RELIEFHUB_DUCKDB_THREADS. Every session's query
    shares them; more threads than cores made concurrent queries slower
    (docs/benchmark.md)."""
    return int(os.environ.get("RELIEFHUB_DUCKDB_THREADS") or len(os.sched_getaffinity(0)))


def _open_verified(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Migrate the file if it is older than the code, open it and read every
    block of it once, so damage shows at once."""
    connection = None
    try:
        if not read_only:
            migrations.migrate(path, say=lambda text: print(text, file=sys.stderr))
        connection = duckdb.connect(str(path), read_only=read_only)
        # Set, not passed as the connection's config: DuckDB refuses a second
        # connection to a file open in this process with another config (a
        # migration's, a replica's fill), and the setting is the file's anyway.
        connection.execute("SET threads = $threads", {"threads": duckdb_threads()})
        backups.verify(connection)
    except duckdb.IOException as error:
        if connection is not None:
            connection.close()
        if "Corrupt" in str(error) or "not a valid DuckDB" in str(error):
            raise faults.DatabaseFault(faults.corrupt(_shown(backups.latest(path)))) from error
        raise
    return connection


class FiguresOutOfDate(RuntimeError):
    """The stored models need a refresh (Database.refresh) before they are read."""


# What every write runs inside its transaction before it commits, given the
# write's cursor and a cursor that still reads the data as it was before the
# write began: the models catch up.
AFTER_WRITE = (models.catch_up,)


# Numbers each Database opened in this process, so a reopened file's data
# version never equals the one before it.
_openings = itertools.count()


class Database:
    """A DuckDB file opened once per process and shared by every session's thread.

    Opening migrates the file if it is older than the code, and finds out
    (without changing them) which stored models cannot be trusted: `stale`
    names them, and `refresh` rebuilds them as a step of its own, with
    progress; until then queries refuse to run rather than show old figures.
    """

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        after_write=AFTER_WRITE,
        store: replica.Replica | None = None,
    ):
        self.path = Path(path)
        # With a shared store (RELIEFHUB_STORE), this file is its replica.
        self.store = store
        self.following: replica.Following | None = None  # the thread following the store
        self.read_only = read_only
        self.after_write = tuple(after_write)
        self.connection = _open_verified(self.path, read_only)
        # Set when the file is found damaged or gone: writing stops, with this reason.
        self.fault: str | None = None
        self.stale: dict[str, str] = {}
        if not read_only:
            models.define(self.connection)
            self.stale = models.stale(self.connection)
            if not self.stale:
                apply_views(self.connection)
        self._cache = ResultCache(cache_bytes)
        # A DuckDB cursor must not be shared between threads, and making one
        # per query costs time: each thread (a session's script run) keeps its own.
        self._cursors = threading.local()
        self._version = 0
        self._opened = next(_openings)
        self._write_lock = threading.RLock()
        # The sign-in tables' writer, apart from the data's (a sign-in is no
        # data change), and a count of their changes, here or from the store.
        self._sign_in_lock = threading.Lock()
        self.sign_ins_version = 0

    @property
    def data_version(self) -> tuple[int, int]:
        """Changes with every write or refresh and every reopening of the file:
        figures built from the data are kept under it (shared_figures.py)."""
        return self._opened, self._version

    def query(self, name: str, params: dict | None = None) -> pd.DataFrame:
        """Run queries/<name>.sql with its named parameters taken from params.

        The returned frame may be shared with other sessions: copy before
        changing it in place.
        """
        if self.stale:
            raise FiguresOutOfDate(f"{self.path}: figures need updating first ({', '.join(self.stale)})")
        sql = query_text(name)
        params = params or {}
        missing = [p for p in parameter_names(sql) if p not in params]
        if missing:
            raise KeyError(f"query {name} needs parameter(s): {', '.join(missing)}")
        bound = {p: params[p] for p in parameter_names(sql)}
        key = (name, self._version, tuple((k, _freeze(v)) for k, v in sorted(bound.items())))
        frame = self._cache.get(key)
        if frame is None:
            frame = self._cursor().execute(sql, bound).df()
            self._cache.put(key, frame)
        return frame

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None:
            cursor = self._cursors.cursor = self.connection.cursor()
        return cursor

    def scalar(self, name: str, params: dict | None = None):
        frame = self.query(name, params)
        return None if frame.empty else frame.iat[0, 0]

    @contextmanager
    def transaction(self):
        """All of a change or none of it, one writer at a time in this process.

        Yields a cursor inside an open transaction. On success the after-write
        hooks run (the stored models catch up with the change), the change is
        committed with the data's change time, and cached results are
        forgotten; on any error everything is rolled back.
        """
        if self.stale:
            raise FiguresOutOfDate(f"{self.path}: figures need updating before a change is written")
        with (
            self._writing() as cursor,
            self._changing(cursor) as after_write,
            push.writing(self.store, cursor) if self.store else nullcontext(),
        ):
            yield cursor
            after_write()

    @contextmanager
    def sign_in_transaction(self):
        """A cursor in a transaction on the sign-in tables (auth.py), one
        writer at a time; with a store, the write lands there before the
        replica commits (store/sign_ins.py). The data's cache and version stay."""
        with (
            self._sign_ins_writing() as cursor,
            push.writing(self.store, cursor, sign_ins.SIGN_INS) if self.store else nullcontext(),
        ):
            yield cursor

    @contextmanager
    def _sign_ins_writing(self):
        with self._sign_in_lock:
            try:
                with committed(self.connection) as cursor:
                    yield cursor
            finally:
                self.sign_ins_version += 1

    def follow_store(self, pg) -> int:
        """Apply the store's changes after this replica's position (see
        store/replica.py), then its sign-in tables' (store/sign_ins.py);
        returns how many audit rows and events were applied."""
        replica.check_not_behind(pg, self._cursor())
        applied = 0
        if not self.stale and models.last_change(self._cursor()) != replica.store_position(pg):
            with self._writing() as cursor, self._changing(cursor) as after_write:
                applied = replica.pull(pg, cursor)
                after_write()
        if sign_ins.behind(pg, self._cursor()):
            with self._sign_ins_writing() as cursor:
                applied += sign_ins.pull(pg, cursor)
        return applied

    @contextmanager
    def _changing(self, cursor: duckdb.DuckDBPyConnection):
        """Yields the step that runs the after-write hooks, given a cursor
        that still reads the data as it was before the change began; then
        records the data's change time."""
        before = self.connection.cursor()
        try:
            before.begin()
            before.execute("SELECT count(*) FROM meta").fetchone()  # fixes what it sees: now
            yield lambda: [hook(cursor, before) for hook in self.after_write]
        finally:
            before.close()
        cursor.execute(
            "INSERT OR REPLACE INTO meta VALUES ('data_changed_at', $now)",
            {"now": datetime.now(UTC).isoformat(timespec="seconds")},
        )

    def refresh(self, progress: models.Progress | None = None, *, also=()) -> list[str]:
        """Rebuild the stale models (and those named in `also`, with every
        model that reads them) in one transaction; returns the names asked
        for. A thread that calls this while another refreshes waits, then
        finds nothing left to do."""
        with self._write_lock:  # reentrant: held until `stale` says what was committed
            names = sorted(set(self.stale) | set(also))
            if names:
                with self._writing() as cursor:
                    models.build_all(cursor, set(names), progress)
                    apply_views(cursor)
                self.stale = {}
            return names

    @contextmanager
    def _writing(self):
        """A cursor in a transaction under the write lock: committed, and the
        cached results forgotten, when the block ends; rolled back on error."""
        with self._write_lock:
            if self.fault:
                raise faults.DatabaseFault(self.fault)
            with committed(self.connection) as cursor:
                yield cursor
            self._version += 1
            self._cache.clear()

    def backup(self, note: str = "") -> Path:
        """A verified copy of the file in the backup folder (see backups.py).

        A copy that fails its check means this file is damaged: writing stops.
        """
        with self._write_lock:
            try:
                made = backups.copy_verified(self.connection, self.path, backups.backup_name(self.path, note))
            except duckdb.IOException as error:
                if "Corrupt" not in str(error):
                    raise
                self.fault = faults.corrupt(_shown(backups.latest(self.path)))
                raise faults.DatabaseFault(self.fault) from error
        backups.prune(self.path)
        return made

    def holds_changes(self) -> bool:
        return holds_changes(self.connection.cursor())

    def close(self) -> None:
        if self.following is not None:
            self.following.stop()
        self.connection.close()


@contextmanager
def committed(connection: duckdb.DuckDBPyConnection):
    """A new cursor in a transaction: committed when the block ends, rolled back on error."""
    cursor = connection.cursor()
    try:
        cursor.begin()
        yield cursor
        cursor.commit()
    except BaseException:
        cursor.rollback()
        raise
    finally:
        cursor.close()


def holds_changes(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds changes that are not in data/: audited saves
    and imports, or data changed since the build."""
    audited = (
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'audit_log' AND schema_name = 'main'"
        ).fetchone()[0]
        and con.execute("SELECT count(*) > 0 FROM audit_log").fetchone()[0]
    )
    built, changed = con.execute(
        "SELECT max(value) FILTER (WHERE key = 'built_at'), "
        "max(value) FILTER (WHERE key = 'data_changed_at') FROM meta"
    ).fetchone()
    return bool(audited) or built != changed


def file_identity(path: Path) -> tuple[int, int]:
    """Changes when the file is replaced (a rebuild swaps in a new inode)."""
    stat = Path(path).stat()
    return stat.st_ino, stat.st_dev


def _same_file(path: Path, identity: tuple[int, int]) -> bool:
    try:
        return file_identity(path) == identity
    except FileNotFoundError:
        return False


_shared: Database | None = None
_shared_lock = threading.Lock()


def shared_database() -> Database:
    """The process's one Database, built on first use and reopened after a rebuild.

    DuckDB caches open databases by path inside a process, so the old
    connection must be closed before the swapped-in file can be opened.
    """
    global _shared
    path = database_path()
    current = _shared
    # Without the lock when the same file is still there: every query of every
    # session asks, and under load the threads queued for the lock held across
    # the file checks (most of a rerun's time at twenty sessions).
    if current is not None and current.path == path and _same_file(path, current.identity):
        return current
    with _shared_lock:
        if not path.exists() and _shared is not None and _shared.path == path and _shared.holds_changes():
            _shared.fault = faults.missing(path, _shown(backups.latest(path)))
            raise faults.DatabaseFault(_shared.fault)
        if store_url() is None:
            ensure_database(path)
        elif _shared is None or not path.exists():
            fill_replica(path)
        identity = file_identity(path)
        if _shared is None or _shared.path != path or _shared.identity != identity:
            if _shared is not None:
                _shared.close()
            opened = open_database_at(path)
            opened.identity = identity
            if opened.store:
                opened.following = replica.start_following(opened)
            _shared = opened  # only whole, for the lock-free path above
            _start_keeper()
        return _shared


def fill_replica(path: Path, say=lambda done, text: None) -> None:
    """With a store: make `path` a replica that can follow it (store/replica.py).
    While the store is away, an existing replica is used as it is."""
    try:
        replica.ensure_filled(path, store_url(), say)
    except postgres.StoreUnreachable:
        if not path.exists():
            raise


def open_database_at(path: Path) -> Database:
    """The embedded file, or (with RELIEFHUB_STORE) the store's replica at
    `path`, brought up to date with the store when it answers."""
    url = store_url()
    if url is None:
        return Database(path)
    db = Database(path, store=replica.Replica(url))
    try:
        with postgres.connect(url, autocommit=True) as pg:
            db.follow_store(pg)
    except (postgres.StoreUnreachable, psycopg.Error) as error:
        db.store.lost(error)
    return db


# ---------------------------------------------------------------- the dashboard's own backups

_keeper: threading.Thread | None = None


def backup_minutes() -> float:
    return float(os.environ.get("RELIEFHUB_BACKUP_MINUTES") or 60)


def _start_keeper() -> None:
    """One thread per dashboard process answers backup requests and makes the scheduled backups."""
    global _keeper
    if _keeper is None:
        _keeper = threading.Thread(target=_keep, name="reliefhub-backups", daemon=True)
        _keeper.start()


def _keep() -> None:
    last = time.monotonic()
    while True:
        time.sleep(1.0)
        db = _shared
        if db is None:
            continue
        for asked in backups.pending_requests(db.path):
            try:
                backups.answer(asked, _backup_or_reason(db))
            except OSError:  # an answer that cannot be written (disk full) must not end the thread
                faults.log.exception("could not answer the backup request %s", asked)
        if backup_minutes() > 0 and time.monotonic() - last >= backup_minutes() * 60:
            last = time.monotonic()
            _backup_or_reason(db)


def _backup_or_reason(db: Database) -> str:
    """The scheduled or requested backup; a failure is logged, never raised, so the thread lives on."""
    if db.fault:
        faults.log.error("backup of %s refused: %s", db.path, db.fault)
        return f"backup failed: {db.fault}"
    try:
        return str(db.backup())
    except Exception as error:
        faults.log.exception("backup of %s failed", db.path)
        return f"backup failed: {faults.plain_message(error) or error}"
