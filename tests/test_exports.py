"""CSV exports: every filtered row, readable by Excel, pandas and csv, and inert in a spreadsheet."""

import csv
import io
from datetime import date, datetime

import pandas as pd

from reliefhub import REPO_DIR, exports
from reliefhub.__main__ import main
from tests.conftest import no_filters


def test_round_trip_through_pandas_and_csv_gives_the_query_rows(fixture_db):
    frame = exports.export_rows(fixture_db, "shipments", no_filters())
    data = exports.to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")

    parsed = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(parsed.columns) == list(frame.columns)
    assert len(parsed) == len(frame) == 8
    assert parsed["quantity"].tolist() == frame["quantity"].tolist()
    assert parsed["delivered_on"].fillna("").tolist() == [
        "" if pd.isna(d) else d.strftime("%Y-%m-%d") for d in frame["delivered_on"]
    ]
    assert parsed.loc[parsed.shipment_id == "shp-suits-ita", "origin_name"].item() == "Opočínek"

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(frame.columns)
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_id["shp-suits-esp"]["destination_name"] == "Torrejón Air Base"
    assert by_id["shp-suits-esp"]["quantity"] == "10000"
    assert by_id["shp-suits-esp"]["dispatched_on"] == ""
    assert by_id["shp-suits-esp"]["delivered_on"] == "2020-03-29"
    assert by_id["shp-suits-esp"]["recipient_iso3"] == "ESP"


def test_formula_cells_are_neutralised_but_negative_numbers_are_not():
    frame = pd.DataFrame(
        {
            "text": ['=HYPERLINK("http://x")', "+44 20 7946", "-2+3", "@SUM(A1)", "\tcmd", "plain", "-12.5"],
            "number": [-5.0, 1.5, 10000.0, None, 0.0, 3.0, -0.25],
        }
    )
    rows = list(csv.reader(io.StringIO(exports.to_csv_bytes(frame).decode("utf-8-sig"))))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://x")', "-5"],
        ["'+44 20 7946", "1.5"],
        ["'-2+3", "10000"],
        ["'@SUM(A1)", ""],
        ["'\tcmd", "0"],
        ["plain", "3"],
        ["-12.5", "-0.25"],
    ]


def test_empty_result_gives_a_header_only_file(fixture_db):
    frame = exports.export_rows(fixture_db, "shipments", no_filters(countries=["XXX"]))
    assert exports.to_csv_bytes(frame).decode("utf-8-sig").splitlines() == [",".join(frame.columns)]


def test_hxl_row_is_optional(fixture_db):
    frame = exports.export_rows(fixture_db, "flights", no_filters())
    lines = exports.to_csv_bytes(frame, hxl=True).decode("utf-8-sig").splitlines()
    assert lines[1].startswith("#meta+id+flight,#loc+code+origin,#loc+name+origin,#country+code+origin,")
    assert exports.to_csv_bytes(frame).decode("utf-8-sig").splitlines()[1].startswith("flt-a310,")


def test_file_name_says_what_and_when():
    name = exports.file_name("shipments", "ITA", datetime(2026, 11, 30, 14, 2))
    assert name == "relief-hub_shipments_ITA_2026-11-30T1402.csv"


def test_command_line_export_is_byte_identical_to_the_page_bytes(fixture_db_path, fixture_db, tmp_path):
    out = tmp_path / "ita.csv"
    code = main(["export", "shipments", "--db", str(fixture_db_path), "--country", "ITA", "--out", str(out)])
    assert code == 0
    page_bytes = exports.to_csv_bytes(
        exports.export_rows(fixture_db, "shipments", no_filters(countries=["ITA"]))
    )
    assert out.read_bytes() == page_bytes


def test_command_line_export_of_open_requests_as_of_a_day(fixture_db_path, tmp_path):
    out = tmp_path / "open.csv"
    args = [
        "export",
        "open_requests",
        "--db",
        str(fixture_db_path),
        "--as-of",
        "2020-04-01",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert pd.read_csv(out, encoding="utf-8-sig")["request_id"].tolist() == [
        "req-esp-suits",
        "req-esp-ventilators",
        "req-fra-patients",
        "req-ita-respirators",
    ]


def test_command_line_export_rejects_unknown_codes(fixture_db_path, tmp_path, capsys):
    code = main(
        ["export", "flights", "--db", str(fixture_db_path), "--country", "XXX", "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "Unknown country or material code(s): XXX" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_export_columns_are_the_ones_the_readme_documents(fixture_db):
    readme = (REPO_DIR / "README.md").read_text()
    params = no_filters(as_of=date(2020, 4, 1))
    for export in exports.EXPORTABLE:
        columns = ", ".join(exports.export_rows(fixture_db, export, params).columns)
        assert f"| {export} | `{columns}` |" in readme
        assert "matching_rows" not in columns


def test_an_export_is_every_row_whatever_page_is_shown(fixture_db):
    params = no_filters(as_of=date(2020, 4, 1))
    for export, query in exports.EXPORT_QUERIES.items():
        everything = exports.export_rows(fixture_db, export, params)
        pages = [
            exports.without_paging(fixture_db.query(query, params | {"limit": 3, "offset": offset}))
            for offset in range(0, len(everything), 3)
        ]
        assert len(everything) == {"requests": 4, "shipments": 8, "flights": 6, "open_requests": 4}[export]
        assert pd.concat(pages, ignore_index=True).equals(everything), export


def test_unknown_whole_numbers_and_timestamps_are_written_plainly():
    frame = pd.DataFrame(
        {
            "patients": pd.array([2, None], dtype="Int64"),
            "changed_at": pd.to_datetime(["2026-11-30T14:02:05Z", None], utc=True),
        }
    )
    rows = list(csv.reader(io.StringIO(exports.to_csv_bytes(frame).decode("utf-8-sig"))))
    assert rows[1:] == [["2", "2026-11-30T14:02:05+00:00"], ["", ""]]
