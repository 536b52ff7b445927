"""The loader: sources in data/ become a database, or nothing changes."""

import duckdb
import pytest

from reliefhub.loader import build_database
from reliefhub.validation import ValidationError
from tests.conftest import FIXTURE_DATA

FIXTURE_COUNTS = {
    "countries": 5,
    "places": 8,
    "materials": 4,
    "requests": 4,
    "flights": 6,
    "shipments": 8,
}


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_fixture_builds_with_expected_counts(tmp_path):
    assert build_database(FIXTURE_DATA, tmp_path / "db.duckdb") == FIXTURE_COUNTS


def test_build_is_a_pure_function_of_the_files(tmp_path):
    tables = FIXTURE_COUNTS.keys()
    dumps = []
    for name in ("a.duckdb", "b.duckdb"):
        build_database(FIXTURE_DATA, tmp_path / name)
        with duckdb.connect(str(tmp_path / name), read_only=True) as con:
            dumps.append({t: sorted(con.table(t).fetchall(), key=repr) for t in tables})
    assert dumps[0] == dumps[1]


def test_requests_and_flights_are_written_in_the_order_the_data_page_lists_them(fixture_db):
    # Not needed for correct answers, only for speed: a page of rows that lie
    # together is read from a few vectors (validation.LOAD_ORDER).
    con = fixture_db.connection
    for table, order in [("requests", "requested_on, request_id"), ("flights", "flight_date, flight_id")]:
        stored = con.execute(f"SELECT {order} FROM {table} ORDER BY rowid").fetchall()  # noqa: S608
        assert stored == sorted(stored), table
        assert len(stored) > 3


def test_accents_survive_the_build(fixture_db):
    names = set(fixture_db.connection.execute("SELECT name FROM places").fetchall())
    assert ("Opočínek",) in names and ("Torrejón Air Base",) in names


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "shipments.csv",
            "shp-suits-ita,ITA,",
            "shp-suits-ita,XXX,",
            "shipments.csv, line 4, column recipient_iso3 (value 'XXX'): unknown country code",
        ),
        (
            "shipments.csv",
            "protective_clothing,10000,Protective suits by truck",
            "protective_clothing,-5,Protective suits by truck",
            "shipments.csv, line 4, column quantity (value '-5'): must be between 0 and 1,000,000,000,000",
        ),
        (
            "shipments.csv",
            "2020-03-29,2020-03-30,day",
            "2020-03-29,2020-02-30,day",
            "shipments.csv, line 4, column delivered_on (value '2020-02-30'): is not a date (YYYY-MM-DD)",
        ),
        (
            "shipments.csv",
            "2020-03-29,2020-03-30,day",
            "2020-03-30,2020-03-29,day",
            "shipments.csv, line 4, column delivered_on, dispatched_on",
        ),
        (
            "shipments.csv",
            "opocinek,milan,road",
            "opocinek,atlantis,road",
            "shipments.csv, line 4, column destination_place_id (value 'atlantis'): unknown place",
        ),
        (
            "shipments.csv",
            "opocinek,milan,road",
            "opocinek,milan,teleport",
            "column mode (value 'teleport'): must be one of: road, rail, sea, air",
        ),
        (
            "shipments.csv",
            "shp-resp-esp,ESP,Czech Republic,CZE,respirators,90,Respirators on the same C-130,"
            "pardubice-airport,torrejon-air-base,air,,2020-03-29,day,delivered,,",
            "shp-resp-esp,ESP,Czech Republic,CZE,respirators,90,Respirators on the same C-130,"
            "pardubice-airport,torrejon-air-base,air,,2020-03-29,day,delivered,req-esp-suits,",
            "line 3, column request_id (value 'req-esp-suits'): answers a request for a different material",
        ),
        (
            "shipments.csv",
            "shp-pat-2,",
            "shp-pat-1,",
            "line 6, column shipment_id (value 'shp-pat-1'): appears more than once in the file",
        ),
        (
            "requests.csv",
            "2020-03-26,day,open",
            "2020-03-26,week,open",
            "requests.csv, line 4, column date_precision (value 'week'): must be one of: day, month",
        ),
        (
            "flights.csv",
            "flt-a310,bergamo-airport,cologne-bonn-airport",
            "flt-a310,bergamo-airport,bergamo-airport",
            "flights.csv, line 6, column destination_place_id (value 'bergamo-airport'): "
            "a flight must land somewhere other than where it took off",
        ),
        (
            "places.csv",
            "metz,Metz,city,FRA,49.1193,",
            "metz,Metz,city,FRA,149.1193,",
            "places.csv, line 5, column latitude (value '149.1193'): must be between -90 and 90",
        ),
        (
            "materials.csv",
            "material_code,name,category,unit",
            "material_code,name,category,units",
            "materials.csv, line 1, column unit: required column is missing from the header",
        ),
    ],
)
def test_bad_source_is_rejected_with_file_line_and_reason(fixture_copy, tmp_path, file, old, new, expected):
    edit(fixture_copy / file, old, new)
    with pytest.raises(ValidationError) as error:
        build_database(fixture_copy, tmp_path / "db.duckdb")
    assert expected in str(error.value)
    assert not (tmp_path / "db.duckdb").exists()


def test_failed_rebuild_keeps_the_previous_database(fixture_copy, tmp_path):
    target = tmp_path / "live.duckdb"
    build_database(fixture_copy, target)
    edit(fixture_copy / "requests.csv", "req-esp-suits,ESP,", "req-esp-suits,ZZZ,")
    with pytest.raises(ValidationError, match="unknown country code"):
        build_database(fixture_copy, target)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM requests").fetchone() == (4,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "live.duckdb"]


def test_missing_source_file_is_named(fixture_copy, tmp_path):
    (fixture_copy / "flights.csv").unlink()
    with pytest.raises(ValidationError, match=r"flights\.csv, line 0, column : source file is missing"):
        build_database(fixture_copy, tmp_path / "db.duckdb")
