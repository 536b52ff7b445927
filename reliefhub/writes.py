"""The write path shared by forms and imports: check, write, audit, in one transaction.

A write stages its rows as text (a form as a one-row table, an import as the
file's rows), then, inside `transaction`:

- `transaction` itself refuses a caller below staff (whoever calls it, the role
  is checked here, not only by the page that offers the form);
- `check_staged` checks the rows against every rule of the schema and
  validation.py, and against the countries the caller may record for;
- `write_checked` sorts the checked rows into new, updated and unchanged,
  writes them, and records each change in the audit trail, naming the caller;
- Database.transaction's after-write hooks then bring the stored models up to
  date, and everything commits together. With a shared store
  (RELIEFHUB_STORE), Database.transaction also pulls the store's latest
  changes first and lands the write in PostgreSQL before committing
  (reliefhub/store/push.py): the same path, the same checks.

The check and the write run under the process's one write lock and in one
transaction, so two staff saving at the same moment cannot both pass a check
only one of them may pass (the same new id, say), and a failure anywhere
leaves nothing behind.

SQL here names tables and columns read from the schema catalogue (never user
values, which are always bound), hence the S608 waivers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from reliefhub import auth
from reliefhub.auth import Identity
from reliefhub.db import Database
from reliefhub.validation import (
    LINE,
    Problem,
    column_rules,
    primary_key,
    quote,
    referenced_row_problems,
    table_columns,
    validate_staged,
)


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class Rollback(Exception):
    """Leave a transaction without writing, carrying the outcome."""

    def __init__(self, outcome):
        self.outcome = outcome


class Refused(Exception):
    """The caller may not write at all: nothing was read or written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems


def refusal(who: Identity, label: str) -> list[Problem]:
    """The write path's own role check: a caller below staff writes nothing."""
    return auth.write_refusal(who, label)


@contextmanager
def transaction(db: Database, who: Identity, label: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor in one transaction for `who`'s write, or Refused when their
    role may not write. Committed, after the models catch up, when the block
    ends; rolled back on any error (raise Rollback to leave without writing)."""
    problems = refusal(who, label)
    if problems:
        raise Refused(problems)
    with db.transaction() as cur:
        yield cur


def audit_available(db: Database) -> bool:
    cur = db.connection.cursor()
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'audit_log' AND schema_name = 'main'"
        ).fetchone()[0]
    )


# ---------------------------------------------------------------- check


def check_staged(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    stage: str,
    label: str,
    *,
    who: Identity,
    expect: str | None = None,
) -> tuple[str, list[Problem]]:
    """Validate staged text rows against every rule, and against the countries
    `who` may record for; `expect` 'add' refuses ids already stored, 'update'
    refuses ids not stored, None (imports) takes both."""
    typed, problems = validate_staged(cur, table, stage, label)
    if typed:
        problems += referenced_row_problems(cur, table, typed, label)
        problems += auth.country_problems(cur, table, typed, primary_key(cur, table), label, who)
        if expect:
            problems += _expected_id_problems(cur, table, typed, label, expect)
        problems.sort(key=lambda p: (p.line, p.column))
    return typed, problems


def _expected_id_problems(
    cur: duckdb.DuckDBPyConnection, table: str, typed: str, label: str, expect: str
) -> list[Problem]:
    """A problem for each row whose id is stored when adding ('add'), or not stored when updating."""
    key = primary_key(cur, table)
    noun = table.removesuffix("s")
    # EXISTS, not IN: the few rows are looked up by the key's index, not
    # joined with every stored key.
    stored = f"EXISTS (SELECT 1 FROM {quote(table)} s WHERE s.{quote(key)} = t.{quote(key)})"  # noqa: S608
    where, message = (
        (stored, f"a {noun} with this ID already exists")
        if expect == "add"
        else (f"NOT {stored}", f"there is no {noun} with this ID")
    )
    rows = cur.execute(
        f"SELECT t.{LINE}, t.{quote(key)} FROM {quote(typed)} t "  # noqa: S608
        f"WHERE t.{quote(key)} IS NOT NULL AND {where}"
    ).fetchall()
    return [Problem(label, line, key, value, message) for line, value in rows]


# ---------------------------------------------------------------- write and audit


def write_checked(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    typed: str,
    *,
    who: Identity,
    via: str,
    change_set: str,
    source_file: str | None = None,
    update_action: str = "update",
    progress: Callable[[str], None] | None = None,
) -> Counts:
    """Write checked rows: new ones added, changed ones updated, the same ones
    left alone; one audit row per row added or changed, naming `who` (and
    via 'cli' when the command line wrote them). Set-based, so a million rows
    take seconds. Call inside `transaction`."""
    say = progress or (lambda text: None)
    key = quote(primary_key(cur, table))
    columns = [c for c, _ in table_columns(cur, table)]
    counts = _sort_changes(cur, table, typed, key, columns)
    # Changes are numbered after the last one, in the order of their lines.
    base = cur.execute("SELECT coalesce(max(change_id), 0) FROM audit_log").fetchone()[0]
    audit = (
        "INSERT INTO audit_log (change_id, change_set, changed_at, changed_by_id, changed_by, via, "
        "source_file, action, table_name, record_id, before_row, after_row) "
        f"SELECT $base + c.{LINE}, $change_set, $now, $who_id, $who, $via, $source_file, $action, $table, "
        f"c.{key}, "
    )
    after = "to_json({" + ", ".join(f"'{c}': c.{quote(c)}" for c in columns) + "})"
    params = {
        "base": base,
        "change_set": change_set,
        "now": datetime.now(UTC),
        "who_id": who.id,
        "who": who.name,
        "via": "cli" if who.via == "cli" else via,
        "source_file": source_file,
        "table": table,
    }
    target = quote(table)
    if counts.updated:
        say(f"Updating {counts.updated:,} changed rows, with their audit trail")
        cur.execute(
            audit + f"to_json(stored), {after} FROM write_changes c "
            f"JOIN {target} stored ON stored.{key} = c.{key} WHERE c.__change = 'update'",
            params | {"action": update_action},
        )
        _update_changed(cur, table, key, columns)
    if counts.new:
        say(f"Adding {counts.new:,} new rows, with their audit trail")
        cur.execute(
            audit + f"NULL, {after} FROM write_changes c WHERE c.__change = 'add'",
            params | {"action": "add"},
        )
        cur.execute(
            f"INSERT INTO {target} BY NAME SELECT * EXCLUDE ({LINE}, __change) "  # noqa: S608
            f"FROM write_changes WHERE __change = 'add'"
        )
    return counts


def _sort_changes(
    cur: duckdb.DuckDBPyConnection, table: str, typed: str, key: str, columns: list[str]
) -> Counts:
    """Stage `write_changes`: the checked rows, each marked 'add', 'update' or
    'unchanged' against the stored row of its key; returns the counts."""
    target, rows = quote(table), quote(typed)
    stored = cur.execute(
        f"SELECT count(*) FROM {rows} t JOIN {target} stored ON stored.{key} = t.{key}"  # noqa: S608
    ).fetchone()[0]
    if stored:
        same = " AND ".join(f"t.{quote(c)} IS NOT DISTINCT FROM stored.{quote(c)}" for c in columns)
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE write_changes AS "  # noqa: S608
            f"SELECT t.*, CASE WHEN stored.{key} IS NULL THEN 'add' WHEN {same} THEN 'unchanged' "
            f"ELSE 'update' END AS __change "
            f"FROM {rows} t LEFT JOIN {target} stored ON stored.{key} = t.{key}"
        )
    else:  # all new, as in a first import: no need to compare
        cur.execute(f"CREATE OR REPLACE TEMP VIEW write_changes AS SELECT *, 'add' AS __change FROM {rows}")  # noqa: S608
    return Counts(
        *cur.execute(
            "SELECT count(*) FILTER (WHERE __change = 'add'), count(*) FILTER (WHERE __change = 'update'), "
            "count(*) FILTER (WHERE __change = 'unchanged') FROM write_changes"
        ).fetchone()
    )


def _update_changed(cur: duckdb.DuckDBPyConnection, table: str, key: str, columns: list[str]) -> None:
    """Set the stored rows marked 'update' in write_changes to their new values."""
    target = quote(table)
    # Columns that reference other tables are indexed: DuckDB rewrites their
    # update as a delete and an insert, which it refuses for a row others
    # refer to even when the value stays the same. So those are set only
    # where they change (check_staged refused that for referenced rows).
    references = {r.name for r in column_rules(cur, table) if r.references}
    plain = ", ".join(
        f"{quote(c)} = c.{quote(c)}" for c in columns if quote(c) != key and c not in references
    )
    cur.execute(
        f"UPDATE {target} AS stored SET {plain} FROM write_changes c "  # noqa: S608
        f"WHERE stored.{key} = c.{key} AND c.__change = 'update'"
    )
    for column in sorted(references):
        q = quote(column)
        cur.execute(
            f"UPDATE {target} AS stored SET {q} = c.{q} FROM write_changes c "  # noqa: S608
            f"WHERE stored.{key} = c.{key} AND c.__change = 'update' "
            f"AND stored.{q} IS DISTINCT FROM c.{q}"
        )
