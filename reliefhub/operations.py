"""Staff operations: the forms that add and change records.

A form's values are staged as a one-row table of text, like line 1 of an
imported file, and then checked, written and audited by the write path that
imports use too (reliefhub.writes), so each rule lives once, in the schema or
validation.py. This module holds what is the forms' own: the fields a form
shows, its values as text, a readable id for a new record, and a stored
record read inside the save's transaction.

Its few SQL strings, like those of the write path, name only catalogue tables
and columns; values are bound (hence the S608 waivers).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from reliefhub import writes
from reliefhub.auth import Identity
from reliefhub.db import Database
from reliefhub.validation import (
    LINE,
    ColumnRule,
    Problem,
    column_rules,
    primary_key,
    quote,
    table_columns,
)
from reliefhub.writes import Rollback

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


# A save's row, worked out inside its transaction from what is stored there:
# (the row's values, its record's id).
RowOf = Callable[[duckdb.DuckDBPyConnection], tuple[dict, str | None]]


def _save(
    db: Database, table: str, record_id: str | None, action: str, row_of: RowOf, *, who: Identity
) -> Change:
    """Write the row `row_of` gives, a new record when `action` is "add", else a
    change to the stored `record_id`: checked, written and audited in one
    transaction (reliefhub.writes)."""
    _check_table(table)
    change_set = str(uuid.uuid4())
    expect = "add" if action == "add" else "update"
    try:
        with writes.transaction(db, who, FORM) as cur:
            values, record_id = row_of(cur)
            stage_values(cur, table, values, "form_stage")
            typed, problems = writes.check_staged(cur, table, "form_stage", FORM, who=who, expect=expect)
            if problems:
                raise Rollback(Change(table, record_id, problems=problems))
            counts = writes.write_checked(
                cur, table, typed, who=who, via=FORM, change_set=change_set, update_action=action
            )
            if not (counts.new or counts.updated):
                raise Rollback(Change(table, record_id))  # nothing changed: nothing to commit
    except writes.Refused as refused:
        return Change(table, record_id, problems=refused.problems)
    except Rollback as rollback:
        return rollback.outcome
    return Change(table, record_id, "add" if counts.new else action, change_set=change_set)


def _new_row(cur: duckdb.DuckDBPyConnection, table: str, values: dict) -> tuple[dict, str]:
    """The values to add, with a readable id when none is given, and that id."""
    values = dict(values)
    key = primary_key(cur, table)
    if not as_text(values.get(key)):
        values[key] = suggest_id(cur, table, values)
    return values, as_text(values[key])


def _changed_row(
    cur: duckdb.DuckDBPyConnection, table: str, record_id: str, changes: dict, seen_change: int | None
) -> tuple[dict, str]:
    """The stored row with `changes` applied; Rollback when the id would
    change, no such record is stored, or someone changed it after `seen_change`."""
    key = primary_key(cur, table)
    if seen_change is not None and (since := changed_since(cur, table, record_id, seen_change)):
        raise Rollback(Change(table, record_id, problems=[Problem(FORM, 1, key, record_id, since)]))
    if key in changes and as_text(changes[key]) != record_id:
        problem = Problem(FORM, 1, key, as_text(changes[key]), "an ID cannot be changed")
        raise Rollback(Change(table, record_id, problems=[problem]))
    stored = _fetch_row(cur, table, record_id)
    if stored is None:
        problem = Problem(FORM, 1, key, record_id, f"there is no {table.removesuffix('s')} with this ID")
        raise Rollback(Change(table, record_id, problems=[problem]))
    return stored | changes, record_id


def add_record(db: Database, table: str, values: dict, *, who: Identity) -> Change:
    """Add a request, shipment, flight or place. An empty id gets a readable one."""
    return _save(db, table, None, "add", lambda cur: _new_row(cur, table, values), who=who)


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
    """Change some fields of a stored record; the others stay as stored, read
    inside the save's transaction. Given `seen_change` (seen_change() when the
    form was opened), a record someone else changed since is refused, naming
    who and when."""
    return _save(
        db,
        table,
        record_id,
        action,
        lambda cur: _changed_row(cur, table, record_id, changes, seen_change),
        who=who,
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
