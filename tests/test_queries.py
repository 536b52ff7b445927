"""Every query in queries/, with exact expected rows on the fixture database."""

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reliefhub import QUERIES_DIR, operations
from reliefhub.bench.cases import PAGE_QUERIES
from reliefhub.db import Database, parameter_names, query_text
from reliefhub.figures import MAP_ARCS, MAP_PLACES
from reliefhub.loader import build_database
from tests.conftest import FIXTURE_DATA, new_request, no_filters, staff

T = pd.Timestamp
EVERY_ROW = {"limit": None, "offset": 0}  # the table queries' export: no page


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in r) for r in frame[list(columns)].itertuples(index=False)]


# Every query the pages ask (the benchmark's registry of query cases) has exact-row tests in this
# file, but for closed_requests (test_confidence.py, test_real_data.py) and dataset_info
# (test_generate.py); the other queries are tested where they are used.
TESTED_HERE = set(PAGE_QUERIES) - {"closed_requests", "dataset_info"}


def test_every_query_file_has_exact_row_tests():
    elsewhere = {p.stem for p in QUERIES_DIR.glob("*.sql")} - TESTED_HERE
    other_tests = " ".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    assert [name for name in sorted(elsewhere) if f'"{name}"' not in other_tests] == []


def test_queries_use_only_named_parameters():
    for path in QUERIES_DIR.glob("*.sql"):
        text = query_text(path.stem)
        assert "{" not in text and "%s" not in text and "?" not in text, path.name
        assert parameter_names(text) or path.stem in {
            "map_frame",
            "data_bounds",
            "filter_countries",
            "filter_materials",
            "data_freshness",
            "dataset_info",
            "known_countries",
            "users_list",
            "wall_keys_list",
        }


def test_flows_one_row_per_pair_and_category(fixture_db):
    flows = fixture_db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="cargo_kind"))
    assert rows(
        flows,
        "origin_place_id",
        "destination_place_id",
        "category",
        "movements",
        "flights",
        "shipments",
        "patients",
        "first_date",
        "last_date",
    ) == [
        ("metz", "essen-muelheim-airport", "patients", 3, 3, 3, 6, T("2020-03-28"), T("2020-03-31")),
        ("pardubice-airport", "torrejon-air-base", "goods", 2, 1, 2, 0, T("2020-03-29"), T("2020-03-29")),
        ("bergamo-airport", "cologne-bonn-airport", "patients", 1, 1, 1, 6, T("2020-03-28"), T("2020-03-28")),
        ("cologne-bonn-airport", "torrejon-air-base", "goods", 1, 0, 1, 0, T("2020-04-01"), T("2020-04-01")),
        ("opocinek", "milan", "goods", 1, 0, 1, 0, T("2020-03-30"), T("2020-03-30")),
        ("torrejon-air-base", "pardubice-airport", "goods", 1, 1, 0, 0, T("2020-04-01"), T("2020-04-01")),
    ]
    metz = flows.iloc[0]
    assert metz.aircraft == "French Army NH90 Caïman"
    assert not metz.has_month_only_dates


def test_flows_filtered_by_country_as_origin_destination_or_recipient(fixture_db):
    flows = fixture_db.query(
        "movement_flows", no_filters(limit=MAP_ARCS, colour_by="mode", countries=["ITA"])
    )
    assert rows(flows, "origin_place_id", "destination_place_id", "category", "movements") == [
        ("bergamo-airport", "cologne-bonn-airport", "air", 1),
        ("opocinek", "milan", "road", 1),
    ]


def test_flows_filtered_by_material_and_dates(fixture_db):
    flows = fixture_db.query(
        "movement_flows",
        no_filters(
            limit=MAP_ARCS,
            colour_by="material_category",
            materials=["patients"],
            date_from=date(2020, 3, 29),
            date_to=date(2020, 3, 31),
        ),
    )
    assert rows(flows, "origin_place_id", "destination_place_id", "category", "movements", "patients") == [
        ("metz", "essen-muelheim-airport", "patients", 2, 4)
    ]


def test_month_only_records_match_any_range_inside_their_month(fixture_db):
    flows = fixture_db.query(
        "movement_flows",
        no_filters(limit=MAP_ARCS, colour_by="mode", date_from=date(2020, 4, 10), date_to=date(2020, 4, 20)),
    )
    assert rows(flows, "origin_place_id", "destination_place_id", "movements", "has_month_only_dates") == [
        ("cologne-bonn-airport", "torrejon-air-base", 1, True),
        ("torrejon-air-base", "pardubice-airport", 1, True),
    ]


def test_unknown_or_hostile_filter_values_match_nothing(fixture_db):
    for countries in (["XXX"], ["' OR 1=1 --"], ["ITA'; DROP TABLE shipments; --"]):
        assert fixture_db.query(
            "movement_flows", no_filters(limit=MAP_ARCS, colour_by="mode", countries=countries)
        ).empty
    assert fixture_db.scalar("headline_figures", no_filters(as_of=date(2020, 4, 30))) == 3


def test_arcs_do_not_grow_with_records_on_the_same_pairs(tmp_path):
    path = tmp_path / "many.duckdb"
    build_database(FIXTURE_DATA, path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO shipments SELECT s.* REPLACE (s.shipment_id || '-copy-' || t.i AS shipment_id) "
            "FROM shipments s, range(1000) t(i) WHERE s.shipment_id = 'shp-suits-ita'"
        )
    db = Database(path)
    db.refresh()  # rows written outside the hub: the figures are brought up to date first
    flows = db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="cargo_kind"))
    assert len(flows) == 6
    assert rows(flows[flows.origin_place_id == "opocinek"], "movements", "shipments") == [(1001, 1001)]
    db.close()


def test_places_carry_their_traffic(fixture_db):
    places = fixture_db.query("movement_places", no_filters(limit=MAP_PLACES))
    assert rows(places, "place_id", "departures", "arrivals", "movements") == [
        ("torrejon-air-base", 1, 3, 4),
        ("essen-muelheim-airport", 0, 3, 3),
        ("metz", 3, 0, 3),
        ("pardubice-airport", 2, 1, 3),
        ("cologne-bonn-airport", 1, 1, 2),
        ("bergamo-airport", 1, 0, 1),
        ("milan", 0, 1, 1),
        ("opocinek", 1, 0, 1),
    ]


def test_the_map_gets_the_busiest_arcs_and_places_and_how_many_there_were(fixture_db):
    flows = fixture_db.query("movement_flows", no_filters(limit=2, colour_by="cargo_kind"))
    assert rows(flows, "origin_place_id", "destination_place_id", "movements", "arcs_total") == [
        ("metz", "essen-muelheim-airport", 3, 6),
        ("pardubice-airport", "torrejon-air-base", 2, 6),
    ]
    assert flows.iloc[0].aircraft == "French Army NH90 Caïman"
    places = fixture_db.query("movement_places", no_filters(limit=3))
    assert rows(places, "place_id", "movements", "places_total") == [
        ("torrejon-air-base", 4, 8),
        ("essen-muelheim-airport", 3, 8),
        ("metz", 3, 8),
    ]


def test_a_crowded_map_keeps_the_busiest_arcs_of_every_colour(fixture_db):
    # By mode: five air arcs and one road arc. The four busiest alone would be
    # all air; each colour's busiest comes first, then the busiest of the rest.
    flows = fixture_db.query("movement_flows", no_filters(limit=4, colour_by="mode"))
    assert rows(flows, "origin_place_id", "destination_place_id", "category", "movements") == [
        ("metz", "essen-muelheim-airport", "air", 3),
        ("pardubice-airport", "torrejon-air-base", "air", 2),
        ("bergamo-airport", "cologne-bonn-airport", "air", 1),
        ("opocinek", "milan", "road", 1),
    ]


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            {"origin_place_id": "metz", "destination_place_id": "essen-muelheim-airport", "place_id": None},
            ["shp-pat-1", "shp-pat-2", "shp-pat-3"],
        ),
        (
            {"origin_place_id": None, "destination_place_id": None, "place_id": "torrejon-air-base"},
            ["shp-resp-esp", "shp-suits-esp", "flt-ferry", "shp-vent-esp"],
        ),
    ],
)
def test_records_behind_a_selection(fixture_db, selection, expected):
    records = fixture_db.query("movement_records", no_filters(**selection) | EVERY_ROW)
    assert records["record_id"].tolist() == expected
    assert records["source_urls"].str.startswith("https://").all()
    assert records["matching_rows"].tolist() == [len(expected)] * len(expected)


def test_headline_figures(fixture_db):
    headline = fixture_db.query("headline_figures", no_filters(as_of=date(2020, 4, 30)))
    assert rows(
        headline, "open_requests", "shipments_in_transit", "shipments_delivered", "flights", "patients_moved"
    ) == [(3, 1, 7, 6, 12)]


def test_open_requests_on_two_days_differ(fixture_db):
    columns = (
        "request_id",
        "requested_quantity",
        "delivered_quantity",
        "missing_quantity",
        "days_waiting",
        "status_as_of",
    )
    on_1_april = fixture_db.query("open_requests", no_filters(as_of=date(2020, 4, 1)) | EVERY_ROW)
    assert rows(on_1_april, *columns) == [
        ("req-esp-suits", 150000.0, 10000.0, 140000.0, 9, "partially_fulfilled"),
        ("req-esp-ventilators", 500.0, 0.0, 500.0, 9, "open"),
        ("req-fra-patients", 10.0, 6.0, 4.0, 12, "partially_fulfilled"),
        ("req-ita-respirators", None, 0.0, None, 6, "open"),
    ]
    on_22_april = fixture_db.query("open_requests", no_filters(as_of=date(2020, 4, 22)) | EVERY_ROW)
    assert rows(on_22_april, *columns) == [
        ("req-esp-ventilators", 500.0, 0.0, 500.0, 30, "open"),
        ("req-fra-patients", 10.0, 6.0, 4.0, 33, "partially_fulfilled"),
        ("req-ita-respirators", None, 0.0, None, 27, "open"),
    ]


def test_open_requests_follow_filters(fixture_db):
    def open_on(day, **filters):
        return fixture_db.query("open_requests", no_filters(as_of=day, **filters) | EVERY_ROW)

    spain = open_on(date(2020, 4, 1), countries=["ESP"])
    assert spain["request_id"].tolist() == ["req-esp-suits", "req-esp-ventilators"]
    assert open_on(date(2020, 3, 21))["request_id"].tolist() == ["req-fra-patients"]
    ppe = open_on(date(2020, 4, 1), materials=["respirators"])
    assert ppe["request_id"].tolist() == ["req-ita-respirators"]


def test_open_requests_by_country(fixture_db):
    by_country = fixture_db.query("open_requests_by_country", no_filters(as_of=date(2020, 4, 1)))
    assert rows(
        by_country, "iso3", "material_code", "open_requests", "missing_quantity", "longest_wait_days"
    ) == [
        ("ESP", "protective_clothing", 1, 140000.0, 9),
        ("ESP", "ventilators", 1, 500.0, 9),
        ("FRA", "patients", 1, 4.0, 12),
        ("ITA", "respirators", 1, None, 6),
    ]


def test_data_tables_follow_filters(fixture_db):
    def table(name, **filters):
        return fixture_db.query(name, no_filters(**filters) | EVERY_ROW)

    assert table("requests_table", countries=["ESP"])["request_id"].tolist() == [
        "req-esp-suits",
        "req-esp-ventilators",
    ]
    suits = table("shipments_table", materials=["protective_clothing"])
    assert rows(suits, "shipment_id", "origin_name", "destination_name", "recipient_country") == [
        ("shp-suits-esp", "Pardubice Airport", "Torrejón Air Base", "Spain"),
        ("shp-suits-ita", "Opočínek", "Milan", "Italy"),
    ]
    assert table("flights_table", countries=["ITA"])["flight_id"].tolist() == ["flt-a310"]
    assert table("flights_table")["flight_id"].tolist() == [
        "flt-a310",
        "flt-nh90-1",
        "flt-c130",
        "flt-nh90-2",
        "flt-nh90-3",
        "flt-ferry",
    ]


def test_a_request_recorded_late_for_an_early_day_is_paged_by_its_day(writable_db):
    # The loader writes requests in date order; one added afterwards lies at
    # the end of the table, and the page must still put it by its date.
    late = new_request("req-early", "ITA", description="Recorded late", requested_on="2020-03-01")
    change = operations.add_record(writable_db, "requests", late, who=staff("Ana Novak"))
    assert change.ok, change.problems
    page = writable_db.query("requests_table", no_filters() | {"limit": 2, "offset": 0})
    assert page["request_id"].tolist() == ["req-early", "req-fra-patients"]
    assert page["description"].tolist() == ["Recorded late", "ICU beds for Grand Est patients"]
    assert page["matching_rows"].tolist() == [5, 5]


# Every row of each paged table query, in its order, on the fixture database.
EVERY_ROW_IN_ORDER = {
    "requests_table": (
        {},
        ["req-fra-patients", "req-esp-suits", "req-esp-ventilators", "req-ita-respirators"],
    ),
    "shipments_table": (
        {},
        [
            "shp-pat-1",
            "shp-pat-ita",
            "shp-pat-2",
            "shp-resp-esp",
            "shp-suits-esp",
            "shp-suits-ita",
            "shp-pat-3",
            "shp-vent-esp",
        ],
    ),
    "flights_table": ({}, ["flt-a310", "flt-nh90-1", "flt-c130", "flt-nh90-2", "flt-nh90-3", "flt-ferry"]),
    "open_requests": (
        {"as_of": date(2020, 4, 1)},
        ["req-esp-suits", "req-esp-ventilators", "req-fra-patients", "req-ita-respirators"],
    ),
    "movement_records": (
        {"origin_place_id": None, "destination_place_id": None, "place_id": None},
        [
            "shp-pat-1",
            "shp-pat-ita",
            "shp-pat-2",
            "shp-resp-esp",
            "shp-suits-esp",
            "shp-suits-ita",
            "shp-pat-3",
            "flt-ferry",
            "shp-vent-esp",
        ],
    ),
}


@pytest.mark.parametrize("name", list(EVERY_ROW_IN_ORDER))
def test_table_queries_page_in_sql_and_count_every_match(fixture_db, name):
    extra, expected = EVERY_ROW_IN_ORDER[name]
    id_column = 1 if name == "movement_records" else 0

    def page(limit, offset):
        frame = fixture_db.query(name, no_filters(**extra) | {"limit": limit, "offset": offset})
        return frame.iloc[:, id_column].tolist(), frame["matching_rows"].unique().tolist()

    assert page(None, 0) == (expected, [len(expected)])
    assert page(3, 0) == (expected[:3], [len(expected)])
    assert page(3, 3) == (expected[3:6], [len(expected)])
    assert page(3, len(expected) - 2) == (expected[-2:], [len(expected)])
    assert page(3, len(expected)) == ([], [])  # past the end: nothing, not an error
    assert page(None, 2) == (expected[2:], [len(expected)])


def test_a_page_counts_the_filtered_rows_only(fixture_db):
    air = fixture_db.query("shipments_table", no_filters(modes=["air"], limit=2, offset=2))
    assert rows(air, "shipment_id", "destination_name", "matching_rows") == [
        ("shp-pat-2", "Essen/Mülheim Airport", 7),
        ("shp-resp-esp", "Torrejón Air Base", 7),
    ]
    route = fixture_db.query(
        "movement_records",
        no_filters(
            origin_place_id="metz",
            destination_place_id="essen-muelheim-airport",
            place_id=None,
            limit=1,
            offset=1,
        ),
    )
    assert rows(route, "record_id", "origin", "destination", "matching_rows") == [
        ("shp-pat-2", "Metz", "Essen/Mülheim Airport", 3)
    ]
    # A place matches at either end of a route: the ferry flight home arrives at Pardubice.
    place = fixture_db.query(
        "movement_records",
        no_filters(origin_place_id=None, destination_place_id=None, place_id="pardubice-airport") | EVERY_ROW,
    )
    assert rows(place, "record_id", "origin", "destination", "matching_rows") == [
        ("shp-resp-esp", "Pardubice Airport", "Torrejón Air Base", 3),
        ("shp-suits-esp", "Pardubice Airport", "Torrejón Air Base", 3),
        ("flt-ferry", "Torrejón Air Base", "Pardubice Airport", 3),
    ]


def test_frame_bounds_and_filter_options(fixture_db):
    assert rows(fixture_db.query("map_frame"), "south", "north", "west") == [(40.4967, 51.4023, -3.4458)]
    assert fixture_db.query("map_frame").at[0, "east"] == pytest.approx(13.11896)
    assert rows(fixture_db.query("data_bounds"), "first_date", "last_date") == [
        (T("2020-03-20"), T("2020-04-30"))
    ]
    assert fixture_db.query("filter_countries")["iso3"].tolist() == ["CZE", "FRA", "DEU", "ITA", "ESP"]
    assert fixture_db.query("filter_materials")["material_code"].tolist() == [
        "ventilators",
        "patients",
        "protective_clothing",
        "respirators",
    ]


def test_wall_figures_as_of_two_days(fixture_db):
    columns = ("open_requests", "shipments_in_transit", "patients_last_7_days")
    assert rows(fixture_db.query("wall_figures", no_filters(as_of=date(2020, 3, 31))), *columns) == [
        (4, 1, 12)
    ]
    assert rows(fixture_db.query("wall_figures", no_filters(as_of=date(2020, 4, 30))), *columns) == [
        (3, 1, 0)
    ]


def test_recent_flights_latest_first(fixture_db):
    flights = fixture_db.query("recent_flights", no_filters(as_of=date(2020, 3, 29), limit=3))
    assert rows(flights, "flight_date", "origin_name", "aircraft", "patients") == [
        (T("2020-03-29"), "Metz", "French Army NH90 Caïman", 2),
        (T("2020-03-29"), "Pardubice Airport", "Spanish Air Force C-130 Hercules", None),
        (T("2020-03-28"), "Metz", "French Army NH90 Caïman", 2),
    ]
    # Every flight up to that day, however many the limit keeps.
    assert set(flights["matching_flights"]) == {
        len(fixture_db.query("recent_flights", no_filters(as_of=date(2020, 3, 29), limit=100)))
    }


def test_recent_flights_follow_the_filters(fixture_db):
    def recent(**chosen):
        flights = fixture_db.query("recent_flights", no_filters(as_of=date(2020, 4, 30), limit=5) | chosen)
        return rows(flights, "flight_date", "origin_name")

    # Spain: the C-130 that flew the suits in, and its return leg with no cargo recorded.
    assert recent(countries=["ESP"]) == [
        (T("2020-04-01"), "Torrejón Air Base"),
        (T("2020-03-29"), "Pardubice Airport"),
    ]
    assert recent(modes=["road"]) == []
    assert recent(materials=["patients"]) == [
        (T("2020-03-31"), "Metz"),
        (T("2020-03-29"), "Metz"),
        (T("2020-03-28"), "Metz"),
        (T("2020-03-28"), "Bergamo Orio al Serio Airport"),
    ]
    assert len(recent()) == 5


HOUR_AGO = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1)).isoformat(timespec="seconds")


def test_data_freshness_is_the_last_save_not_the_build(fixture_db_path, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(fixture_db_path, copy)
    with duckdb.connect(str(copy)) as con:  # built an hour ago
        con.execute("UPDATE meta SET value = $at WHERE key LIKE '%_at'", {"at": HOUR_AGO})
    db = Database(copy)
    assert rows(db.query("data_freshness"), "data_changed_at", "built_at") == [(None, T(HOUR_AGO))]
    with db.transaction():
        pass  # what every save and import ends with: the change time
    changed = db.query("data_freshness").at[0, "data_changed_at"]
    db.close()
    assert changed > T(HOUR_AGO)


def test_request_trend_counts_each_day(fixture_db):
    trend = fixture_db.query("request_trend", no_filters())
    assert len(trend) == 42  # 20 Mar to 30 Apr
    assert rows(trend.iloc[[0, 2, 3, 6, 32, 33, 41]], "day", "received", "settled", "still_open") == [
        (T("2020-03-20"), 1, 0, 1),
        (T("2020-03-22"), 1, 0, 1),
        (T("2020-03-23"), 3, 0, 3),
        (T("2020-03-26"), 4, 0, 4),
        (T("2020-04-21"), 4, 0, 4),
        (T("2020-04-22"), 4, 1, 3),  # Spain's suits request closed as fulfilled
        (T("2020-04-30"), 4, 1, 3),
    ]


def test_request_trend_counts_a_withdrawn_request_as_settled(fixture_db_path, tmp_path):
    copy = tmp_path / "withdrawn.duckdb"
    shutil.copy(fixture_db_path, copy)
    with duckdb.connect(str(copy)) as con:  # Spain withdraws its ventilator request on 10 April
        con.execute(
            "UPDATE requests SET status = 'withdrawn', closed_on = DATE '2020-04-10' "
            "WHERE request_id = 'req-esp-ventilators'"
        )
    db = Database(copy)
    db.refresh()
    trend = db.query("request_trend", no_filters()).set_index("day")
    db.close()
    assert rows(trend.loc[[T("2020-04-09"), T("2020-04-10"), T("2020-04-30")]], "settled", "still_open") == [
        (0, 4),
        (1, 3),
        (2, 2),
    ]


@pytest.mark.parametrize(
    "chosen",
    [
        {},
        {"countries": ["ESP"]},
        {"materials": ["patients"]},
        {"date_from": date(2020, 3, 25)},
        {"date_to": date(2020, 3, 24)},
    ],
)
def test_request_trend_still_open_is_the_open_requests_of_each_day(fixture_db, chosen):
    for day in fixture_db.query("request_trend", no_filters(**chosen)).itertuples():
        as_of = no_filters(as_of=day.day.date(), **chosen) | EVERY_ROW
        assert day.still_open == len(fixture_db.query("open_requests", as_of)), day.day
