"""Issue 13, finding 10: no upload copy outlives its import, and a link full
of unknown values gives one notice."""

import shutil
import subprocess
import sys
import tempfile

import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, imports
from reliefhub.ui import chrome
from tests.test_imports import shipment_rows, write
from tests.test_operations import WHO

CRASH_MID_IMPORT = """
import os, signal, sys
from pathlib import Path
from reliefhub import imports
from reliefhub.auth import cli_identity
from reliefhub.db import Database

def progress(fraction, text):
    if fraction >= 0.25:  # the file is converted and being read: the power goes
        os.kill(os.getpid(), signal.SIGKILL)

imports.import_file(Database(Path(sys.argv[1])), Path(sys.argv[2]), "shipments", who=cli_identity("x"),
                    progress=progress)
"""


@pytest.fixture
def own_temp(tmp_path, monkeypatch):
    """A temporary folder of the test's own, for this process and the ones it starts."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_a_copy_left_by_a_crash_mid_import_is_removed_when_the_dashboard_starts(
    fixture_db_path, tmp_path, own_temp, monkeypatch
):
    db_path = tmp_path / "crash.duckdb"
    shutil.copy(fixture_db_path, db_path)
    rows = [r | {"description": "Respirators to Torrejón"} for r in shipment_rows(200)]
    upload = write(tmp_path / "partner.csv", rows, encoding="windows-1252")
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_MID_IMPORT, str(db_path), str(upload)], cwd=REPO_DIR
    )
    assert crashed.returncode == -9
    assert files_in(own_temp), "the crash should have left the converted copy behind"

    monkeypatch.setenv("RELIEFHUB_DB", str(db_path))
    chrome.remove_stale_upload_copies.clear()
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    app.switch_page("pages/overview.py")
    app.run()
    assert not app.exception
    assert files_in(own_temp) == []


def test_a_copy_is_removed_when_the_import_fails(writable_db, tmp_path, own_temp, monkeypatch):
    def power_cut(*args, **kwargs):
        raise RuntimeError("the import stopped half way")

    monkeypatch.setattr(imports, "_check_and_write", power_cut)
    with pytest.raises(RuntimeError), imports.upload_copy(b"shipment_id\nx\n") as path:
        assert path.exists()
        imports.import_file(writable_db, path, "shipments", who=WHO)
    assert files_in(own_temp) == []


def test_a_copy_of_a_running_import_is_left_alone(own_temp):
    with imports.upload_copy(b"x") as path:
        assert imports.remove_stale_copies() == []
        assert path.exists()


def test_a_link_with_hundreds_of_unknown_values_gives_one_notice(fixture_db_path, tmp_path, monkeypatch):
    path = tmp_path / "wall.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    app.query_params["country"] = [f"X{i:03d}" for i in range(300)]
    app.switch_page("pages/overview.py")
    app.run()
    assert [w.value for w in app.warning] == [
        "Ignored 300 countries from the link that are not in the data: "
        "`X000`, `X001`, `X002`, `X003`, `X004` and 295 more."
    ]
