"""Issue 13, finding 8: an import that would change existing records lists
each change and writes only when the update is confirmed."""

import subprocess
import sys

from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, imports, operations
from reliefhub.imports import FieldChange
from tests.conftest import sign_in_as
from tests.test_imports import csv_bytes, page_db, snapshot, write  # noqa: F401 - page_db is a fixture
from tests.test_operations import WHO


def masks_changed(db) -> dict:
    """A stored shipment of 10,000 protective suits, as a partner's file would send it back with 1."""
    return operations.current_row(db, "shipments", "shp-suits-esp") | {"quantity": 1, "provider": "Czechia"}


def test_an_import_that_would_change_records_lists_each_change_and_writes_nothing(writable_db, tmp_path):
    before = snapshot(writable_db)
    path = write(tmp_path / "partner.csv", [masks_changed(writable_db)])
    report = imports.import_file(writable_db, path, "shipments", who=WHO)
    assert (report.written, report.held_for_confirmation, report.updated) == (False, True, 1)
    assert report.changes == [
        FieldChange(2, "shp-suits-esp", "provider", "Czech Republic", "Czechia"),
        FieldChange(2, "shp-suits-esp", "quantity", "10000", "1"),
    ]
    assert report.summary().startswith("Held back partner.csv: it would change 1 existing shipments")
    assert snapshot(writable_db) == before


def test_a_confirmed_update_is_written_and_audited(writable_db, tmp_path):
    path = write(tmp_path / "partner.csv", [masks_changed(writable_db)])
    report = imports.import_file(writable_db, path, "shipments", who=WHO, update=True)
    assert (report.written, report.updated, report.changes_total) == (True, 1, 2)
    assert operations.current_row(writable_db, "shipments", "shp-suits-esp")["quantity"] == 1.0


def test_new_rows_alone_need_no_confirmation(writable_db, tmp_path):
    row = operations.current_row(writable_db, "shipments", "shp-suits-esp") | {"shipment_id": "shp-brand-new"}
    report = imports.import_file(writable_db, write(tmp_path / "new.csv", [row]), "shipments", who=WHO)
    assert (report.written, report.new, report.changes) == (True, 1, [])


def test_the_command_line_holds_back_an_update_without_update(writable_db, tmp_path):
    path = write(tmp_path / "partner.csv", [masks_changed(writable_db)])
    db_path = str(writable_db.path)
    writable_db.close()
    command = [
        sys.executable,
        "-m",
        "reliefhub",
        "import",
        str(path),
        "--kind",
        "shipments",
        "--who",
        WHO.name,
    ]
    held = subprocess.run([*command, "--db", db_path], capture_output=True, text=True, cwd=REPO_DIR)
    assert held.returncode == 3
    assert "line 2, shp-suits-esp, quantity: '10000' → '1'" in held.stderr
    done = subprocess.run(
        [*command, "--db", db_path, "--update"], capture_output=True, text=True, cwd=REPO_DIR
    )
    assert done.returncode == 0, done.stderr
    assert "1 updated" in done.stdout


def test_the_import_page_asks_before_updating(page_db):  # noqa: F811
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    app.switch_page("app_pages/import.py")
    app.run()
    sign_in_as(app, "staff")
    app.run()
    app.radio(key="import_kind").set_value("shipments")
    upload = csv_bytes([masks_changed(page_db)])
    app.file_uploader(key="import_file").set_value(("partner.csv", upload, "text/csv"))
    app.run()
    app.button(key="import_go").click().run()
    assert not app.exception
    assert app.warning[0].value.startswith("Held back partner.csv")
    changes = app.dataframe[0].value
    assert changes[["field", "before", "after"]].values.tolist() == [
        ["provider", "Czech Republic", "Czechia"],
        ["quantity", "10000", "1"],
    ]
    assert operations.current_row(page_db, "shipments", "shp-suits-esp")["quantity"] == 10000.0
    app.checkbox(key="import_update").check().run()
    app.button(key="import_go").click().run()
    assert app.success[0].value.startswith("Imported partner.csv: 1 shipments (0 new, 1 updated")
    assert operations.current_row(page_db, "shipments", "shp-suits-esp")["quantity"] == 1.0
