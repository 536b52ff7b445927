"""The model engine: staleness keyed to what definitions mean, changes made
outside the hub noticed on opening, `check`, and a property test that every
stored model equals its definition after any sequence of writes."""

import contextlib
import datetime as dt
import shutil
import threading
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliefhub import __main__ as cli
from reliefhub import imports, models, operations
from reliefhub.db import Database
from tests.conftest import no_filters, staff
from tests.test_movements import shipments_csv
from tests.test_pages import run_page

WHO = staff("Ana Novak")
SHIPMENTS = ["shp-suits-esp", "shp-resp-esp", "shp-suits-ita", "shp-pat-1", "shp-pat-ita", "shp-vent-esp"]
FLIGHTS = ["flt-a310", "flt-nh90-1", "flt-c130", "flt-ferry"]
PLACES = ["pardubice-airport", "opocinek", "milan", "cologne-bonn-airport"]
REQUESTS = ["req-fra-patients", "req-esp-suits", "req-esp-ventilators", "req-ita-respirators"]


def write_outside_the_hub(path: Path, sql: str) -> None:
    """What someone does with the dashboard stopped: plain SQL on the file."""
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def test_a_comment_in_a_definition_changes_nothing_and_a_change_in_its_meaning_does():
    text = (models.MODELS_DIR / "data_span.sql").read_text()
    digest = models.parse_model(text).digest
    assert models.parse_model(text.replace("-- The first", "-- Reworded: the first")).digest == digest
    assert models.parse_model(text.replace("\nFROM movements", "\n\n   FROM   movements")).digest == digest
    assert models.parse_model(text.replace("min(event_date)", "max(event_date)")).digest != digest


def test_an_update_outside_the_hub_marks_the_models_that_read_it(writable_db):
    path = writable_db.path
    writable_db.close()
    write_outside_the_hub(
        path, "UPDATE shipments SET status = 'cancelled' WHERE shipment_id = 'shp-vent-esp'"
    )
    db = Database(path)
    try:
        assert set(db.stale) == {
            "movements", "movement_routes", "movement_groups", "movement_flow_groups",
            "request_status", "countries_in_data", "data_span",
        }  # fmt: skip
        db.refresh()
        assert models.differences(db.connection.cursor()) == {}
        figures = db.query("headline_figures", no_filters(as_of=dt.date(2020, 4, 30)))
        assert figures.at[0, "shipments_in_transit"] == 0
    finally:
        db.close()


def test_a_refresh_under_way_is_waited_for_and_not_repeated(writable_db):
    path = writable_db.path
    writable_db.close()
    write_outside_the_hub(path, "UPDATE shipments SET quantity = 7 WHERE shipment_id = 'shp-pat-1'")
    db = Database(path)
    started, carry_on = threading.Event(), threading.Event()

    def slowly(done: float, text: str) -> None:
        started.set()
        carry_on.wait(10)

    first = threading.Thread(target=db.refresh, kwargs={"progress": slowly})
    first.start()
    started.wait(10)
    assert db.stale  # a page arriving now says "Updating figures" and waits with it
    second_found = []
    second = threading.Thread(target=lambda: second_found.append(db.refresh()))
    second.start()
    second.join(0.3)
    assert second.is_alive()
    carry_on.set()
    first.join(10)
    second.join(10)
    try:
        assert second_found == [[]]
        assert db.stale == {}
        assert models.differences(db.connection.cursor()) == {}
    finally:
        db.close()


def test_the_fingerprints_a_save_keeps_equal_those_counted_whole(writable_db, tmp_path):
    assert operations.change_status(writable_db, "shipments", "shp-vent-esp", "cancelled", who=WHO).ok
    assert operations.update_record(writable_db, "places", "milan", {"name": "Milano"}, who=WHO).ok
    assert imports.import_file(writable_db, shipments_csv(tmp_path, 3), "shipments", who=WHO).ok
    assert models.changed_sources(writable_db.connection) == []


def test_a_flight_touched_through_its_places_alone_still_carries_its_shipment(writable_db):
    # The ferry flight's one shipment leaves and reaches other places than the
    # flight does: changing the flight's airport touches the flight, not the
    # shipment, and the flight must still get no row of its own.
    assert operations.link_shipment(
        writable_db, "shp-vent-esp", request_id=None, flight_id="flt-ferry", who=WHO
    ).ok
    assert operations.update_record(
        writable_db, "places", "pardubice-airport", {"latitude": "50.1"}, who=WHO
    ).ok
    cur = writable_db.connection.cursor()
    assert cur.execute(
        "SELECT record_kind, record_id FROM movements WHERE flight_id = 'flt-ferry'"
    ).fetchall() == [("shipment", "shp-vent-esp")]
    assert models.differences(cur) == {}


def test_check_finds_a_tampered_model_and_repair_mends_it(writable_db, capsys):
    path = writable_db.path
    writable_db.close()
    write_outside_the_hub(path, "UPDATE movement_groups SET movements = movements + 1 WHERE route = 1")
    write_outside_the_hub(
        path,
        "INSERT INTO movement_routes SELECT 99, origin_place_id, destination_place_id "
        "FROM movement_routes WHERE route = 1",
    )
    assert cli.main(["check", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert "movement_groups differs from its definition:\n  stored, not defined: (1, " in out
    assert "movement_routes differs from its definition:\n  natural key numbered twice:" in out
    assert cli.main(["check", "--db", str(path), "--repair"]) == 0
    assert cli.main(["check", "--db", str(path)]) == 0
    assert capsys.readouterr().out.endswith("Every stored model (10) equals its definition.\n")


def test_the_figures_after_an_update_outside_the_hub_are_right_on_the_next_page_load(
    fixture_db_path, tmp_path, monkeypatch
):
    path = tmp_path / "app.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    write_outside_the_hub(
        path,
        "UPDATE shipments SET status = 'delivered', delivered_on = DATE '2020-04-20' "
        "WHERE shipment_id = 'shp-vent-esp'",
    )
    app = run_page("app_pages/overview.py")
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Shipments in transit"] == "0"
    assert metrics["Shipments delivered"] == "8"
    assert [status.proto.label for status in app.get("status")] == ["Figures updated"]


# ---------------------------------------------------------------- the property test

STATUS_CHANGES = st.tuples(
    st.just("status"),
    st.sampled_from(SHIPMENTS),
    st.sampled_from(["planned", "in_transit", "delivered", "cancelled"]),
)
LINKS = st.tuples(
    st.just("link"),
    st.sampled_from(SHIPMENTS),
    st.sampled_from([None, *FLIGHTS]),
    st.sampled_from([None, *REQUESTS]),
)
NEW_SHIPMENTS = st.tuples(st.just("add"), st.sampled_from(PLACES), st.sampled_from(PLACES), st.booleans())
FLIGHT_CHANGES = st.tuples(
    st.just("flight"), st.sampled_from(FLIGHTS), st.sampled_from(["Luftwaffe", "Armée de l'air"])
)
PLACE_CHANGES = st.tuples(st.just("place"), st.sampled_from(PLACES), st.floats(40, 55, allow_nan=False))
REQUEST_CHANGES = st.tuples(
    st.just("request"), st.sampled_from(REQUESTS), st.sampled_from(["open", "closed"])
)
IMPORTS = st.tuples(st.just("import"), st.integers(1, 4), st.booleans())
OUTSIDE = st.tuples(
    st.just("outside"),
    st.sampled_from([
        "UPDATE shipments SET status = 'cancelled' WHERE shipment_id = 'shp-vent-esp'",
        "UPDATE shipments SET quantity = quantity + 1 WHERE shipment_id = 'shp-pat-1'",
        "DELETE FROM shipments WHERE shipment_id = 'shp-resp-esp'",
        "UPDATE flights SET operator = 'Renamed outside' WHERE flight_id = 'flt-ferry'",
        "UPDATE places SET name = 'Milano' WHERE place_id = 'milan'",
        "INSERT INTO flights SELECT * REPLACE ('flt-outside' AS flight_id) FROM flights "
        "WHERE flight_id = 'flt-a310'",
        "UPDATE requests SET status = 'closed', closed_on = DATE '2020-05-01' "
        "WHERE request_id = 'req-ita-respirators'",
    ]),
)  # fmt: skip
STEPS = st.lists(
    st.one_of(
        STATUS_CHANGES, LINKS, NEW_SHIPMENTS, FLIGHT_CHANGES, PLACE_CHANGES, REQUEST_CHANGES, IMPORTS, OUTSIDE
    ),
    min_size=1,
    max_size=6,
)


def apply_step(db: Database, step: tuple, folder: Path, number: int) -> Database:
    """Do one step as staff or a partner would (a refused one changes nothing);
    returns the database, reopened after a change made outside the hub."""
    kind, *args = step
    if kind == "status":
        dates = {"delivered_on": "2020-04-25"} if args[1] == "delivered" else None
        operations.change_status(db, "shipments", args[0], args[1], who=WHO, dates=dates)
    elif kind == "link":
        operations.link_shipment(db, args[0], flight_id=args[1], request_id=args[2], who=WHO)
    elif kind == "add":
        operations.add_record(db, "shipments", {
            "shipment_id": f"shp-prop-{number}", "recipient_iso3": "ITA", "provider": "Czech Republic",
            "provider_iso3": "CZE", "material_code": "respirators", "quantity": "5", "description": "test",
            "origin_place_id": args[0], "destination_place_id": args[1], "mode": "road",
            "dispatched_on": "2020-04-02", "date_precision": "day",
            "status": "delivered" if args[2] else "in_transit",
            "delivered_on": "2020-04-03" if args[2] else None,
            "source_urls": "https://example.org/prop", "source_note": "test"}, who=WHO)  # fmt: skip
    elif kind == "flight":
        operations.update_record(db, "flights", args[0], {"operator": args[1]}, who=WHO)
    elif kind == "place":
        operations.update_record(db, "places", args[0], {"latitude": str(args[1])}, who=WHO)
    elif kind == "request":
        operations.change_status(db, "requests", args[0], args[1], who=WHO, dates={"closed_on": "2020-05-01"})
    elif kind == "import":
        path = shipments_csv(folder, args[0], prefix=f"shp-imp{number}-")
        if args[1]:  # one bad row: the whole file is refused
            path.write_text(path.read_text().replace(",1,Batch 1,", ",-1,Batch 1,"))
        assert imports.import_file(db, path, "shipments", who=WHO).ok != args[1]
    else:
        db.close()
        with contextlib.suppress(duckdb.ConstraintException):  # the rules hold outside the hub too
            write_outside_the_hub(db.path, args[0])
        db = Database(db.path)
        db.refresh()
    return db


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_model_equals_its_definition_after_any_sequence_of_writes(
    fixture_db_path, tmp_path_factory, steps
):
    folder = tmp_path_factory.mktemp("property")
    path = folder / "hub.duckdb"
    shutil.copy(fixture_db_path, path)
    db = Database(path)
    try:
        for number, step in enumerate(steps):
            db = apply_step(db, step, folder, number)
        assert models.differences(db.connection.cursor()) == {}
        assert models.changed_sources(db.connection) == []
    finally:
        db.close()
