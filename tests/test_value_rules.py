"""Issue 13, findings 1, 4, 5, 6 and 9: every stored value within its rule,
refused by line and column in words, and echoed as it was written."""

import codecs

import pytest

from reliefhub import DATA_DIR, imports, operations, wall
from reliefhub.validation import Problem
from tests.test_imports import shipment_rows, snapshot, write
from tests.test_operations import BASE, WHO

# (table, fields changed from a good record, column, reason): each refused by
# the form and by an import alike.
DATES = "must be between 1990-01-01 and 2100-12-31"
EDGE_VALUES = [
    # 1: far-off dates, which once took every page down
    ("shipments", {"dispatched_on": "9999-12-30", "delivered_on": "9999-12-31"}, "delivered_on",
     DATES),
    ("shipments", {"dispatched_on": "0001-01-01"}, "dispatched_on", DATES),
    ("requests", {"requested_on": "10000-01-01"}, "requested_on", DATES),
    ("flights", {"flight_date": "1989-12-31"}, "flight_date", DATES),
    # 4: numbers that are not finite, or absurd
    ("requests", {"quantity": "inf"}, "quantity", "must be between 0 and 1,000,000,000,000"),
    ("shipments", {"quantity": "NaN"}, "quantity", "must be between 0 and 1,000,000,000,000"),
    ("shipments", {"quantity": "1e308"}, "quantity", "must be between 0 and 1,000,000,000,000"),
    ("flights", {"payload_tonnes": "-inf"}, "payload_tonnes", "must be between 0 and 1,000"),
    ("flights", {"patients": "99999999"}, "patients", "must be between 0 and 10,000"),
    # 5: links that are not web links
    ("requests", {"source_urls": "javascript:alert(1)"}, "source_urls",
     "must be http:// or https:// links, several separated by ' ; '"),
    ("flights", {"source_urls": "https://example.org/a ; data:text/html,x"}, "source_urls",
     "must be http:// or https:// links, several separated by ' ; '"),
    # 6: invisible characters in IDs, names and text
    ("requests", {"request_id": "req\u200b-x"}, "request_id",
     "must be printable characters only: no spaces, control or invisible characters"),
    ("flights", {"flight_id": "flt-\u202egnp"}, "flight_id",
     "must be printable characters only: no spaces, control or invisible characters"),
    ("shipments", {"provider": "Czech\x00Republic"}, "provider",
     "must not hold control characters, line breaks or text-direction overrides"),
    ("flights", {"operator": "Air \u202eecroF"}, "operator",
     "must not hold control characters, line breaks or text-direction overrides"),
    ("shipments", {"description": "bell\x07"}, "description",
     "must not hold control characters (tabs and line breaks are fine)"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "changes", "column", "reason"), EDGE_VALUES)
def test_a_form_refuses_each_value_outside_its_rule(writable_db, table, changes, column, reason):
    before = snapshot(writable_db)
    change = operations.add_record(writable_db, table, BASE[table] | changes, who=WHO)
    assert reason in [p.problem for p in change.problems if p.column == column]
    assert snapshot(writable_db) == before


@pytest.mark.parametrize(("table", "changes", "column", "reason"), EDGE_VALUES)
def test_an_import_refuses_each_value_outside_its_rule_echoing_it_as_written(
    writable_db, tmp_path, table, changes, column, reason
):
    before = snapshot(writable_db)
    path = write(tmp_path / "partner.csv", [BASE[table] | changes])
    report = imports.import_file(writable_db, path, table, who=WHO)
    shown = changes.get(column, "")
    assert Problem("partner.csv", 2, column, shown, reason) in report.problems
    assert snapshot(writable_db) == before


def test_free_text_keeps_its_tabs_and_line_breaks(writable_db):
    values = BASE["shipments"] | {"description": "Two lines:\n\tmasks"}
    assert operations.add_record(writable_db, "shipments", values, who=WHO).ok


def test_a_byte_order_mark_opening_a_line_is_no_part_of_the_id(writable_db, tmp_path):
    """Two files pasted together leave the second one's BOM at the start of a line."""
    rows = shipment_rows(2, prefix="bom")
    path = write(tmp_path / "pasted.csv", rows)
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = codecs.BOM_UTF8 + lines[2]
    path.write_bytes(b"\r\n".join(lines))
    report = imports.import_file(writable_db, path, "shipments", who=WHO)
    assert report.ok, report.problems
    stored = writable_db.connection.execute(
        "SELECT shipment_id FROM shipments WHERE shipment_id LIKE '%bom-%' ORDER BY 1"
    ).fetchall()
    assert stored == [("bom-0000",), ("bom-0001",)]


def test_a_negative_number_is_echoed_as_written(writable_db, tmp_path):
    path = write(tmp_path / "partner.csv", [BASE["requests"] | {"quantity": "-1"}])
    report = imports.import_file(writable_db, path, "requests", who=WHO)
    assert [(p.column, p.value) for p in report.problems] == [("quantity", "-1")]


# ---------------------------------------------------------------- finding 9: clear reports

SHIPMENTS_TEXT = (DATA_DIR / "examples" / "shipments.csv").read_text()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (SHIPMENTS_TEXT.encode("utf-16-le"), "UTF-16 (little-endian) without a byte-order mark"),
        (SHIPMENTS_TEXT.encode("utf-16-be"), "UTF-16 (big-endian) without a byte-order mark"),
        (codecs.BOM_UTF32_LE + SHIPMENTS_TEXT.encode("utf-32-le"), "UTF-32 (little-endian)"),
        (codecs.BOM_UTF32_BE + SHIPMENTS_TEXT.encode("utf-32-be"), "UTF-32 (big-endian)"),
    ],
)
def test_a_wide_encoding_is_named_in_one_problem(writable_db, tmp_path, data, named):
    path = tmp_path / "wide.csv"
    path.write_bytes(data)
    report = imports.import_file(writable_db, path, "shipments", who=WHO)
    assert [p.problem for p in report.problems] == [
        f"the file is {named}; save it as CSV in UTF-8 or Windows-1252"
    ]


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (
            lambda line: line + ',extra,"unclosed',
            "line has a quote that is not closed, or text after a closing quote",
        ),
        (lambda line: line[:40], "line has fewer fields than the header's 18"),
        (
            lambda line: line + ",a,b,c",
            "line has more fields than the header's 18 (check the separator and the quotes)",
        ),
    ],
)
def test_one_malformed_line_is_one_problem(writable_db, tmp_path, broken, reason):
    lines = SHIPMENTS_TEXT.splitlines()
    lines[1] = broken(lines[1])
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n")
    report = imports.import_file(writable_db, path, "shipments", who=WHO)
    assert [(p.line, p.problem) for p in report.problems] == [(2, reason)]


def test_a_banner_loses_its_direction_overrides():
    settings, _ = wall.settings_from({"banner": ["\u202eDESSALCNU OTAN\u202c"]})
    assert settings.banner == "DESSALCNU OTAN"
