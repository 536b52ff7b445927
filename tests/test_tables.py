"""How tables show their rows: shares, "not stated", pinned IDs and number formats."""

import pandas as pd

from reliefhub.ui import tables


def test_a_table_says_not_stated_and_shows_what_was_delivered_of_what_was_asked():
    frame = pd.DataFrame(
        {
            "request_id": ["req-1", "req-2", "req-3"],
            "requested_quantity": [1_500_000.0, None, 10.0],
            "delivered_quantity": [750_000.0, 5.0, 20.0],
            "addressed_to": ["NATO", None, "EU"],
            "shipment_id": [None, "shp-1", None],
            "source_urls": ["https://a ; https://b", "https://c", "https://d"],
        }
    )
    shown = tables.table_shown(frame)
    assert list(shown.columns) == [
        "source",
        "request_id",
        "requested_quantity",
        "delivered_quantity",
        "delivered_share",
        "addressed_to",
        "shipment_id",
        "source_urls",
    ]
    assert shown["delivered_share"].tolist()[::2] == [0.5, 1.0]  # more than asked counts as all
    assert pd.isna(shown["delivered_share"].iat[1])  # nothing to measure against
    assert shown["addressed_to"].tolist() == ["NATO", "not stated", "EU"]
    assert shown["shipment_id"].isna().tolist() == [True, False, True]  # no link, not unstated
    assert shown["source"].tolist() == ["https://a", "https://c", "https://d"]


def test_columns_read_as_what_they_hold():
    frame = tables.table_shown(
        pd.DataFrame({"flight_id": ["f"], "patients": [1200], "delivered_share": [0.5]})
    )
    config = {c: tables.column_config(c, frame[c]) for c in frame.columns}
    assert config["flight_id"]["pinned"] is True
    assert config["patients"]["type_config"]["format"] == "localized"
    assert config["patients"]["label"] == "Patients"
    assert config["delivered_share"]["type_config"]["type"] == "progress"


def test_the_audit_shows_only_the_fields_a_change_touched():
    before = '{"request_id": "req-1", "status": "open", "closed_on": null, "quantity": 10}'
    after = '{"request_id": "req-1", "status": "fulfilled", "closed_on": "2020-04-22", "quantity": 10}'
    assert tables.changed_fields(before, after) == (
        "status: open; closed_on: not stated",
        "status: fulfilled; closed_on: 2020-04-22",
    )
    assert tables.changed_fields(None, '{"flight_id": "f-1", "patients": null}') == (
        "new record",
        "flight_id: f-1; patients: not stated",
    )
    assert tables.readable("changed_by") == "Changed by"
