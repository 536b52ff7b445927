"""Confidence and precision as codes, the withdrawn status, and the words that show them."""

from datetime import date

import pandas as pd
import pytest

from reliefhub import imports, operations
from reliefhub.confidence import closed_table, closure_summary, closures_html, stated_figure
from tests.conftest import no_filters
from tests.test_imports import write
from tests.test_operations import BASE, WHO


@pytest.mark.parametrize(
    ("value", "precision", "unit", "shown"),
    [
        (73.0, "approximate", "tonnes", "about 73 t"),
        (100000.0, "at_least", "pieces", "at least 100,000 pieces"),
        (1.44, "exact", "tonnes", "1.44 t"),
        (50.0, None, "units", "50 units"),
        (float("nan"), "unknown", "pieces", "not stated"),
    ],
)
def test_a_figure_reads_as_its_source_stated_it(value, precision, unit, shown):
    assert stated_figure(value, precision, unit) == shown


@pytest.mark.parametrize(
    ("requested", "delivered", "unstated", "words"),
    [
        (500.0, 50.0, 0, "withdrawn 22 Apr 2020 with 10 % delivered (50 of 500 units)"),
        (500.0, 49.0, 0, "withdrawn 22 Apr 2020 with 9 % delivered (49 of 500 units)"),
        (500.0, 1.0, 0, "withdrawn 22 Apr 2020 with under 1 % delivered (1 of 500 units)"),
        (500.0, 0.0, 0, "withdrawn 22 Apr 2020 with nothing recorded as delivered (0 of 500 units)"),
        (
            500.0,
            0.0,
            2,
            "withdrawn 22 Apr 2020; how much of 500 units arrived is not known "
            "(2 deliveries of unstated quantity)",
        ),
        (
            500.0,
            50.0,
            1,
            "withdrawn 22 Apr 2020 with at least 10 % delivered "
            "(50 of 500 units, plus 1 delivery of unstated quantity)",
        ),
        (
            float("nan"),
            0.0,
            0,
            "withdrawn 22 Apr 2020; quantity asked for not stated; no stated quantity delivered",
        ),
    ],
)
def test_a_closed_request_says_how_much_of_it_arrived(requested, delivered, unstated, words):
    # The share is rounded down: 49 of 500 is 9 %, never a rounded-up 10 %.
    assert closure_summary("withdrawn", date(2020, 4, 22), requested, delivered, unstated, "units") == words


def test_a_partner_file_without_confidence_columns_imports_and_claims_nothing(writable_db, tmp_path):
    report = imports.import_file(
        writable_db, write(tmp_path / "r.csv", [BASE["requests"]]), "requests", who=WHO
    )
    assert report.ok, report.problems
    stored = writable_db.connection.execute(
        "SELECT confidence, quantity_precision FROM requests WHERE request_id = 'req-new'"
    ).fetchone()
    assert stored == (None, None)


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"confidence": "probably"}, "confidence", "must be one of: stated, derived, inferred"),
        (
            {"quantity_precision": "roughly"},
            "quantity_precision",
            "must be one of: exact, approximate, at_least, unknown",
        ),
        (
            {"quantity_precision": "unknown"},
            "quantity, quantity_precision",
            "quantity_precision is 'unknown' when, and only when, quantity is empty",
        ),
    ],
)
def test_a_bad_confidence_code_is_refused_by_line_and_column(writable_db, tmp_path, changes, column, reason):
    row = BASE["requests"] | changes
    report = imports.import_file(writable_db, write(tmp_path / "r.csv", [row]), "requests", who=WHO)
    assert [(p.line, p.column, p.problem) for p in report.problems] == [(2, column, reason)]
    assert not report.written


def test_a_withdrawn_request_leaves_the_open_list_and_keeps_its_deliveries(writable_db):
    before = writable_db.query("closed_requests", no_filters(as_of=date(2020, 4, 30), limit=None))
    for table, record_id, status, dates in (
        ("shipments", "shp-vent-esp", "delivered", {"delivered_on": date(2020, 4, 3)}),
        ("requests", "req-esp-ventilators", "withdrawn", {"closed_on": date(2020, 4, 20)}),
    ):
        change = operations.change_status(writable_db, table, record_id, status, who=WHO, dates=dates)
        assert change.ok, change.problems
    open_then = writable_db.query("open_requests", no_filters(as_of=date(2020, 4, 30), limit=None, offset=0))
    closed = writable_db.query("closed_requests", no_filters(as_of=date(2020, 4, 30), limit=None))
    assert "req-esp-ventilators" not in set(open_then["request_id"])
    assert before.empty
    columns = [
        "request_id",
        "requested_quantity",
        "delivered_quantity",
        "unstated_deliveries",
        "status_as_of",
    ]
    assert closed[columns].values.tolist() == [["req-esp-ventilators", 500.0, 50.0, 0, "withdrawn"]]


def test_a_request_closed_on_a_date_not_stated_says_so_on_the_page_and_the_wall():
    # The 1M synthetic database has such requests: the Open requests page failed on them.
    closed = pd.DataFrame(
        {
            "requester_country": ["Italy", "Spain"],
            "material_name": ["Ventilators", "Masks"],
            "request_id": ["r1", "r2"],
            "status_as_of": ["closed", "withdrawn"],
            "closed_on": [pd.NaT, pd.Timestamp("2020-04-22")],
            "requested_quantity": [10.0, 500.0],
            "delivered_quantity": [0.0, 50.0],
            "unstated_deliveries": [0, 0],
            "unit": ["units", "units"],
        }
    )
    assert closed_table(closed)["outcome"].tolist() == [
        "closed on a date not stated with nothing recorded as delivered (0 of 10 units)",
        "withdrawn 22 Apr 2020 with 10 % delivered (50 of 500 units)",
    ]
    wall = closures_html(closed)
    assert "1 closed on a date not stated with needs unmet, 1 with nothing recorded as delivered" in wall
    assert "1 withdrawn 22 Apr with needs unmet" in wall
