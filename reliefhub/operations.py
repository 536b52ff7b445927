"""Staff operations: add and change records, every rule checked first, every change audited.

A form's values are staged as a one-row table and checked by the same function
that checks an imported file (validation.validate_staged), so each rule lives
once, in schema.sql or validation.py. Forms and imports also share the write:
`write_checked` sorts checked rows into new, updated and unchanged, records the
row before and after each change in the audit log, and writes them.

Everything happens inside Database.transaction(): the check and the write run
under the process's one write lock and in one transaction, so two staff saving
at the same moment cannot both pass a check only one of them may pass (the same
new id, say), and a failure anywhere leaves nothing behind.

SQL here names tables and columns read from the schema catalogue (never user
values, which are always bound), hence the S608 waivers.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from reliefhub import auth
from reliefhub.auth import Identity
from reliefhub.db import Database
from reliefhub.validation import (
    LINE,
    ColumnRule,
    Problem,
    column_rules,
    primary_key,
    quote,
    referenced_row_problems,
    table_columns,
    validate_staged,
)

# Tables staff may add to and change from the dashboard.
RECORD_TABLES = ("requests", "shipments", "flights", "places")
# Tables whose rows have a status that changes as things happen, with the
# dates that usually change with it.
STATUS_DATES = {
    "requests": ("closed_on",),
    "shipments": ("dispatched_on", "delivered_on"),
    "flights": ("flight_date",),
}
FORM = "form"
AUDIT_MARKER = "-- Audit trail"

LABELS = {
    "requester_iso3": "Requesting country",
    "recipient_iso3": "Recipient country",
    "provider_iso3": "Providing country",
    "iso3": "Country",
    "material_code": "Material",
    "origin_place_id": "From (place)",
    "destination_place_id": "To (place)",
    "request_id": "Answers request",
    "flight_id": "Carried by flight",
    "source_urls": "Source links",
    "source_note": "Source note",
    "icao": "ICAO code",
    "iata": "IATA code",
    "payload_tonnes": "Payload (tonnes)",
    "date_precision": "Date precision",
}
HELP = {
    "date_precision": "'month' when the source gives only the month: then enter the 1st of that month.",
    "source_urls": "Where this comes from: one or more links, separated by ' ; '.",
    "source_note": "How sure the source is, and anything you inferred.",
    "quantity": "In the material's unit; leave empty when the source gives no figure.",
    "mode": "Leave empty when the source does not say how it travelled.",
    "closed_on": "Only for a fulfilled, closed, withdrawn or cancelled request.",
    "status": "A request is 'withdrawn' when the requester withdrew or closed it before all of it arrived.",
    "confidence": "'stated': every fact is in the source; 'derived': worked out from it by a rule "
    "(a day from 'Friday', kg to t); 'inferred': a judgement the source does not make. Empty: not stated.",
    "quantity_precision": "'exact', 'approximate' (about), 'at_least' (more than), "
    "or 'unknown' when the quantity is empty. Empty: not stated.",
    "payload_precision": "As for a quantity: 'exact', 'approximate', 'at_least', "
    "or 'unknown' when the payload is empty.",
    "request_id": "The request this shipment answers: same material and country.",
    "flight_id": "The flight that carried it (the shipment's mode is then 'air').",
    "coordinate_source": "Where the coordinates come from: a gazetteer, an airport list, 'approximate: ...'.",
}


@dataclass(frozen=True)
class Field:
    """One form field, derived from the schema catalogue."""

    name: str
    label: str
    kind: str  # text | long_text | number | integer | date | choice | reference
    required: bool
    choices: tuple[str, ...] = ()
    references: str | None = None
    help: str = ""


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Change:
    """What a save did: the record it concerned, and either an action or problems."""

    table: str
    record_id: str | None = None
    action: str | None = None  # add | update | status; None when nothing was written
    problems: list[Problem] = field(default_factory=list)
    change_set: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_field(self) -> dict[str, list[str]]:
        """Problems in words, under each field they concern (a rule over two
        fields is listed under both), naming fields as the form labels them."""
        shown: dict[str, list[str]] = {}
        for problem in self.problems:
            columns = problem.column.split(", ")
            for column in columns:
                shown.setdefault(column, []).append(_in_words(problem.problem, columns))
        return shown


class Rollback(Exception):
    """Leave Database.transaction() without writing, carrying the outcome."""

    def __init__(self, outcome):
        self.outcome = outcome


def _in_words(text: str, columns: list[str]) -> str:
    for column in columns:
        text = re.sub(rf"\b{re.escape(column)}\b", label(column).lower(), text)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------- form metadata


def field_kind(rule: ColumnRule) -> str:
    if rule.references:
        return "reference"
    if rule.choices:
        return "choice"
    if rule.data_type == "DATE":
        return "date"
    if rule.data_type == "DOUBLE":
        return "number"
    if rule.data_type in ("INTEGER", "BIGINT"):
        return "integer"
    if rule.name in ("description", "source_urls", "source_note", "coordinate_source"):
        return "long_text"
    return "text"


def label(column: str) -> str:
    return LABELS.get(column) or column.replace("_", " ").capitalize().replace(" id", " ID")


def form_fields(db: Database, table: str) -> list[Field]:
    """The fields of a form for `table`, in schema order, with pickers where
    the schema names the allowed values or the referenced table."""
    _check_table(table)
    cur = db.connection.cursor()
    key = primary_key(cur, table)
    own_id = table.removesuffix("s").capitalize() + " ID"
    return [
        Field(
            r.name,
            own_id if r.name == key else label(r.name),
            field_kind(r),
            r.required,
            r.choices,
            r.references,
            "" if r.name == key else HELP.get(r.name, ""),
        )
        for r in column_rules(cur, table)
    ]


def key_column(db: Database, table: str) -> str:
    _check_table(table)
    return primary_key(db.connection.cursor(), table)


def choices(
    db: Database, table: str, *, search: str | None = None, limit: int | None = None
) -> list[tuple[str, str]]:
    """(value, label) pairs for a picker of rows of `table`, those whose label
    contains `search`, at most `limit` of them."""
    frame = db.query("record_choices", {"table": table, "search": search or None, "limit": limit})
    return list(zip(frame["value"], frame["label"], strict=True))


def current_row(db: Database, table: str, record_id: str) -> dict | None:
    """The stored row as a dict of Python values, or None."""
    _check_table(table)
    return _fetch_row(db.connection.cursor(), table, record_id)


def _check_table(table: str) -> None:
    if table not in RECORD_TABLES:
        raise ValueError(f"not a table staff can change: {table!r}")


# ---------------------------------------------------------------- shared by forms and imports


def ensure_audit_table(cur: duckdb.DuckDBPyConnection) -> None:
    """Databases built before the audit trail existed get it on their first write."""
    auth.ensure_schema_part(cur, "audit_log", AUDIT_MARKER)


def audit_available(db: Database) -> bool:
    cur = db.connection.cursor()
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'audit_log' AND schema_name = 'main'"
        ).fetchone()[0]
    )


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
        problems.sort(key=lambda p: (p.line, p.column))
    if typed and expect:
        key = primary_key(cur, table)
        noun = table.removesuffix("s")
        stored = f"t.{quote(key)} IN (SELECT {quote(key)} FROM {quote(table)})"  # noqa: S608
        where, message = (
            (stored, f"a {noun} with this ID already exists")
            if expect == "add"
            else (f"NOT {stored}", f"there is no {noun} with this ID")
        )
        for line, value in cur.execute(
            f"SELECT t.{LINE}, t.{quote(key)} FROM {quote(typed)} t "  # noqa: S608
            f"WHERE t.{quote(key)} IS NOT NULL AND {where}"
        ).fetchall():
            problems.append(Problem(label, line, key, value, message))
        problems.sort(key=lambda p: (p.line, p.column))
    return typed, problems


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
    take seconds. Call inside Database.transaction()."""
    say = progress or (lambda text: None)
    ensure_audit_table(cur)
    key = quote(primary_key(cur, table))
    columns = [c for c, _ in table_columns(cur, table)]
    target, rows = quote(table), quote(typed)
    stored = cur.execute(
        f"SELECT count(*) FROM {rows} t SEMI JOIN {target} stored ON stored.{key} = t.{key}"  # noqa: S608
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
    new, updated, unchanged = cur.execute(
        "SELECT count(*) FILTER (WHERE __change = 'add'), count(*) FILTER (WHERE __change = 'update'), "
        "count(*) FILTER (WHERE __change = 'unchanged') FROM write_changes"
    ).fetchone()
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
    if updated:
        say(f"Updating {updated:,} changed rows, with their audit trail")
        cur.execute(
            audit + f"to_json(stored), {after} FROM write_changes c "
            f"JOIN {target} stored ON stored.{key} = c.{key} WHERE c.__change = 'update'",
            params | {"action": update_action},
        )
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
    if new:
        say(f"Adding {new:,} new rows, with their audit trail")
        cur.execute(
            audit + f"NULL, {after} FROM write_changes c WHERE c.__change = 'add'",
            params | {"action": "add"},
        )
        cur.execute(
            f"INSERT INTO {target} BY NAME SELECT * EXCLUDE ({LINE}, __change) "  # noqa: S608
            f"FROM write_changes WHERE __change = 'add'"
        )
    return Counts(new, updated, unchanged)


def who_problem(who: Identity, label: str) -> list[Problem]:
    """The write path's own role check: a caller below staff writes nothing."""
    return auth.write_refusal(who, label)


# ---------------------------------------------------------------- forms


def as_text(value) -> str | None:
    """A form value as the text a CSV cell would hold."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def stage_values(cur: duckdb.DuckDBPyConnection, table: str, values: dict, stage: str) -> None:
    """Stage one form submission as a one-row table of text, like a file's line 1."""
    columns = [c for c, _ in table_columns(cur, table)]
    unknown = set(values) - set(columns)
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
    select = ", ".join(f"CAST($v{i} AS VARCHAR) AS {quote(c)}" for i, c in enumerate(columns))
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote(stage)} AS SELECT 1 AS {LINE}, {select}",
        {f"v{i}": as_text(values.get(c)) for i, c in enumerate(columns)},
    )


def _fetch_row(cur: duckdb.DuckDBPyConnection, table: str, record_id: str) -> dict | None:
    key = primary_key(cur, table)
    result = cur.execute(
        f"SELECT * FROM {quote(table)} WHERE {quote(key)} = $id",  # noqa: S608
        {"id": record_id},
    )
    row = result.fetchone()
    return None if row is None else dict(zip([d[0] for d in result.description], row, strict=True))


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def suggest_id(cur: duckdb.DuckDBPyConnection, table: str, values: dict) -> str:
    """A readable id in the style of the built-in data, unique in the table:
    req-<country>-<date>-<material>, flt-<date>-<from>-<to>,
    shp-<date>-<recipient>-<provider>-<material>, or the place's name."""

    def day(column: str) -> str:
        text = as_text(values.get(column)) or ""
        return text[:7] if values.get("date_precision") == "month" else text

    def part(column: str) -> str:
        return slug(as_text(values.get(column)) or "")

    if table == "requests":
        parts = ["req", part("requester_iso3"), day("requested_on"), part("material_code")]
    elif table == "flights":
        parts = ["flt", day("flight_date"), part("origin_place_id"), part("destination_place_id")]
    elif table == "shipments":
        when = day("delivered_on") or day("dispatched_on")
        provider = part("provider_iso3") or part("provider")
        parts = ["shp", when, part("recipient_iso3"), provider, part("material_code")]
    else:
        parts = [part("name") or "place"]
    base = "-".join(p for p in parts if p) or table.removesuffix("s")
    key = quote(primary_key(cur, table))
    taken = {
        r[0]
        for r in cur.execute(
            f"SELECT {key} FROM {quote(table)} WHERE {key} = $base OR starts_with({key}, $base || '-')",  # noqa: S608
            {"base": base},
        ).fetchall()
    }
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _save(
    db: Database,
    table: str,
    *,
    who: Identity,
    action: str,
    values: dict | None = None,
    record_id: str | None = None,
    changes: dict | None = None,
    seen_change: int | None = None,
) -> Change:
    """Add `values`, or apply `changes` to the stored `record_id`: check, write
    and audit in one transaction. The stored row is read inside it; given
    `seen_change` (seen_change() when the form was opened), a record someone
    else changed since is refused, naming who and when."""
    _check_table(table)
    problems = who_problem(who, FORM)
    if problems:
        return Change(table, record_id, problems=problems)
    change_set = str(uuid.uuid4())
    expect = "add" if values is not None else "update"
    try:
        with db.transaction() as cur:
            key = primary_key(cur, table)
            noun = table.removesuffix("s")
            if expect == "add":
                values = dict(values)
                if not as_text(values.get(key)):
                    values[key] = suggest_id(cur, table, values)
                record_id = as_text(values.get(key))
            else:
                if key in changes and as_text(changes[key]) != record_id:
                    problem = Problem(FORM, 1, key, as_text(changes[key]), "an ID cannot be changed")
                    raise Rollback(Change(table, record_id, problems=[problem]))
                stored = _fetch_row(cur, table, record_id)
                if seen_change is not None and (since := changed_since(cur, table, record_id, seen_change)):
                    raise Rollback(
                        Change(table, record_id, problems=[Problem(FORM, 1, key, record_id, since)])
                    )
                if stored is None:
                    problem = Problem(FORM, 1, key, record_id, f"there is no {noun} with this ID")
                    raise Rollback(Change(table, record_id, problems=[problem]))
                values = stored | changes
            stage_values(cur, table, values, "form_stage")
            typed, problems = check_staged(cur, table, "form_stage", FORM, who=who, expect=expect)
            if problems:
                raise Rollback(Change(table, record_id, problems=problems))
            counts = write_checked(
                cur, table, typed, who=who, via=FORM, change_set=change_set, update_action=action
            )
            if not (counts.new or counts.updated):
                raise Rollback(Change(table, record_id))  # nothing changed: nothing to commit
    except Rollback as rollback:
        return rollback.outcome
    return Change(table, record_id, "add" if counts.new else action, change_set=change_set)


def add_record(db: Database, table: str, values: dict, *, who: Identity) -> Change:
    """Add a request, shipment, flight or place. An empty id gets a readable one."""
    return _save(db, table, who=who, action="add", values=values)


def update_record(
    db: Database,
    table: str,
    record_id: str,
    changes: dict,
    *,
    who: Identity,
    action: str = "update",
    seen_change: int | None = None,
) -> Change:
    """Change some fields of a stored record; the others stay as stored.
    Refused when the record changed after `seen_change` (see _save)."""
    return _save(
        db, table, who=who, action=action, record_id=record_id, changes=changes, seen_change=seen_change
    )


def seen_change(db: Database, table: str, record_id: str) -> int:
    """The record's latest change id (0: none), to hand back with the form's save."""
    found = db.connection.cursor().execute(
        "SELECT coalesce(max(change_id), 0) FROM audit_log WHERE table_name = $table AND record_id = $id",
        {"table": table, "id": record_id},
    )
    return found.fetchone()[0]


def changed_since(cur: duckdb.DuckDBPyConnection, table: str, record_id: str, seen: int) -> str | None:
    """Who changed the record after change `seen`, and when, in words; None if nobody did."""
    found = cur.execute(
        "SELECT changed_by, strftime(timezone('UTC', changed_at), '%d %b %Y %H:%M') FROM audit_log "
        "WHERE table_name = $table AND record_id = $id "
        "AND change_id > $seen ORDER BY change_id DESC LIMIT 1",
        {"table": table, "id": record_id, "seen": seen},
    ).fetchone()
    if found is None:
        return None
    who, when = found
    return (
        f"{who} changed this record at {when} UTC, after you opened it: "
        "nothing was saved. Reload it to see their change, then make yours again."
    )


def change_status(
    db: Database,
    table: str,
    record_id: str,
    status: str,
    *,
    who: Identity,
    dates: dict | None = None,
    seen_change: int | None = None,
) -> Change:
    """A request partially fulfilled, a shipment delivered, a flight landed."""
    if table not in STATUS_DATES:
        raise ValueError(f"{table} has no status")
    unknown = set(dates or {}) - set(STATUS_DATES[table])
    if unknown:
        raise ValueError(f"not a status date of {table}: {', '.join(sorted(unknown))}")
    changes = {"status": status, **(dates or {})}
    return update_record(db, table, record_id, changes, who=who, action="status", seen_change=seen_change)


def link_shipment(
    db: Database,
    shipment_id: str,
    *,
    request_id: str | None,
    flight_id: str | None,
    who: Identity,
    seen_change: int | None = None,
) -> Change:
    """Link a shipment to the request it answers and the flight that carried it
    (None unlinks). A request's fulfilment then follows from its delivered shipments."""
    return update_record(
        db,
        "shipments",
        shipment_id,
        {"request_id": request_id, "flight_id": flight_id},
        who=who,
        seen_change=seen_change,
    )
