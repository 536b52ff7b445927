"""Staff operations: every rule refuses a bad form and passes a good one, and every change is audited."""

import json
import re
import shutil
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, exports, operations
from reliefhub.db import shared_database
from reliefhub.validation import Problem
from tests.conftest import no_filters, sign_in_as, staff
from tests.conftest import on_tab as open_tab

WHO = staff("Ana Novak")
ANA, BO, CY = staff("Ana"), staff("Bo"), staff("Cy")

# A good new record of each kind on the fixture database, as a form sends it (text).
BASE = {
    "shipments": {
        "shipment_id": "shp-new",
        "recipient_iso3": "ITA",
        "provider": "Czech Republic",
        "provider_iso3": "CZE",
        "material_code": "respirators",
        "quantity": "500",
        "description": "Respirators by truck",
        "origin_place_id": "opocinek",
        "destination_place_id": "milan",
        "mode": "road",
        "dispatched_on": "2020-04-02",
        "delivered_on": "2020-04-03",
        "date_precision": "day",
        "status": "delivered",
        "request_id": "req-ita-respirators",
        "flight_id": None,
        "source_urls": "https://example.org/new",
        "source_note": "test",
    },
    "requests": {
        "request_id": "req-new",
        "requester_iso3": "ITA",
        "channel": "eadrcc",
        "addressed_to": "NATO EADRCC",
        "material_code": "ventilators",
        "quantity": "100",
        "description": "Ventilators for Lombardy",
        "requested_on": "2020-04-01",
        "date_precision": "day",
        "status": "open",
        "closed_on": None,
        "source_urls": "https://example.org/req",
        "source_note": "test",
    },
    "flights": {
        "flight_id": "flt-new",
        "origin_place_id": "pardubice-airport",
        "destination_place_id": "torrejon-air-base",
        "aircraft_type": "C-130 Hercules",
        "operator": "Spanish Air Force",
        "operator_kind": "air_force",
        "flight_date": "2020-04-02",
        "date_precision": "day",
        "status": "planned",
        "payload_tonnes": "12.5",
        "patients": None,
        "description": "Second C-130",
        "source_urls": "https://example.org/flt",
        "source_note": "test",
    },
    "places": {
        "place_id": "brno",
        "name": "Brno",
        "kind": "city",
        "iso3": "CZE",
        "latitude": "49.1951",
        "longitude": "16.6068",
        "icao": None,
        "iata": None,
        "coordinate_source": "test",
    },
}

# Each rule: (table, fields changed from the good record, column, reason).
# The same cases run through the import in test_imports.py.
RULES = [
    ("shipments", {"provider": None}, "provider", "is required"),
    ("shipments", {"recipient_iso3": "XXX", "request_id": None}, "recipient_iso3", "unknown country code"),
    ("shipments", {"provider_iso3": "ZZZ"}, "provider_iso3", "unknown country code"),
    (
        "shipments",
        {"material_code": "unobtainium", "request_id": None},
        "material_code",
        "unknown material code",
    ),
    ("shipments", {"origin_place_id": "atlantis"}, "origin_place_id", "unknown place"),
    ("shipments", {"quantity": "ten"}, "quantity", "is not a number"),
    ("shipments", {"quantity": "-5"}, "quantity", "must be between 0 and 1,000,000,000,000"),
    (
        "shipments",
        {"delivered_on": "2020-02-30", "status": "in_transit"},
        "delivered_on",
        "is not a date (YYYY-MM-DD)",
    ),
    (
        "shipments",
        {"delivered_on": "2020-04-01"},
        "delivered_on, dispatched_on",
        "delivered_on must not be before dispatched_on",
    ),
    (
        "shipments",
        {"dispatched_on": None, "delivered_on": None, "status": "planned"},
        "dispatched_on, delivered_on",
        "give dispatched_on or delivered_on (or both)",
    ),
    (
        "shipments",
        {"delivered_on": None},
        "status, delivered_on",
        "delivered_on is required when status is delivered",
    ),
    ("shipments", {"mode": "teleport"}, "mode", "must be one of: road, rail, sea, air"),
    ("shipments", {"status": "lost"}, "status", "must be one of: planned, in_transit, delivered, cancelled"),
    ("shipments", {"flight_id": "flt-c130"}, "mode", "a shipment carried by a flight must have mode 'air'"),
    ("shipments", {"flight_id": "flt-none", "mode": "air"}, "flight_id", "unknown flight"),
    ("shipments", {"request_id": "req-none"}, "request_id", "unknown request"),
    (
        "shipments",
        {"material_code": "ventilators"},
        "request_id",
        "answers a request for a different material",
    ),
    (
        "shipments",
        {"recipient_iso3": "ESP"},
        "request_id",
        "answers a request from another country than the recipient",
    ),
    ("requests", {"requester_iso3": None}, "requester_iso3", "is required"),
    ("requests", {"description": "   "}, "description", "is required"),
    ("requests", {"channel": "pigeon"}, "channel", "must be one of: eadrcc, eucpm, bilateral"),
    ("requests", {"quantity": "-1"}, "quantity", "must be between 0 and 1,000,000,000,000"),
    ("requests", {"requested_on": "01/04/2020"}, "requested_on", "is not a date (YYYY-MM-DD)"),
    (
        "requests",
        {"closed_on": "2020-04-10"},
        "closed_on, status",
        "closed_on is only given when status is one of: fulfilled, closed, withdrawn, cancelled",
    ),
    (
        "requests",
        {"status": "closed", "closed_on": "2020-03-01"},
        "closed_on, requested_on",
        "closed_on must not be before requested_on",
    ),
    (
        "flights",
        {"destination_place_id": "pardubice-airport"},
        "destination_place_id",
        "a flight must land somewhere other than where it took off",
    ),
    ("flights", {"patients": "2.5"}, "patients", "is not a whole number"),
    ("flights", {"payload_tonnes": "-3"}, "payload_tonnes", "must be between 0 and 1,000"),
    (
        "flights",
        {"operator_kind": "pirates"},
        "operator_kind",
        "must be one of: air_force, salis, sac, government, commercial, ngo, other",
    ),
    ("flights", {"status": "crashed"}, "status", "must be one of: planned, airborne, landed, cancelled"),
    ("places", {"latitude": "149"}, "latitude", "must be between -90 and 90"),
    ("places", {"longitude": "east"}, "longitude", "is not a number"),
    ("places", {"place_id": "Brno City"}, "place_id", "has the wrong format"),
    ("places", {"icao": "LKT"}, "icao", "has the wrong format"),
    ("places", {"iso3": "CZ"}, "iso3", "unknown country code"),
    (
        "places",
        {"kind": "castle"},
        "kind",
        "must be one of: airport, airbase, city, region, hospital, depot, country",
    ),
]

# Status changes: (table, record, status before, status after, dates, refused with).
TRANSITIONS = [
    ("requests", "req-esp-ventilators", "open", "partially_fulfilled", {}, None),
    ("requests", "req-esp-ventilators", "open", "cancelled", {"closed_on": date(2020, 4, 2)}, None),
    (
        "requests",
        "req-esp-ventilators",
        "cancelled",
        "fulfilled",
        {},
        "a cancelled request cannot change status",
    ),
    (
        "requests",
        "req-esp-ventilators",
        "partially_fulfilled",
        "open",
        {},
        "a partially fulfilled request can only become fulfilled or closed or withdrawn or cancelled",
    ),
    (
        "requests",
        "req-esp-suits",
        "fulfilled",
        "open",
        {"closed_on": None},
        "a fulfilled request cannot change status",
    ),
    ("shipments", "shp-vent-esp", "in_transit", "delivered", {"delivered_on": date(2020, 4, 3)}, None),
    (
        "shipments",
        "shp-vent-esp",
        "in_transit",
        "planned",
        {},
        "an in transit shipment can only become delivered or cancelled",
    ),
    (
        "shipments",
        "shp-suits-ita",
        "delivered",
        "in_transit",
        {},
        "a delivered shipment cannot change status",
    ),
    ("flights", "flt-c130", "landed", "airborne", {}, "a landed flight cannot change status"),
    ("flights", "flt-new", "planned", "airborne", {}, None),
    ("flights", "flt-new", "airborne", "planned", {}, "an airborne flight can only become landed"),
]


def count(db, table: str) -> int:
    return db.connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608


def audit_rows(db) -> list[dict]:
    frame = db.connection.execute(
        "SELECT changed_by, via, source_file, action, table_name, record_id, before_row, after_row "
        "FROM audit_log ORDER BY change_id"
    ).df()
    records = frame.to_dict("records")
    for record in records:
        for side in ("before_row", "after_row"):
            record[side] = None if pd.isna(record[side]) else json.loads(record[side])
        record["source_file"] = None if pd.isna(record["source_file"]) else record["source_file"]
    return records


def data_changed_at(db) -> str:
    return db.connection.execute("SELECT value FROM meta WHERE key = 'data_changed_at'").fetchone()[0]


def set_status(db, table: str, record_id: str, status: str) -> None:
    """Put a record in a status by whatever path is allowed from where it is."""
    dates = {"closed_on": date(2020, 4, 2)} if status in ("cancelled", "closed", "fulfilled") else {}
    assert operations.change_status(db, table, record_id, status, who=staff("setup"), dates=dates).ok


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize("table", BASE)
def test_a_good_record_of_each_kind_is_added_with_its_id(writable_db, table):
    before = count(writable_db, table)
    change = operations.add_record(writable_db, table, BASE[table], who=WHO)
    assert (change.ok, change.action, change.record_id) == (True, "add", BASE[table][f"{table[:-1]}_id"])
    assert count(writable_db, table) == before + 1


@pytest.mark.parametrize(("table", "changes", "column", "reason"), RULES)
def test_each_rule_refuses_a_bad_form_and_writes_nothing(writable_db, table, changes, column, reason):
    before = (count(writable_db, table), data_changed_at(writable_db))
    change = operations.add_record(writable_db, table, BASE[table] | changes, who=WHO)
    assert [(p.column, p.problem) for p in change.problems] == [(column, reason)]
    assert change.action is None
    assert (count(writable_db, table), data_changed_at(writable_db)) == before
    assert count(writable_db, "audit_log") == 0


def test_problems_are_in_words_under_each_field_they_concern(writable_db):
    bad = BASE["shipments"] | {
        "quantity": "-5",
        "delivered_on": date(2020, 4, 1),
        "origin_place_id": "atlantis",
    }
    change = operations.add_record(writable_db, "shipments", bad, who=WHO)
    assert change.problems == [
        Problem("form", 1, "delivered_on, dispatched_on", "delivered_on=2020-04-01, dispatched_on=2020-04-02",
                "delivered_on must not be before dispatched_on"),
        Problem("form", 1, "origin_place_id", "atlantis", "unknown place"),
        Problem("form", 1, "quantity", "-5", "must be between 0 and 1,000,000,000,000"),
    ]  # fmt: skip
    assert change.by_field() == {
        "delivered_on": ["Delivered on must not be before dispatched on"],
        "dispatched_on": ["Delivered on must not be before dispatched on"],
        "origin_place_id": ["Unknown place"],
        "quantity": ["Must be between 0 and 1,000,000,000,000"],
    }


def test_a_typed_name_is_not_an_identity(writable_db):
    with pytest.raises(TypeError, match=r"auth\.Identity"):
        operations.add_record(writable_db, "places", BASE["places"], who="Ana Novak")
    assert count(writable_db, "places") == 8


def test_adding_an_existing_id_is_refused(writable_db):
    change = operations.add_record(
        writable_db, "shipments", BASE["shipments"] | {"shipment_id": "shp-pat-1"}, who=WHO
    )
    assert [(p.column, p.problem) for p in change.problems] == [
        ("shipment_id", "a shipment with this ID already exists")
    ]


def test_an_empty_id_gets_a_readable_unique_one(writable_db):
    values = BASE["shipments"] | {"shipment_id": None}
    first = operations.add_record(writable_db, "shipments", values, who=WHO)
    second = operations.add_record(writable_db, "shipments", values | {"shipment_id": ""}, who=WHO)
    month = operations.add_record(
        writable_db, "requests", BASE["requests"] | {"request_id": " ", "date_precision": "month"}, who=WHO
    )
    place = operations.add_record(
        writable_db, "places", BASE["places"] | {"place_id": None, "name": "Ústí nad Labem"}, who=WHO
    )
    assert [first.record_id, second.record_id, month.record_id, place.record_id] == [
        "shp-2020-04-03-ita-cze-respirators",
        "shp-2020-04-03-ita-cze-respirators-2",
        "req-ita-2020-04-ventilators",
        "usti-nad-labem",
    ]


def test_updating_a_missing_record_or_its_id_is_refused(writable_db):
    missing = operations.update_record(writable_db, "flights", "flt-none", {"status": "landed"}, who=WHO)
    assert [(p.column, p.problem) for p in missing.problems] == [
        ("flight_id", "there is no flight with this ID")
    ]
    renamed = operations.update_record(writable_db, "flights", "flt-c130", {"flight_id": "flt-x"}, who=WHO)
    assert [(p.column, p.problem) for p in renamed.problems] == [("flight_id", "an ID cannot be changed")]


def test_an_update_that_changes_nothing_writes_nothing(writable_db):
    before = data_changed_at(writable_db)
    change = operations.update_record(writable_db, "flights", "flt-c130", {"status": "landed"}, who=WHO)
    assert (change.ok, change.action) == (True, None)
    assert count(writable_db, "audit_log") == 0
    assert data_changed_at(writable_db) == before


@pytest.mark.parametrize(("table", "record_id", "before", "after", "dates", "refused"), TRANSITIONS)
def test_status_changes_that_make_sense(writable_db, table, record_id, before, after, dates, refused):
    if record_id == "flt-new":
        assert operations.add_record(writable_db, "flights", BASE["flights"], who=staff("setup")).ok
    if operations.current_row(writable_db, table, record_id)["status"] != before:
        set_status(writable_db, table, record_id, before)
    change = operations.change_status(writable_db, table, record_id, after, who=WHO, dates=dates)
    if refused:
        assert [(p.column, p.value, p.problem) for p in change.problems] == [("status", after, refused)]
        assert operations.current_row(writable_db, table, record_id)["status"] == before
    else:
        assert (change.ok, change.action) == (True, "status")
        assert operations.current_row(writable_db, table, record_id)["status"] == after


def test_linking_a_shipment_to_a_request_makes_the_request_partially_fulfilled(writable_db):
    as_of = no_filters(as_of=date(2020, 4, 30), limit=None, offset=0)
    assert "req-ita-respirators" not in set(
        writable_db.query("open_requests", as_of).query("status_as_of == 'partially_fulfilled'")["request_id"]
    )
    assert operations.add_record(
        writable_db, "shipments", BASE["shipments"] | {"request_id": None}, who=WHO
    ).ok
    wrong = operations.link_shipment(
        writable_db, "shp-new", request_id="req-esp-suits", flight_id="flt-c130", who=WHO
    )
    assert [(p.column, p.problem) for p in wrong.problems] == [
        ("mode", "a shipment carried by a flight must have mode 'air'"),
        ("request_id", "answers a request for a different material"),
        ("request_id", "answers a request from another country than the recipient"),
    ]
    linked = operations.link_shipment(
        writable_db, "shp-new", request_id="req-ita-respirators", flight_id=None, who=WHO
    )
    assert (linked.ok, linked.action) == (True, "update")
    open_now = writable_db.query("open_requests", as_of).set_index("request_id")
    assert open_now.loc["req-ita-respirators", ["delivered_quantity", "status_as_of"]].tolist() == [
        500.0,
        "partially_fulfilled",
    ]
    unlinked = operations.link_shipment(writable_db, "shp-new", request_id=None, flight_id=None, who=WHO)
    assert unlinked.ok and operations.current_row(writable_db, "shipments", "shp-new")["request_id"] is None


def test_a_new_place_can_be_used_at_once(writable_db):
    assert operations.add_record(writable_db, "places", BASE["places"], who=WHO).ok
    assert ("brno", "Brno, CZE (city)") in operations.choices(writable_db, "places")
    shipment = BASE["shipments"] | {
        "destination_place_id": "brno",
        "recipient_iso3": "CZE",
        "request_id": None,
    }
    assert operations.add_record(writable_db, "shipments", shipment, who=WHO).ok


def test_form_fields_come_from_the_schema(writable_db):
    fields = {f.name: f for f in operations.form_fields(writable_db, "shipments")}
    assert list(fields)[:3] == ["shipment_id", "recipient_iso3", "provider"]
    assert fields["shipment_id"].label == "Shipment ID"
    assert (
        fields["recipient_iso3"].kind,
        fields["recipient_iso3"].references,
        fields["recipient_iso3"].required,
    ) == (
        "reference",
        "countries",
        True,
    )
    assert (fields["mode"].kind, fields["mode"].choices, fields["mode"].required) == (
        "choice",
        ("road", "rail", "sea", "air"),
        False,
    )
    assert [fields[c].kind for c in ("quantity", "delivered_on", "description", "provider")] == [
        "number",
        "date",
        "long_text",
        "text",
    ]
    assert operations.form_fields(writable_db, "flights")[10].kind == "integer"  # patients
    with pytest.raises(ValueError, match="not a table staff can change"):
        operations.form_fields(writable_db, "countries")


def every(table: str) -> dict:
    return {"table": table, "search": None, "limit": None}


def test_record_choices_query(fixture_db):
    assert fixture_db.query("record_choices", every("requests")).values.tolist() == [
        ["req-esp-suits", "req-esp-suits: ESP, protective_clothing, fulfilled"],
        ["req-esp-ventilators", "req-esp-ventilators: ESP, ventilators, open"],
        ["req-fra-patients", "req-fra-patients: FRA, patients, open"],
        ["req-ita-respirators", "req-ita-respirators: ITA, respirators, open"],
    ]
    places = fixture_db.query("record_choices", {"table": "places", "search": None, "limit": 2})
    assert places.values.tolist() == [
        ["bergamo-airport", "Bergamo Orio al Serio Airport, ITA (airport, LIME, BGY)"],
        ["cologne-bonn-airport", "Cologne Bonn Airport, DEU (airport, EDDK, CGN)"],
    ]
    assert fixture_db.query("record_choices", every("countries"))["label"].tolist() == [
        "Czechia (CZE)",
        "France (FRA)",
        "Germany (DEU)",
        "Italy (ITA)",
        "Spain (ESP)",
    ]
    assert fixture_db.query("record_choices", every("flights"))["value"].tolist()[:2] == [
        "flt-a310",
        "flt-c130",
    ]
    assert len(fixture_db.query("record_choices", every("shipments"))) == 8
    assert fixture_db.query("record_choices", every("materials"))["label"].tolist()[0] == "Patients [persons]"
    assert fixture_db.query("record_choices", every("' OR 1=1 --")).empty
    assert operations.choices(fixture_db, "shipments", search="PAT-") == [
        ("shp-pat-1", "shp-pat-1: patients to FRA, delivered"),
        ("shp-pat-2", "shp-pat-2: patients to FRA, delivered"),
        ("shp-pat-3", "shp-pat-3: patients to FRA, delivered"),
        ("shp-pat-ita", "shp-pat-ita: patients to ITA, delivered"),
    ]
    assert operations.choices(fixture_db, "places", search="air", limit=1) == [
        ("bergamo-airport", "Bergamo Orio al Serio Airport, ITA (airport, LIME, BGY)")
    ]


# ---------------------------------------------------------------- the audit trail


def test_audit_records_before_and_after_of_an_add_an_update_and_a_status_change(writable_db):
    assert operations.add_record(writable_db, "requests", BASE["requests"], who=ANA).ok
    assert operations.update_record(writable_db, "requests", "req-new", {"quantity": "120"}, who=BO).ok
    assert operations.change_status(writable_db, "shipments", "shp-vent-esp", "delivered", who=CY,
                                    dates={"delivered_on": date(2020, 4, 3)}).ok  # fmt: skip
    added = {
        "request_id": "req-new",
        "requester_iso3": "ITA",
        "channel": "eadrcc",
        "addressed_to": "NATO EADRCC",
        "material_code": "ventilators",
        "quantity": 100.0,
        "description": "Ventilators for Lombardy",
        "requested_on": "2020-04-01",
        "date_precision": "day",
        "status": "open",
        "closed_on": None,
        "source_urls": "https://example.org/req",
        "source_note": "test",
        "confidence": None,
        "quantity_precision": None,
    }
    shipment_before = {
        "shipment_id": "shp-vent-esp",
        "recipient_iso3": "ESP",
        "provider": "Germany",
        "provider_iso3": "DEU",
        "material_code": "ventilators",
        "quantity": 50.0,
        "description": "Ventilators (month only)",
        "origin_place_id": "cologne-bonn-airport",
        "destination_place_id": "torrejon-air-base",
        "mode": "air",
        "dispatched_on": "2020-04-01",
        "delivered_on": None,
        "date_precision": "month",
        "status": "in_transit",
        "request_id": "req-esp-ventilators",
        "flight_id": None,
        "source_urls": "https://example.org/vent",
        "source_note": "fixture",
        "confidence": None,
        "quantity_precision": None,
    }
    assert audit_rows(writable_db) == [
        {"changed_by": "Ana", "via": "form", "source_file": None, "action": "add", "table_name": "requests",
         "record_id": "req-new", "before_row": None, "after_row": added},
        {"changed_by": "Bo", "via": "form", "source_file": None, "action": "update", "table_name": "requests",
         "record_id": "req-new", "before_row": added, "after_row": added | {"quantity": 120.0}},
        {"changed_by": "Cy", "via": "form", "source_file": None, "action": "status",
         "table_name": "shipments", "record_id": "shp-vent-esp", "before_row": shipment_before,
         "after_row": shipment_before | {"status": "delivered", "delivered_on": "2020-04-03"}},
    ]  # fmt: skip


def test_audit_queries_list_filter_and_export_changes(writable_db):
    assert operations.add_record(writable_db, "requests", BASE["requests"], who=ANA).ok
    assert operations.update_record(writable_db, "requests", "req-new", {"quantity": "120"}, who=BO).ok
    assert operations.change_status(writable_db, "flights", "flt-ferry", "landed", who=BO).action is None
    assert operations.add_record(writable_db, "places", BASE["places"], who=BO).ok
    everything = {"tables": [], "changed_by": None, "record_id": None, "change_set": None, "limit": None}
    log = writable_db.query("audit_log", everything)
    assert log[
        ["changed_by", "action", "table_name", "record_id", "changed_fields", "matching_changes"]
    ].fillna("—").values.tolist() == [
        ["Bo", "add", "places", "brno", "—", 3],
        ["Bo", "update", "requests", "req-new", "quantity", 3],
        ["Ana", "add", "requests", "req-new", "—", 3],
    ]
    limited = writable_db.query("audit_log", everything | {"limit": 1})
    assert (len(limited), limited.at[0, "matching_changes"]) == (1, 3)
    assert writable_db.query("audit_log", everything | {"changed_by": "Ana"})["record_id"].tolist() == [
        "req-new"
    ]
    assert writable_db.query("audit_log", everything | {"tables": ["places"]})["record_id"].tolist() == [
        "brno"
    ]
    assert writable_db.query("audit_log", everything | {"record_id": "req-new"})["action"].tolist() == [
        "update",
        "add",
    ]
    one_set = log.at[1, "change_set"]
    assert writable_db.query("audit_log", everything | {"change_set": one_set})["action"].tolist() == [
        "update"
    ]
    sets = writable_db.query("audit_change_sets", {k: v for k, v in everything.items() if k != "change_set"})
    assert sets[
        ["changed_by", "via", "tables", "added", "updated", "status_changes", "record_id"]
    ].values.tolist() == [
        ["Bo", "form", "places", 1, 0, 0, "brno"],
        ["Bo", "form", "requests", 0, 1, 0, "req-new"],
        ["Ana", "form", "requests", 1, 0, 0, "req-new"],
    ]
    assert writable_db.query("audit_people", {"tables": []})["changed_by"].tolist() == ["Ana", "Bo"]
    assert writable_db.query("audit_people", {"tables": ["places"]})["changed_by"].tolist() == ["Bo"]

    csv = exports.to_csv_bytes(log.drop(columns=["matching_changes"])).decode("utf-8-sig")
    header, first, *_ = csv.split("\r\n")
    assert header == (
        "change_id,changed_at,changed_by,changed_by_id,via,source_file,action,table_name,record_id,changed_fields,"
        "before_row,after_row,change_set"
    )
    assert re.match(r"\d+,20\d\d-\d\d-\d\dT", first) and ",Bo,test:Bo,form,,add,places,brno,,," in first
    assert '"{""place_id"":""brno"",""name"":""Brno""' in first


# ---------------------------------------------------------------- the pages


@pytest.fixture
def page_db(fixture_db_path, tmp_path, monkeypatch):
    """The app on its own copy of the fixture database (AppTest runs in this
    process, and a DuckDB file is open in one configuration per process); the
    test writes through the same Database object the pages use, as staff do."""
    path = tmp_path / "app.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    return shared_database()


def open_page(page: str, role: str | None = "staff") -> AppTest:
    """The page as a browser signed in with a local account of `role` sees it (None: not signed in)."""
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    if role:
        sign_in_as(app, role, name=WHO.name)
    app.run()
    app.switch_page(page)
    return app.run()


def on_tab(app: AppTest, label: str) -> AppTest:
    """The Record page with the tab of this label open."""
    return open_tab(app, "record_tab", label)


def next_to(app: AppTest, key: str):
    """The element drawn right under the widget with this key: where its problems go."""
    for block in app.main.get("flex_container"):
        for column in block.children.values():
            children = list(column.children.values())
            for i, child in enumerate(children):
                if getattr(child, "key", None) == key:
                    return children[i + 1]
    raise KeyError(key)


def test_record_page_shows_each_problem_under_its_field_then_saves(page_db):
    app = open_page("app_pages/record.py")
    assert not app.exception
    assert [t.label for t in app.tabs] == [
        "New request", "New shipment", "New flight", "New place", "Change status", "Link shipment", "Edit",
    ]  # fmt: skip
    assert app.text_input(key="add_requests_0_request_id")  # the first tab is open
    assert not [w for w in app.text_input if w.key.startswith("add_shipments")]  # the others are not drawn
    on_tab(app, "New shipment")
    form = "add_shipments_0_"
    app.selectbox(key=form + "recipient_iso3").select("ITA")
    app.text_input(key=form + "provider").input("Czech Republic")
    app.selectbox(key=form + "material_code").select("respirators")
    app.text_input(key=form + "quantity").input("-5")
    app.text_area(key=form + "description").input("Respirators by truck")
    app.selectbox(key=form + "origin_place_id").select("opocinek")
    app.selectbox(key=form + "destination_place_id").select("milan")
    app.date_input(key=form + "dispatched_on").set_value(date(2020, 4, 3))
    app.date_input(key=form + "delivered_on").set_value(date(2020, 4, 2))
    app.selectbox(key=form + "status").select("delivered")
    app.text_area(key=form + "source_urls").input("https://example.org/x")
    app.text_area(key=form + "source_note").input("test")
    app.button(key="FormSubmitter:add_shipments_0-Add shipment").click().run()
    assert not app.exception
    assert next_to(app, form + "quantity").value == "Must be between 0 and 1,000,000,000,000"
    assert next_to(app, form + "delivered_on").value == "Delivered on must not be before dispatched on"
    assert next_to(app, form + "dispatched_on").value == "Delivered on must not be before dispatched on"
    assert count(page_db, "shipments") == 8

    app.text_input(key=form + "quantity").input("500")
    app.date_input(key=form + "delivered_on").set_value(date(2020, 4, 4))
    app.button(key="FormSubmitter:add_shipments_0-Add shipment").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "Added shipment `shp-2020-04-04-ita-czech-republic-respirators`. It is on the Audit page."
    ]
    assert app.text_input(key="add_shipments_1_quantity").value == ""  # a fresh form
    assert (
        operations.current_row(page_db, "shipments", "shp-2020-04-04-ita-czech-republic-respirators")[
            "quantity"
        ]
        == 500.0
    )
    assert [(r["changed_by"], r["action"]) for r in audit_rows(page_db)] == [(WHO.name, "add")]


def test_record_page_is_refused_to_a_viewer(page_db):
    app = open_page("app_pages/record.py", role="viewer")
    assert [w.value for w in app.warning] == [
        "You are signed in as Ana Novak (viewer): this page needs a staff or higher account."
    ]
    assert not app.tabs and not app.text_input


def test_record_page_changes_a_status(page_db):
    app = on_tab(open_page("app_pages/record.py"), "Change status")
    app.radio(key="status_table").set_value("shipments").run()
    app.selectbox(key="status_record").select("shp-vent-esp").run()
    form = "status_shipments_shp-vent-esp_0_"
    assert app.selectbox(key=form + "status").value == "in_transit"
    app.selectbox(key=form + "status").select("delivered")
    app.button(key="FormSubmitter:status_shipments_shp-vent-esp_0-Change status").click().run()
    assert next_to(app, form + "delivered_on").value == "Delivered on is required when status is delivered"
    app.date_input(key=form + "delivered_on").set_value(date(2020, 4, 3))
    app.button(key="FormSubmitter:status_shipments_shp-vent-esp_0-Change status").click().run()
    assert [s.value for s in app.success] == [
        "Changed the status of shipment `shp-vent-esp`. It is on the Audit page."
    ]
    row = operations.current_row(page_db, "shipments", "shp-vent-esp")
    assert (row["status"], row["delivered_on"]) == ("delivered", date(2020, 4, 3))


def test_record_page_links_and_edits(page_db):
    app = on_tab(open_page("app_pages/record.py"), "Link shipment")
    app.selectbox(key="link_record").select("shp-resp-esp").run()
    app.selectbox(key="link_shp-resp-esp_0_flight_id").select("flt-a310")
    app.button(key="FormSubmitter:link_shp-resp-esp_0-Save links").click().run()
    assert [s.value for s in app.success] == [
        "Saved the links of shipment `shp-resp-esp`. It is on the Audit page."
    ]
    assert operations.current_row(page_db, "shipments", "shp-resp-esp")["flight_id"] == "flt-a310"

    on_tab(app, "Edit")
    app.radio(key="edit_table").set_value("places").run()
    app.selectbox(key="edit_record").select("metz").run()
    form = "edit_places_metz_0_"
    assert app.text_input(key=form + "place_id").disabled
    assert app.text_input(key=form + "latitude").value == "49.1193"
    app.text_input(key=form + "name").input("Metz (Moselle)")
    app.button(key="FormSubmitter:edit_places_metz_0-Save changes").click().run()
    assert operations.current_row(page_db, "places", "metz")["name"] == "Metz (Moselle)"
    assert [(r["action"], r["record_id"]) for r in audit_rows(page_db)] == [
        ("update", "shp-resp-esp"),
        ("update", "metz"),
    ]


def test_audit_page_lists_changes_and_offers_them_all_as_csv(page_db):
    empty = open_page("app_pages/audit.py")
    assert [i.value for i in empty.info] == []
    assert "0 changes" in empty.markdown[-1].value
    for quantity in ("110", "120", "130"):
        assert operations.update_record(
            page_db, "requests", "req-esp-ventilators", {"quantity": quantity}, who=BO
        ).ok
    app = open_page("app_pages/audit.py")
    assert not app.exception
    assert app.markdown[-1].value == "**3 changes**"
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["Download 3 changes as CSV"]
    frames = [d.value for d in app.dataframe]
    assert frames[0]["updated"].tolist() == [1, 1, 1]
    assert frames[1]["changed_fields"].tolist() == ["quantity", "quantity", "quantity"]
    assert "matching_changes" not in frames[1].columns
    narrowed = open_page("app_pages/audit.py")
    narrowed.selectbox(key="audit_who").select("Bo").run()
    narrowed.text_input(key="audit_record").input("req-none").run()
    assert narrowed.markdown[-1].value == "**0 changes**"


def test_audit_page_on_a_database_without_an_audit_trail(page_db):
    page_db.connection.execute("DROP TABLE audit_log")
    app = open_page("app_pages/audit.py")
    assert [i.value for i in app.info] == ["No changes have been recorded in this database yet."]


def test_record_page_takes_an_id_where_there_are_too_many_to_list(page_db, tmp_path):
    from reliefhub import imports

    many = tmp_path / "many.csv"
    header = ",".join(BASE["requests"])
    lines = [
        ",".join(
            operations.as_text(v) or "" for v in (BASE["requests"] | {"request_id": f"req-{i:03d}"}).values()
        )
        for i in range(501)
    ]
    many.write_text("\n".join([header, *lines]) + "\n")
    assert imports.import_file(page_db, many, "requests", who=staff("setup")).new == 501
    app = on_tab(open_page("app_pages/record.py"), "New shipment")
    assert not app.exception
    field = app.text_input(key="add_shipments_0_request_id")
    assert field.label == "Answers request (optional): ID"
    form = "add_shipments_0_"
    for key, value in BASE["shipments"].items():
        if value is None or key == "shipment_id":
            continue
        element = app.get("selectbox") + app.get("text_input") + app.get("text_area") + app.get("date_input")
        widget = next(w for w in element if w.key == form + key)
        if widget.type == "date_input":
            widget.set_value(date.fromisoformat(value))
        elif widget.type == "selectbox":
            widget.select(value)
        else:
            widget.input(value)
    app.text_input(key=form + "request_id").input("req-999")
    app.button(key="FormSubmitter:add_shipments_0-Add shipment").click().run()
    assert next_to(app, form + "request_id").value == "Unknown request"
    app.text_input(key=form + "request_id").input("req-007")
    app.selectbox(key=form + "material_code").select("ventilators")
    app.button(key="FormSubmitter:add_shipments_0-Add shipment").click().run()
    assert [s.value for s in app.success] == [
        "Added shipment `shp-2020-04-03-ita-cze-ventilators`. It is on the Audit page."
    ]


def test_record_page_refuses_a_save_over_a_change_made_after_the_form_was_opened(page_db):
    app = on_tab(open_page("app_pages/record.py"), "Change status")
    app.selectbox(key="status_record").select("req-esp-ventilators").run()
    form = "status_requests_req-esp-ventilators_0"
    before = operations.current_row(page_db, "requests", "req-esp-ventilators")
    # Someone else changes the request while this form is open.
    other = staff("Ben Ortiz")
    assert operations.update_record(
        page_db, "requests", "req-esp-ventilators", {"quantity": "7"}, who=other
    ).ok
    app.selectbox(key=form + "_status").select("partially_fulfilled")
    app.button(key=f"FormSubmitter:{form}-Change status").click().run()
    shown = " ".join(e.value for e in app.error)
    assert "Ben Ortiz changed this record at" in shown and "nothing was saved" in shown
    after = operations.current_row(page_db, "requests", "req-esp-ventilators")
    assert (after["status"], after["quantity"]) == (before["status"], 7.0)
