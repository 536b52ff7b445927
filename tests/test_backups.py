"""Issue 13, finding 2: no command and no fault loses the staff's changes.

build-db keeps them, a running dashboard never builds over a file that held
them, backups are consistent and verified even while the dashboard runs, and a
damaged file is found and stops every write."""

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from reliefhub import backups, faults, operations
from reliefhub import db as dbmodule
from reliefhub.__main__ import main
from reliefhub.db import Database
from tests.conftest import new_request
from tests.test_operations import WHO


@pytest.fixture
def live(fixture_db_path, tmp_path, monkeypatch):
    """A database that staff have written to, with its own backup folder."""
    path = tmp_path / "live.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_BACKUPS", str(tmp_path / "backups"))
    db = Database(path)
    assert operations.add_record(db, "requests", new_request("req-staff", "ITA"), who=WHO).ok
    db.close()
    return path


def requests_in(path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT request_id FROM requests").fetchall()}


def audit_count(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def test_build_db_refuses_to_replace_saved_changes(live, capsys):
    assert main(["build-db", "--db", str(live)]) == 1
    assert "holds changes" in capsys.readouterr().err
    assert "req-staff" in requests_in(live)
    assert backups.backups(live) == []


def test_build_db_with_force_keeps_a_backup_first(live, capsys):
    assert main(["build-db", "--db", str(live), "--force"]) == 0
    assert "req-staff" not in requests_in(live)
    [kept] = backups.backups(live)
    assert "req-staff" in requests_in(kept) and audit_count(kept) == 1
    assert str(kept) in capsys.readouterr().out


def test_build_db_over_an_untouched_database_needs_no_force(fixture_db_path, tmp_path):
    path = tmp_path / "built.duckdb"
    shutil.copy(fixture_db_path, path)
    assert main(["build-db", "--db", str(path)]) == 0


def test_the_dashboard_never_builds_over_a_missing_file_that_held_changes(live, monkeypatch):
    monkeypatch.setenv("RELIEFHUB_DB", str(live))
    monkeypatch.setattr(dbmodule, "_shared", None)
    db = dbmodule.shared_database()
    assert operations.add_record(db, "requests", new_request("req-more", "ITA"), who=WHO).ok
    live.unlink()
    live.with_name(live.name + ".wal").unlink(missing_ok=True)
    with pytest.raises(faults.DatabaseFault, match="missing"):
        dbmodule.shared_database()
    assert not live.exists()
    with pytest.raises(faults.DatabaseFault, match="missing"):
        operations.add_record(db, "requests", new_request("req-lost", "ITA"), who=WHO)
    db.close()
    monkeypatch.setattr(dbmodule, "_shared", None)


def test_a_fresh_start_never_builds_over_a_missing_file_beside_its_wal(tmp_path):
    path = tmp_path / "gone.duckdb"
    path.with_name(path.name + ".wal").write_bytes(b"changes")
    with pytest.raises(faults.DatabaseFault, match="missing"):
        dbmodule.ensure_database(path)
    assert not path.exists()


def test_a_fresh_start_never_builds_over_a_missing_file_that_has_backups(live):
    db = Database(live)
    db.backup()
    db.close()
    live.unlink()
    with pytest.raises(faults.DatabaseFault, match="latest backup"):
        dbmodule.ensure_database(live)


def hold_as_dashboard(path, tmp_path):
    """Another process holding the database as the dashboard does, its backup keeper running."""
    script = "import sys; from reliefhub import db; db.shared_database(); print('ready', flush=True); "
    script += "sys.stdin.read()"
    env = os.environ | {"RELIEFHUB_DB": str(path), "RELIEFHUB_BACKUPS": str(tmp_path / "backups")}
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def test_a_backup_while_the_dashboard_runs_then_a_restore(live, tmp_path, capsys):
    holder = hold_as_dashboard(live, tmp_path)
    try:
        assert main(["backup", "--db", str(live), "--wait", "30"]) == 0
    finally:
        holder.communicate("")
    [made] = backups.backups(live)
    assert str(made) in capsys.readouterr().out
    target = tmp_path / "restored.duckdb"
    assert main(["restore", str(made), "--db", str(target)]) == 0
    assert "req-staff" in requests_in(target) and audit_count(target) == 1


def answer_when_asked(db_path, outcome: str) -> threading.Thread:
    """A stand-in for the dashboard's backup thread that answers the first request with outcome."""

    def answer():
        while not (asked := backups.pending_requests(db_path)):
            time.sleep(0.01)
        backups.answer(asked[0], outcome)

    answerer = threading.Thread(target=answer, daemon=True)
    answerer.start()
    return answerer


def test_a_dashboard_that_cannot_back_up_says_why_rather_than_seeming_absent(live):
    answerer = answer_when_asked(live, "backup failed: no space left on the disk")
    with pytest.raises(backups.BackupFailed, match="no space left on the disk"):
        backups.request(live, wait_seconds=10)
    answerer.join()
    assert not list(live.parent.glob("*.backup-*")), "no request or answer file is left behind"


def test_the_dashboards_answer_names_the_backup_it_made(live):
    made = str(live.parent / "backups" / "made.duckdb")
    answerer = answer_when_asked(live, made)
    assert backups.request(live, wait_seconds=10) == Path(made)
    answerer.join()
    assert not list(live.parent.glob("*.backup-*"))


def test_a_restore_keeps_the_file_it_replaces(live, tmp_path, fixture_db_path):
    older = tmp_path / "older.duckdb"
    shutil.copy(fixture_db_path, older)
    assert main(["restore", str(older), "--db", str(live)]) == 0
    assert "req-staff" not in requests_in(live)
    [kept] = backups.backups(live)
    assert "req-staff" in requests_in(kept)


def test_restore_refuses_while_the_dashboard_holds_the_file(live, tmp_path, fixture_db_path, capsys):
    holder = hold_as_dashboard(live, tmp_path)
    try:
        assert main(["restore", str(fixture_db_path), "--db", str(live)]) == 1
    finally:
        holder.communicate("")
    assert "open in another program" in capsys.readouterr().err
    assert "req-staff" in requests_in(live)


def damage(path) -> None:
    """Random bytes over everything after the file's headers."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(300_000)
        f.write(os.urandom(size - 300_000))


def test_a_damaged_file_is_found_and_stops_every_write(live):
    db = Database(live)
    good = db.backup()
    damage(live)
    with pytest.raises(faults.DatabaseFault, match="damaged"):
        db.backup()
    assert str(good) in db.fault
    with pytest.raises(faults.DatabaseFault, match=str(good)):
        operations.add_record(db, "requests", new_request("req-after", "ITA"), who=WHO)
    db.close()
    with pytest.raises(faults.DatabaseFault, match="damaged"):
        Database(live)


def test_the_dashboard_checks_its_file_on_a_schedule(live, monkeypatch):
    monkeypatch.setenv("RELIEFHUB_DB", str(live))
    monkeypatch.setenv("RELIEFHUB_BACKUP_MINUTES", str(1 / 60))
    monkeypatch.setattr(dbmodule, "_shared", None)
    db = dbmodule.shared_database()
    deadline = time.monotonic() + 20
    while not backups.backups(live) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert backups.backups(live)
    damage(live)
    while db.fault is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "damaged" in db.fault
    monkeypatch.setattr(dbmodule, "_shared", None)
    db.close()


def test_build_db_sets_a_damaged_file_aside_only_with_force(live, capsys):
    damage(live)
    assert main(["build-db", "--db", str(live)]) == 1
    assert "Give --force" in capsys.readouterr().err
    assert main(["build-db", "--db", str(live), "--force"]) == 0
    assert [p.name for p in live.parent.glob("live.duckdb.damaged-*")]
    assert "req-staff" not in requests_in(live)
