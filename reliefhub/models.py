"""Derived tables kept equal to their definitions: one file per model in models/.

Each file holds a header (`-- model:`, `-- kind:`, `-- depends on:`, `-- order:`,
`-- touched by:`, and for key tables `-- key:` and `-- natural key:`), the
definition (a SELECT after `---- definition`) and, for models kept up to date
row by row, either `-- refresh by: column in touched_table` (the rows with
the keys a change touched are replaced from the definition) or the
statements that replace what a change touched (after `---- refresh`). The
engine here builds, refreshes and checks any of them:

- `build` stores a model whole from its definition (the view
  `<model>_definition`), and records its digest: the hash of its definition
  with comments and spacing removed, so editing a comment rebuilds nothing;
- `catch_up`, run after every write inside its transaction (Database's
  after-write hook), works out the keys the audit rows not yet applied touch
  (models/_touched.sql) and runs each model's refresh, in dependency order;
  a model without one is small and built whole. It also records the content
  fingerprint of every source table the write changed;
- `stale` says, without changing anything, which models cannot be trusted: a
  table missing, a definition changed, or a source table whose fingerprint (a
  hash over all its rows) differs from the one recorded at the hub's last
  write, which catches any insert, update or delete made outside the hub;
- `differences` builds every model again in temporary tables (which shadow
  the stored ones for the models that read them) and compares.

Key tables (`kind: keys`) hand out small integer keys once and never renumber
them, so they are checked for one key per natural key in use rather than for
the numbers a fresh build would give; the models that read them are then
checked against the stored keys.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache

import duckdb

from reliefhub import PACKAGE_DIR
from reliefhub.validation import primary_key

MODELS_DIR = PACKAGE_DIR / "models"
THROUGH_KEY = "models_through_change"
# In the order their references require; what the models are derived from.
SOURCE_TABLES = ("countries", "places", "materials", "requests", "flights", "shipments")
Progress = Callable[[float, str], None]
# The optimizers that reorder joins and pick their hashed side (written_join_order).
WRITTEN_ORDER = "join_order,build_side_probe_side"


@dataclass(frozen=True)
class Model:
    name: str
    kind: str  # 'table', 'keys' or 'view' (defined, not stored)
    depends_on: tuple[str, ...]
    definition: str
    refresh: str | None
    refresh_by: tuple[str, str] | None  # (column, temp table of its touched values)
    order: str | None
    key: str | None
    natural_key: str | None
    digest: str

    @property
    def stored(self) -> bool:
        return self.kind != "view"


def normalized(sql: str) -> str:
    """The SQL without comments and with single spaces: what it means, not how it reads."""
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return " ".join(without_comments.split())


def parse_model(text: str) -> Model:
    header = dict(re.findall(r"^-- ([a-z ]+): (.+)$", text.split("\n---- ")[0], flags=re.MULTILINE))
    sections = dict(re.findall(r"^---- (\w+)\n(.*?)(?=^---- |\Z)", text, flags=re.MULTILINE | re.DOTALL))
    digest_text = normalized(sections["definition"]) + normalized(macros_sql())
    return Model(
        name=header["model"].strip(),
        kind=header["kind"].strip(),
        depends_on=tuple(name.strip() for name in header["depends on"].split(",")),
        definition=sections["definition"].strip().rstrip(";"),
        refresh=sections.get("refresh"),
        refresh_by=tuple(header["refresh by"].split()[0:3:2]) if "refresh by" in header else None,
        order=header.get("order"),
        key=header.get("key"),
        natural_key=header.get("natural key"),
        digest=hashlib.sha256(digest_text.encode()).hexdigest()[:16],
    )


@cache
def macros_sql() -> str:
    return (MODELS_DIR / "_macros.sql").read_text()


@cache
def all_models() -> tuple[Model, ...]:
    """Every model, each after the models it depends on."""
    models = {m.name: m for m in map(parse_model, (p.read_text() for p in MODELS_DIR.glob("[a-z]*.sql")))}
    ordered: list[Model] = []

    def visit(name: str, seen: tuple[str, ...] = ()) -> None:
        if name in seen:
            raise ValueError(f"models depend on each other in a circle: {' -> '.join((*seen, name))}")
        model = models.get(name)
        if model is None or model in ordered:
            return
        for dependency in model.depends_on:
            visit(dependency, (*seen, name))
        ordered.append(model)

    for name in sorted(models):
        visit(name)
    return tuple(ordered)


def stored_models() -> tuple[Model, ...]:
    return tuple(m for m in all_models() if m.stored)


def dependents(names: set[str]) -> set[str]:
    """The models named and every model that reads them, directly or not."""
    found = set(names)
    for m in all_models():  # dependency order: one pass reaches every reader
        if found.intersection(m.depends_on):
            found.add(m.name)
    return found


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The file's tables and views; a view under a stored model's name (from
    before the model was stored) does not count."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT temporary "
        "AND NOT list_contains($stored, view_name)",
        {"stored": [m.name for m in stored_models()]},
    ).fetchall()
    return {name for (name,) in rows}


def view_name(m: Model) -> str:
    return m.name if m.kind == "view" else f"{m.name}_definition"


def define(con: duckdb.DuckDBPyConnection) -> None:
    """The shared macros and each model's definition view, for every model
    whose inputs exist (a database made before a model existed gets its view
    when it is built)."""
    con.execute(macros_sql())
    present = existing_tables(con)
    for m in all_models():
        if all(d in present for d in m.depends_on):
            try:
                con.execute(f"CREATE OR REPLACE VIEW {view_name(m)} AS {m.definition}")
            except duckdb.BinderException:
                # A stored input older than this definition (a new column it
                # lacks): the model is stale, and `build` defines it after
                # rebuilding that input.
                continue
            present.add(view_name(m))


def build(con: duckdb.DuckDBPyConnection, m: Model) -> None:
    """Store one model whole from its definition and record its digest."""
    con.execute(f"CREATE OR REPLACE VIEW {view_name(m)} AS {m.definition}")
    if m.stored:
        was_view = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = $n", {"n": m.name})
        if was_view.fetchone()[0]:  # a database from before the model was stored
            con.execute(f"DROP VIEW {m.name}")
        order = f" ORDER BY {m.order}" if m.order else ""
        con.execute(f"CREATE OR REPLACE TABLE {m.name} AS SELECT * FROM {view_name(m)}{order}")  # noqa: S608
        _set_meta(con, f"model:{m.name}", m.digest)


def build_all(
    con: duckdb.DuckDBPyConnection, names: set[str] | None = None, progress: Progress | None = None
) -> None:
    """Build the models named (default: all) and the models that read them,
    then record where the audit trail and the sources stand."""
    chosen = dependents(names) if names is not None else {m.name for m in all_models()}
    todo = [m for m in all_models() if m.name in chosen]
    with written_join_order(con):
        for done, m in enumerate(todo):
            if progress:
                progress(done / len(todo), f"building {m.name}")
            build(con, m)
    _set_meta(con, THROUGH_KEY, str(last_change(con)))
    record_fingerprints(con, SOURCE_TABLES)
    if progress:
        progress(1.0, "figures up to date")


@contextmanager
def written_join_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Joins made in the order the definitions write them: each model's large
    input first, the small tables it looks up after it, which DuckDB then
    hashes. DuckDB counts the rows a transaction has written and not yet
    committed as none, so after an import of a million shipments it chose to
    hash those and probe them with the places, several times slower."""
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    con.execute("SET disabled_optimizers = $o", {"o": ",".join(filter(None, (before, WRITTEN_ORDER)))})
    try:
        yield
    finally:
        with suppress(duckdb.TransactionException):  # a failed write's cursor is thrown away
            con.execute("SET disabled_optimizers = $o", {"o": before})


# ---------------------------------------------------------------- meta


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    found = con.execute("SELECT value FROM meta WHERE key = $key", {"key": key}).fetchone()
    return found[0] if found else None


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES ($key, $value)", {"key": key, "value": value})


def last_change(con: duckdb.DuckDBPyConnection) -> int:
    if "audit_log" not in existing_tables(con):
        return 0
    return con.execute("SELECT coalesce(max(change_id), 0) FROM audit_log").fetchone()[0]


# ---------------------------------------------------------------- change detection


def fingerprints(con: duckdb.DuckDBPyConnection, tables) -> dict[str, str]:
    """Each table's row count and the XOR of its rows' hashes: any insert,
    update or delete changes it. One pass over each table, on all cores."""
    parts = " UNION ALL ".join(
        f"SELECT '{t}', count(*)::VARCHAR || ':' || coalesce(bit_xor(hash(t)), 0)::VARCHAR FROM {t} t"  # noqa: S608
        for t in tables
    )
    return dict(con.execute(parts).fetchall()) if parts else {}


def record_fingerprints(con: duckdb.DuckDBPyConnection, tables) -> None:
    for table, value in fingerprints(con, tables).items():
        _set_meta(con, f"fingerprint:{table}", value)


def changed_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The source tables whose rows differ from when the hub last wrote them."""
    recorded = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'fingerprint:%'").fetchall())
    now = fingerprints(con, SOURCE_TABLES)
    return [t for t in SOURCE_TABLES if recorded.get(f"fingerprint:{t}") != now[t]]


def stale(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The models that cannot be trusted as stored, each with the reason; the
    models that read one of them are listed too."""
    present = existing_tables(con)
    digests = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'model:%'").fetchall())
    reasons: dict[str, str] = {}
    for m in stored_models():
        if m.name not in present:
            reasons[m.name] = "not stored yet"
        elif digests.get(f"model:{m.name}") != m.digest:
            reasons[m.name] = "its definition changed"
    if int(_meta(con, THROUGH_KEY) or -1) != last_change(con):
        for m in stored_models():
            reasons.setdefault(m.name, "the audit trail is out of step")
    stored_names = {m.name for m in stored_models()}
    for table in changed_sources(con):
        for name in (dependents({table}) & stored_names) - set(reasons):
            reasons[name] = f"{table} changed outside the hub"
    for name in (dependents(set(reasons)) & stored_names) - set(reasons):
        reasons[name] = "reads a model that is rebuilt"
    return reasons


# ---------------------------------------------------------------- after each write


def catch_up(con: duckdb.DuckDBPyConnection, before: duckdb.DuckDBPyConnection | None = None) -> int:
    """Replace what the audit rows not yet applied touched; returns how many
    changes were applied. Call inside the write's transaction; `before`, a
    cursor still reading the data as it was before the write, lets the
    fingerprints be updated from the changed rows alone."""
    through = int(_meta(con, THROUGH_KEY) or 0)
    last = last_change(con)
    if last <= through:
        return 0
    # Replacing rows costs about three times as much per row as building all
    # of them, so a change larger than half of what is stored builds whole.
    largest = con.execute(
        "SELECT max(estimated_size) FROM duckdb_tables() WHERE list_contains($names, table_name)",
        {"names": [m.name for m in stored_models()]},
    ).fetchone()[0]
    if last - through > (largest or 0) / 2:
        build_all(con)
        return last - through
    con.execute(
        "CREATE OR REPLACE TEMP TABLE touched_changes AS "
        "SELECT table_name, record_id FROM audit_log WHERE change_id > $through",
        {"through": through},
    )
    con.execute((MODELS_DIR / "_touched.sql").read_text())
    # A model reading none of the tables changed still equals its definition.
    tables = con.execute("SELECT DISTINCT table_name FROM touched_changes").fetchall()
    changed = dependents({table for (table,) in tables})
    for m in stored_models():
        if m.name not in changed:
            continue
        if m.refresh_by:
            refresh_by_key(con, m)
        elif m.refresh:
            con.execute(m.refresh)
        else:
            build(con, m)
    update_fingerprints(con, before)
    _drop_touched(con)
    _set_meta(con, THROUGH_KEY, str(last))
    return last - through


def refresh_by_key(con: duckdb.DuckDBPyConnection, m: Model) -> None:
    """Replace the rows whose key (`-- refresh by: column in touched_table`) a
    change touched: the definition is read over its inputs' rows with those
    keys alone, each shadowed by a temporary view of its name, since a filter
    applied after the definition's grouping would add up every row. A source
    table's rows are copied first, found by the key's index (the definition's
    own filters, pushed into the view, would keep DuckDB from using it); a
    model has no index, and the view reads only the columns the definition does."""
    column, touched = m.refresh_by
    chosen = f"{column} IN (SELECT {column} FROM {touched})"  # noqa: S608 (names from the model's header)
    con.execute(f"DELETE FROM {m.name} WHERE {chosen}")  # noqa: S608 (names from the model's header)
    stored = stored_catalogue(con)
    for name in m.depends_on:
        rows = f"FROM {stored}.{name} WHERE {chosen}"
        if name in SOURCE_TABLES:  # dropped with the other touched_* tables
            con.execute(f"CREATE OR REPLACE TEMP TABLE touched_{name}_by_key AS {rows}")
            rows = f"FROM touched_{name}_by_key"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {rows}")
    con.execute(f"INSERT INTO {m.name} SELECT * FROM {view_name(m)}")  # noqa: S608
    for name in m.depends_on:
        con.execute(f"DROP VIEW temp.{name}")


def stored_catalogue(con: duckdb.DuckDBPyConnection) -> str:
    """The file's own schema, quoted: `main.x` would find a temporary table or
    view of that name first."""
    return '"{}".main'.format(con.execute("SELECT current_database()").fetchone()[0].replace('"', '""'))


def update_fingerprints(con: duckdb.DuckDBPyConnection, before: duckdb.DuckDBPyConnection | None) -> None:
    """The fingerprints of the tables in touched_changes, from the touched
    rows as they were and are (an XOR takes the old rows' hashes back out),
    so a save need not hash a million rows; counted whole without `before`."""
    changed = con.execute(
        "SELECT table_name, list(DISTINCT record_id) FROM touched_changes GROUP BY ALL"
    ).fetchall()
    for table, ids in changed:
        if table not in SOURCE_TABLES:
            continue
        recorded = _meta(con, f"fingerprint:{table}")
        if before is None or recorded is None:
            record_fingerprints(con, [table])
            continue
        touched = (
            f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {table} t "  # noqa: S608 (a source table)
            f"WHERE {primary_key(con, table)} IN (SELECT unnest($ids))"
        )
        old_rows, old_hash = before.execute(touched, {"ids": ids}).fetchone()
        new_rows, new_hash = con.execute(touched, {"ids": ids}).fetchone()
        rows, hashed = map(int, recorded.split(":"))
        _set_meta(con, f"fingerprint:{table}", f"{rows - old_rows + new_rows}:{hashed ^ old_hash ^ new_hash}")


def _drop_touched(con: duckdb.DuckDBPyConnection) -> None:
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'touched%'"
    ).fetchall():
        con.execute(f"DROP TABLE temp.{name}")
    con.execute("DROP MACRO IF EXISTS temp.touched_movement")


# ---------------------------------------------------------------- check


def differences(con: duckdb.DuckDBPyConnection, limit: int = 5) -> dict[str, list[str]]:
    """Each model that differs from its definition, with up to `limit`
    differences in words. Builds the models again as temporary tables, which
    the definitions of the models reading them then read instead of the
    stored ones; drops them all before returning."""
    found: dict[str, list[str]] = {}
    present = existing_tables(con)
    built: list[str] = []
    stored = stored_catalogue(con)
    try:
        for m in stored_models():
            if m.name not in present or view_name(m) not in present:
                found[m.name] = ["not stored"]
                continue
            if m.kind == "keys":
                problems = _key_problems(con, m, stored, limit)
            else:
                con.execute(f"CREATE TEMP TABLE {m.name} AS SELECT * FROM {view_name(m)}")  # noqa: S608
                built.append(m.name)
                problems = _row_differences(con, m.name, stored, limit)
            if problems:
                found[m.name] = problems
    finally:
        for name in built:
            con.execute(f"DROP TABLE temp.{name}")
    return found


def _row_differences(con: duckdb.DuckDBPyConnection, name: str, stored: str, limit: int) -> list[str]:
    """The rows in one and not the other. Equal row counts and sums of row
    hashes settle most checks in one pass each; only unequal ones are
    compared row by row (far slower at a million rows)."""
    summary = "SELECT count(*), sum(hash(t)::HUGEINT) FROM {} t"
    if (
        con.execute(summary.format(f"{stored}.{name}")).fetchone()
        == con.execute(summary.format(f"temp.{name}")).fetchone()
    ):
        return []
    rows = con.execute(
        f"""
        (SELECT 'stored, not defined' AS side, *
         FROM (FROM {stored}.{name} EXCEPT ALL FROM temp.{name}) LIMIT {limit})
        UNION ALL
        (SELECT 'defined, not stored', *
         FROM (FROM temp.{name} EXCEPT ALL FROM {stored}.{name}) LIMIT {limit})
        """  # noqa: S608 (model names and a number)
    ).fetchall()
    return [f"{side}: {tuple(rest)}" for side, *rest in rows]


def _key_problems(con: duckdb.DuckDBPyConnection, m: Model, stored: str, limit: int) -> list[str]:
    """A key per natural key in use, and no key or natural key twice."""
    natural = m.natural_key
    rows = con.execute(
        f"""
        (SELECT 'no key for', ({natural})::VARCHAR
         FROM (SELECT {natural} FROM {view_name(m)} EXCEPT SELECT {natural} FROM {stored}.{m.name})
         LIMIT {limit})
        UNION ALL
        (SELECT 'key used twice', {m.key}::VARCHAR FROM {stored}.{m.name} GROUP BY {m.key} HAVING count(*) > 1
         LIMIT {limit})
        UNION ALL
        (SELECT 'natural key numbered twice', ({natural})::VARCHAR FROM {stored}.{m.name}
         GROUP BY {natural} HAVING count(*) > 1 LIMIT {limit})
        """  # noqa: S608 (names from the model's header)
    ).fetchall()
    return [f"{what}: {value}" for what, value in rows]
