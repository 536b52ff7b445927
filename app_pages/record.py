"""Record: add requests, shipments, flights and places; change a status; link a shipment.

Every form is drawn from the schema (reliefhub.operations.form_fields) and
saved by reliefhub.operations, which checks every rule before writing and
records the change in the audit trail. Problems appear under their field.
"""

from datetime import date
from functools import partial

import streamlit as st

from reliefhub import operations
from reliefhub.ui import chrome, text

db, who, who_slot = chrome.start_writing_page(
    "Record",
    "Add what happens as it happens. Nothing is written until every field passes its checks; "
    "every change is kept, with your account's name, on the Audit page.",
)
ADD_TABLES = {"requests": "request", "shipments": "shipment", "flights": "flight", "places": "place"}
STATUS_TABLES = {table: ADD_TABLES[table] for table in operations.STATUS_DATES}
MAX_LISTED = 500  # options in a picker; beyond that, search or type the ID


def version(key: str) -> int:
    """Bumped after a save, so the form starts afresh."""
    return st.session_state.get(f"{key}_version", 0)


def widget(field: operations.Field, value, key: str, *, disabled: bool = False):
    """One input for one field, showing `value`; returns what is entered."""
    label = field.label if field.required else f"{field.label} (optional)"
    common = {"key": key, "help": field.help or None, "disabled": disabled}
    if field.kind == "reference":
        pairs = dict(operations.choices(db, field.references, limit=MAX_LISTED + 1))
        if len(pairs) > MAX_LISTED:  # too many to list: type the ID, it is checked on saving
            typed = operations.as_text(value) or ""
            return st.text_input(f"{label}: ID", value=typed, placeholder="Type the ID", **common) or None
    if field.kind in ("reference", "choice"):
        if field.kind == "choice":
            pairs = {c: c.replace("_", " ") for c in field.choices}
        options = list(pairs)
        index = options.index(value) if value in pairs else None
        return st.selectbox(
            label, options, index=index, format_func=pairs.get, placeholder="Choose…", **common
        )
    if field.kind == "date":
        return st.date_input(
            label,
            value=value,
            min_value=date(1990, 1, 1),
            max_value=date(2100, 12, 31),
            format="YYYY-MM-DD",
            **common,
        )
    typed = operations.as_text(value) or ""
    if field.kind == "long_text":
        return st.text_area(label, value=typed, height=80, **common)
    return st.text_input(label, value=typed, **common)


def record_form(key: str, fields: list, values: dict, *, submit: str, locked: tuple = ()):
    """A form of `fields` showing `values`; returns (entered values or None, a
    place under each field for its problems)."""
    slots = {}
    entered = {}
    form_key = f"{key}_{version(key)}"
    with st.form(form_key, enter_to_submit=False):
        columns = st.columns(2)
        for i, field in enumerate(fields):
            with columns[i % 2]:
                entered[field.name] = widget(
                    field, values.get(field.name), f"{form_key}_{field.name}", disabled=field.name in locked
                )
                slots[field.name] = st.empty()
        slots[""] = st.empty()
        submitted = st.form_submit_button(submit, type="primary")
    return (entered if submitted else None), slots


def report(change: operations.Change, key: str, slots: dict, done: str) -> None:
    """Problems under their fields, or a note that the change was saved."""
    if change.ok and change.action:
        st.session_state[f"{key}_version"] = version(key) + 1
        st.session_state[f"{key}_done"] = (
            f"{done} {text.code_span(change.record_id)}. It is on the Audit page."
        )
        st.rerun()
    if change.ok:
        slots[""].info("Nothing changed, so nothing was saved.")
        return
    elsewhere = []
    for column, messages in change.by_field().items():
        if column == "who":
            who_slot.error(" ".join(messages))
        elif column in slots:
            slots[column].error(" ".join(messages))
        else:
            elsewhere.append(f"{operations.label(column)}: {' '.join(messages)}")
    if elsewhere:
        slots[""].error("\n\n".join(elsewhere))


def saved_note(key: str) -> None:
    if note := st.session_state.pop(f"{key}_done", None):
        st.success(note)


def opened_at(form_key: str, table: str, record_id: str) -> int:
    """The record's latest change when this form was opened (again after each
    save): saving is refused if someone else changed the record since."""
    return st.session_state.setdefault(
        f"{form_key}_seen_{version(form_key)}", operations.seen_change(db, table, record_id)
    )


def open_record(table: str, record_id: str, prefix: str) -> tuple[dict, str, int]:
    """The stored record, its form's key, and its latest change when the form
    was opened; shows the note of a save just made."""
    form_key = f"{prefix}_{record_id}"
    saved_note(form_key)
    return operations.current_row(db, table, record_id), form_key, opened_at(form_key, table, record_id)


def pick_record(table: str, key: str) -> str | None:
    """Find a record by part of its ID or label, then pick it."""
    noun = ADD_TABLES[table]
    search = st.text_input(
        f"Find a {noun}", key=f"{key}_search", placeholder="Part of its ID, country, material…"
    )
    pairs = dict(operations.choices(db, table, search=search.strip() or None, limit=MAX_LISTED))
    return st.selectbox(
        f"Which {noun}" + (f" (the first {MAX_LISTED:,} that match)" if len(pairs) == MAX_LISTED else ""),
        list(pairs),
        index=None,
        format_func=pairs.get,
        placeholder="Choose…",
        key=key,
    )


def picked_record(tables: dict[str, str], purpose: str) -> tuple[str, str, dict, str, int] | None:
    """A table chosen from `tables`, a record of it picked, and that record
    opened for the `purpose` form (open_record): (table, record_id, stored,
    form_key, seen); None until a record is picked."""
    table = st.radio("Record", list(tables), format_func=tables.get, horizontal=True, key=f"{purpose}_table")
    record_id = pick_record(table, f"{purpose}_record")
    if not record_id:
        return None
    return table, record_id, *open_record(table, record_id, f"{purpose}_{table}")


def new_record(table: str) -> None:
    noun = ADD_TABLES[table]
    key = f"add_{table}"
    saved_note(key)
    id_column = operations.key_column(db, table)
    fields = [
        operations.Field(
            f.name, f.label, f.kind, False, help="Leave empty for a readable ID made from the fields below."
        )
        if f.name == id_column
        else f
        for f in operations.form_fields(db, table)
    ]
    defaults = {"date_precision": "day", "status": "open" if table == "requests" else "planned"}
    entered, slots = record_form(key, fields, defaults, submit=f"Add {noun}")
    if entered is not None:
        report(operations.add_record(db, table, entered, who=who), key, slots, f"Added {noun}")


def change_status() -> None:
    picked = picked_record(STATUS_TABLES, "status")
    if picked is None:
        return
    table, record_id, stored, form_key, seen = picked
    names = ("status", *operations.STATUS_DATES[table])
    fields = [f for f in operations.form_fields(db, table) if f.name in names]
    st.caption(f"Now: **{stored['status'].replace('_', ' ')}**.")
    entered, slots = record_form(form_key, fields, stored, submit="Change status")
    if entered is not None:
        dates = {name: entered[name] for name in operations.STATUS_DATES[table]}
        change = operations.change_status(
            db, table, record_id, entered["status"], who=who, dates=dates, seen_change=seen
        )
        report(change, form_key, slots, f"Changed the status of {STATUS_TABLES[table]}")


def link_shipment() -> None:
    st.caption(
        "A shipment answers a request for the same material and country; a flight that carried it "
        "makes it an air shipment. A request's fulfilment follows from its delivered shipments."
    )
    shipment_id = pick_record("shipments", "link_record")
    if not shipment_id:
        return
    stored, form_key, seen = open_record("shipments", shipment_id, "link")
    fields = [f for f in operations.form_fields(db, "shipments") if f.name in ("request_id", "flight_id")]
    entered, slots = record_form(form_key, fields, stored, submit="Save links")
    if entered is not None:
        change = operations.link_shipment(
            db,
            shipment_id,
            request_id=entered["request_id"],
            flight_id=entered["flight_id"],
            who=who,
            seen_change=seen,
        )
        report(change, form_key, slots, "Saved the links of shipment")


def edit_record() -> None:
    picked = picked_record(ADD_TABLES, "edit")
    if picked is None:
        return
    table, record_id, stored, form_key, seen = picked
    id_column = operations.key_column(db, table)
    entered, slots = record_form(
        form_key, operations.form_fields(db, table), stored, submit="Save changes", locked=(id_column,)
    )
    if entered is not None:
        entered.pop(id_column)
        change = operations.update_record(db, table, record_id, entered, who=who, seen_change=seen)
        report(change, form_key, slots, f"Saved {ADD_TABLES[table]}")


TABS = {
    **{f"New {noun}": partial(new_record, table) for table, noun in ADD_TABLES.items()},
    "Change status": change_status,
    "Link shipment": link_shipment,
    "Edit": edit_record,
}
# Only the open tab's form is drawn (a tab change reruns the page): drawing
# all seven forms on every run cost most of the page's time.
for tab, draw in zip(st.tabs(list(TABS), key="record_tab", on_change="rerun"), TABS.values(), strict=True):
    if tab.open:
        with tab:
            draw()
