"""The stored models (movements and the nine tables beside it) stay equal to their definitions
through every kind of write."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from reliefhub import imports, models, operations
from reliefhub.db import Database, FiguresOutOfDate
from tests.conftest import new_request, staff

WHO = staff("Ana Novak")


def differences(db: Database) -> dict[str, list[str]]:
    """Every stored model that differs from its definition (the `check` engine)."""
    return models.differences(db.connection.cursor())


def deliver_by_road_to_milan(db: Database, shipment_id: str, material: str, day: str) -> None:
    """Record, as staff would, 5 units of `material` trucked from Opočínek and delivered on `day`."""
    change = operations.add_record(
        db,
        "shipments",
        {"shipment_id": shipment_id, "recipient_iso3": "ITA", "provider": "Czech Republic",
         "provider_iso3": "CZE", "material_code": material, "quantity": "5", "description": "test",
         "origin_place_id": "opocinek", "destination_place_id": "milan", "mode": "road",
         "delivered_on": day, "date_precision": "day", "status": "delivered",
         "source_urls": "https://example.org/road", "source_note": "test"},
        who=WHO,
    )  # fmt: skip
    assert change.ok, change.problems


def test_a_built_database_stores_exactly_its_definition(writable_db):
    assert differences(writable_db) == {}
    count = writable_db.connection.execute("SELECT count(*) FROM movements").fetchone()[0]
    assert count > 0


def test_adding_a_shipment_on_a_new_route_stores_it_with_a_new_route(writable_db):
    routes_before = writable_db.connection.execute("SELECT max(route) FROM movement_routes").fetchone()[0]
    operations.add_record(
        writable_db,
        "places",
        {"place_id": "brno", "name": "Brno", "kind": "city", "iso3": "CZE", "latitude": "49.19",
         "longitude": "16.61", "coordinate_source": "test"},
        who=WHO,
    )  # fmt: skip
    change = operations.add_record(
        writable_db,
        "shipments",
        {"shipment_id": "shp-brno", "recipient_iso3": "ITA", "provider": "Czech Republic",
         "provider_iso3": "CZE", "material_code": "respirators", "quantity": "5", "origin_place_id": "brno",
         "destination_place_id": "milan", "mode": "road", "dispatched_on": "2020-04-02",
         "date_precision": "day", "status": "in_transit", "source_urls": "https://example.org/brno",
         "description": "Respirators from Brno", "source_note": "test"},
        who=WHO,
    )  # fmt: skip
    assert change.ok, change.problems
    assert differences(writable_db) == {}
    route = writable_db.connection.execute(
        "SELECT route FROM movements WHERE record_id = 'shp-brno'"
    ).fetchone()[0]
    assert route == routes_before + 1


def test_moving_a_shipment_between_flights_gives_the_emptied_flight_its_own_row(writable_db):
    # flt-c130 carries two shipments; take both off it and its own row appears.
    for shipment in ("shp-suits-esp", "shp-resp-esp"):
        change = operations.link_shipment(writable_db, shipment, request_id=None, flight_id=None, who=WHO)
        assert change.ok, change.problems
    assert differences(writable_db) == {}
    kinds = writable_db.connection.execute(
        "SELECT record_kind FROM movements WHERE record_id = 'flt-c130'"
    ).fetchall()
    assert kinds == [("flight",)]
    # ... and putting one back removes that row again.
    operations.link_shipment(writable_db, "shp-resp-esp", request_id=None, flight_id="flt-c130", who=WHO)
    assert differences(writable_db) == {}


def test_changing_a_flight_updates_the_shipments_it_carried(writable_db):
    change = operations.update_record(
        writable_db, "flights", "flt-c130", {"operator": "Ejército del Aire"}, who=WHO
    )
    assert change.ok, change.problems
    operators = writable_db.connection.execute(
        "SELECT DISTINCT operator FROM movements WHERE flight_id = 'flt-c130'"
    ).fetchall()
    assert operators == [("Ejército del Aire",)]
    assert differences(writable_db) == {}


def test_changing_a_place_keeps_everything_that_leaves_or_reaches_it(writable_db):
    # A referenced place keeps its country (the rules refuse that change); its
    # name and position may change, and the rows that touch it are replaced.
    change = operations.update_record(writable_db, "places", "milan", {"name": "Milano"}, who=WHO)
    assert change.ok, change.problems
    assert differences(writable_db) == {}


def shipments_csv(folder, count: int, prefix: str = "shp-imp-"):
    """A partner's file of `count` road shipments to Milan, numbered from 1."""
    header = (
        "shipment_id,recipient_iso3,provider,provider_iso3,material_code,quantity,description,origin_place_id,"
        "destination_place_id,mode,dispatched_on,delivered_on,date_precision,status,request_id,flight_id,"
        "source_urls,source_note\n"
    )
    rows = "".join(
        f"{prefix}{i},ITA,Czech Republic,CZE,respirators,{i},Batch {i},opocinek,milan,road,"
        f"2020-04-{1 + i % 28:02d},,day,in_transit,,,https://example.org/imp,test\n"
        for i in range(1, count + 1)
    )
    path = folder / f"{prefix}{count}.csv"
    path.write_text(header + rows)
    return path


def test_an_import_stores_every_row_and_a_rejected_one_stores_none(writable_db, tmp_path):
    good = shipments_csv(tmp_path, 5)
    before = writable_db.connection.execute("SELECT count(*) FROM movements").fetchone()[0]
    assert imports.import_file(writable_db, good, "shipments", who=WHO).ok
    assert writable_db.connection.execute("SELECT count(*) FROM movements").fetchone()[0] == before + 5
    assert differences(writable_db) == {}

    bad = tmp_path / "bad.csv"
    bad.write_text(shipments_csv(tmp_path, 5, "shp-bad-").read_text().replace(",5,Batch 5", ",-5,Batch 5"))
    assert not imports.import_file(writable_db, bad, "shipments", who=WHO).ok
    assert writable_db.connection.execute("SELECT count(*) FROM movements").fetchone()[0] == before + 5
    assert differences(writable_db) == {}


@pytest.mark.parametrize("rows, builds_whole", [(3, False), (60, True)])
def test_a_change_larger_than_half_the_stored_rows_builds_them_whole(
    writable_db, tmp_path, monkeypatch, rows, builds_whole
):
    stored = writable_db.connection.execute("SELECT count(*) FROM movements").fetchone()[0]
    assert (rows > stored / 2) == builds_whole
    builds = []
    build_all = models.build_all
    monkeypatch.setattr(models, "build_all", lambda con: builds.append(1) or build_all(con))
    assert imports.import_file(writable_db, shipments_csv(tmp_path, rows), "shipments", who=WHO).ok
    assert bool(builds) == builds_whole
    assert differences(writable_db) == {}


def test_rows_written_behind_the_apps_back_are_noticed_and_refreshed_as_a_step_of_its_own(writable_db):
    path = writable_db.path
    writable_db.connection.execute(
        "INSERT INTO shipments SELECT * REPLACE ('shp-sneaked' AS shipment_id) FROM shipments "
        "WHERE shipment_id = 'shp-suits-esp'"
    )
    writable_db.close()
    reopened = Database(path)
    try:
        assert reopened.stale["movements"] == "shipments changed outside the hub"
        assert "movement_flight_keys" not in reopened.stale  # reads flights only
        with pytest.raises(FiguresOutOfDate):
            reopened.query("data_bounds")
        steps = []
        assert "movements" in reopened.refresh(progress=lambda done, text: steps.append(text))
        assert steps[-1] == "figures up to date"
        assert reopened.stale == {}
        assert differences(reopened) == {}
        assert (
            reopened.connection.execute(
                "SELECT count(*) FROM movements WHERE record_id = 'shp-sneaked'"
            ).fetchone()[0]
            == 1
        )
    finally:
        reopened.close()


def test_a_database_from_before_the_table_existed_gets_it_on_connecting(writable_db):
    path = writable_db.path
    writable_db.close()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE movements")
        con.execute("CREATE VIEW movements AS SELECT * FROM movement_source")
        con.execute("DELETE FROM meta WHERE key LIKE 'model:%'")
    reopened = Database(path)
    try:
        assert reopened.refresh()
        assert (
            reopened.connection.execute(
                "SELECT table_type FROM information_schema.tables WHERE table_name = 'movements'"
            ).fetchone()[0]
            == "BASE TABLE"
        )
        assert differences(reopened) == {}
    finally:
        reopened.close()


@pytest.mark.parametrize("table", ["shipments", "flights"])
def test_a_write_that_fails_leaves_the_stored_movements_as_they_were(writable_db, table):
    before = writable_db.connection.execute("SELECT * FROM movements ORDER BY ALL").fetchall()
    with pytest.raises(RuntimeError), writable_db.transaction() as cur:
        cur.execute(f"DELETE FROM {table} WHERE false")  # noqa: S608 (a test constant)
        raise RuntimeError("the write fails half-way")
    assert writable_db.connection.execute("SELECT * FROM movements ORDER BY ALL").fetchall() == before


def test_request_status_follows_links_and_statuses(writable_db):
    def delivered(request_id):
        return writable_db.connection.execute(
            "SELECT delivered_quantity FROM request_status WHERE request_id = $id", {"id": request_id}
        ).fetchone()[0]

    assert delivered("req-esp-suits") == 10000
    change = operations.link_shipment(
        writable_db, "shp-suits-esp", request_id=None, flight_id="flt-c130", who=WHO
    )
    assert change.ok, change.problems
    assert delivered("req-esp-suits") == 0
    assert delivered("req-esp-ventilators") == 0
    change = operations.change_status(
        writable_db, "shipments", "shp-vent-esp", "delivered", who=WHO, dates={"delivered_on": "2020-04-20"}
    )
    assert change.ok, change.problems
    assert delivered("req-esp-ventilators") == 50


def test_a_country_first_seen_in_a_new_request_can_be_chosen_at_once(writable_db):
    writable_db.connection.execute("INSERT INTO countries VALUES ('POL', 'Poland', 52.0, 19.0)")
    assert "POL" not in set(writable_db.query("filter_countries")["iso3"])
    change = operations.add_record(writable_db, "requests", new_request("req-pol", "POL"), who=WHO)
    assert change.ok, change.problems
    assert "POL" in set(writable_db.query("filter_countries")["iso3"])


def test_a_request_closed_by_staff_is_stored_closed_and_a_new_one_open(writable_db):
    def status(request_id):
        return writable_db.connection.execute(
            "SELECT status_as_of FROM request_status WHERE request_id = $id", {"id": request_id}
        ).fetchone()

    assert status("req-esp-ventilators") == ("open",)
    change = operations.change_status(
        writable_db, "requests", "req-esp-ventilators", "closed", who=WHO, dates={"closed_on": "2020-05-01"}
    )
    assert change.ok, change.problems
    assert status("req-esp-ventilators") == ("closed",)
    change = operations.add_record(writable_db, "requests", new_request("req-new", "ESP"), who=WHO)
    assert change.ok, change.problems
    assert status("req-new") == ("open",)


def test_open_requests_read_from_storage_equal_those_added_up_from_the_shipments(writable_db):
    con = writable_db.connection
    settled = con.execute("SELECT max(settled_on) FROM request_status").fetchone()[0]
    for day in (settled, settled + dt.timedelta(days=30)):
        stored = con.execute("FROM requests_as_of($day) ORDER BY request_id", {"day": day}).fetchall()
        added_up = con.execute(
            "SELECT *, $day - requested_on AS days_waiting FROM requests_added_up($day, true) ORDER BY 1",
            {"day": day},
        ).fetchall()
        assert stored == added_up
        assert stored
    plan = con.execute("EXPLAIN SELECT * FROM requests_as_of($day)", {"day": settled}).fetchall()
    assert "request_status" in str(plan)


def test_open_requests_on_an_earlier_day_are_added_up_from_the_shipments_delivered_by_then(writable_db):
    con = writable_db.connection
    day = con.execute("SELECT max(last_delivered_on) - 1 FROM request_status").fetchone()[0]
    earlier = con.execute(
        "SELECT request_id, delivered_quantity FROM requests_as_of($day) ORDER BY request_id", {"day": day}
    ).fetchall()
    by_hand = con.execute(
        """
        SELECT r.request_id, coalesce(sum(s.quantity), 0)
        FROM requests r
        LEFT JOIN shipments s
               ON s.request_id = r.request_id AND s.status = 'delivered' AND s.delivered_on <= $day
        WHERE r.requested_on <= $day
        GROUP BY ALL ORDER BY 1
        """,
        {"day": day},
    ).fetchall()
    assert earlier == by_hand
    assert (
        earlier
        != con.execute(
            "SELECT request_id, delivered_quantity FROM request_status WHERE requested_on <= $day ORDER BY 1",
            {"day": day},
        ).fetchall()
    )


def test_a_key_is_one_bit_and_no_key_is_no_bit(fixture_db):
    bits = fixture_db.connection.execute(
        "SELECT key_bit(1), key_bit(3), key_bit(63), key_bit(64), key_bit(70), key_bit(NULL), "
        "has_key_bit(key_bit(3), 3), has_key_bit(key_bit(3), 2), has_key_bit(key_bit(70), 70)"
    ).fetchone()
    assert bits == (1, 4, 2**62, 2**63, 2**63, None, True, False, False)


def test_the_map_filters_by_material_however_large_the_catalogue(writable_db):
    # Movements carry a small integer key per material, handed out in order: a
    # material whose key is past 64 must filter like any other.
    con = writable_db.connection
    con.execute(
        "INSERT INTO materials "
        "SELECT 'zz_' || lpad(i::VARCHAR, 2, '0'), 'Catalogue item ' || i, 'ppe', 'pieces' "
        "FROM range(80) t(i)"
    )
    with writable_db.transaction() as cursor:
        models.build_all(cursor)
    assert (
        con.execute(
            "SELECT material_key FROM movement_material_keys WHERE material_code = 'zz_79'"
        ).fetchone()[0]
        > 64
    )
    for shipment_id, material in [
        ("shp-far-1", "zz_79"),
        ("shp-far-2", "zz_70"),
        ("shp-near", "ventilators"),
    ]:
        deliver_by_road_to_milan(writable_db, shipment_id, material, "2020-03-30")

    def to_milan(materials: list[str]) -> int:
        flows = writable_db.query(
            "movement_flows",
            {"countries": [], "materials": materials, "modes": [], "date_from": None, "date_to": None,
             "colour_by": "cargo_kind", "limit": 200},
        )  # fmt: skip
        return int(flows[flows.destination_place_id == "milan"].movements.sum())

    assert to_milan(["zz_79"]) == 1
    assert to_milan(["zz_79", "zz_70"]) == 2
    assert to_milan(["zz_79", "zz_70", "ventilators"]) == 3
    assert differences(writable_db) == {}


def test_an_arc_names_every_aircraft_however_many_operators_fly_it(writable_db):
    # Aircraft travel as bits of one 64-bit number; keys past 63 share the last bit
    # and are also gathered as a list, so every one is named.
    con = writable_db.connection
    con.execute(
        "INSERT INTO flights "
        "SELECT 'flt-many-' || i, 'pardubice-airport', 'torrejon-air-base', 'C-130 Hercules', "
        "'Air arm ' || lpad(i::VARCHAR, 2, '0'), 'air_force', DATE '2020-03-29', 'day', 'landed', "
        "NULL, NULL, 'test', 'https://example.org/many', 'test', NULL, NULL "
        "FROM range(70) t(i)"
    )
    with writable_db.transaction() as cursor:
        models.build_all(cursor)
    # One more operator, recorded as staff would: handed the next key, past 64.
    change = operations.update_record(writable_db, "flights", "flt-c130", {"operator": "Zz Air Arm"}, who=WHO)
    assert change.ok, change.problems
    assert con.execute("SELECT max(aircraft_key) FROM movement_aircraft_keys").fetchone()[0] > 64
    flows = writable_db.query(
        "movement_flows",
        {"countries": [], "materials": [], "modes": [], "date_from": None, "date_to": None,
         "colour_by": "mode", "limit": 200},
    )  # fmt: skip
    arc = flows[(flows.destination_place_id == "torrejon-air-base") & (flows.category == "air")].iloc[0]
    names = con.execute(
        "SELECT string_agg(DISTINCT concat_ws(' ', operator, aircraft_type), ', ' "
        "ORDER BY concat_ws(' ', operator, aircraft_type)) FROM flights "
        "WHERE origin_place_id = 'pardubice-airport' AND destination_place_id = 'torrejon-air-base'"
    ).fetchone()[0]
    assert arc.aircraft == names
    assert "Air arm 69 C-130 Hercules" in names and "Zz Air Arm C-130 Hercules" in names
    assert arc.flights == 71
    assert differences(writable_db) == {}


def test_a_later_shipment_extends_the_span_every_page_opens_on(writable_db):
    assert writable_db.query("data_bounds").at[0, "last_date"] < pd.Timestamp("2021-01-01")
    deliver_by_road_to_milan(writable_db, "shp-late", "ventilators", "2021-01-01")
    assert writable_db.query("data_bounds").at[0, "last_date"] == pd.Timestamp("2021-01-01")
    assert differences(writable_db) == {}
