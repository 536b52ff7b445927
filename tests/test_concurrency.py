"""Safety: staff saving at once, imports beside them, screens reading meanwhile, and a killed import.

Writers and readers here go through the code staff use: operations (the Record
page), imports (the Import page and the command line) and Database.query (every
page), on one Database per process, as the dashboard opens it.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from reliefhub import REPO_DIR, imports, operations
from reliefhub.db import Database
from tests.conftest import no_filters, staff
from tests.test_imports import shipment_rows, write
from tests.test_operations import BASE, count

AS_OF = date(2020, 4, 30)


def reader_params(i: int) -> dict:
    """Different on every call, so each read asks DuckDB rather than the result cache.
    Every row (no page), as the table queries give it for an export."""
    return no_filters(date_to=date(2030, 1, 1) - timedelta(days=i), limit=None, offset=0)


def test_staff_saving_at_once_lose_nothing_while_screens_read(writable_db):
    db = writable_db
    writers, per_writer = 4, 10
    done = threading.Event()
    reads: list[int] = []

    def write_records(w: int) -> list[str]:
        saved = []
        for i in range(per_writer):
            shipment_id = f"conc-{w}-{i:02d}"
            values = BASE["shipments"] | {
                "shipment_id": shipment_id,
                "status": "in_transit",
                "delivered_on": None,
            }
            added = operations.add_record(db, "shipments", values, who=staff(f"writer {w}"))
            assert (added.ok, added.action) == (True, "add"), added.problems
            moved = operations.change_status(
                db,
                "shipments",
                shipment_id,
                "delivered",
                who=staff(f"writer {w}"),
                dates={"delivered_on": date(2020, 4, 5)},
            )
            assert (moved.ok, moved.action) == (True, "status"), moved.problems
            saved.append(shipment_id)
        return saved

    def read_screens() -> int:
        last, i = 0, 0
        while not done.is_set():
            shipments = db.query("shipments_table", reader_params(i))
            assert len(shipments) >= last  # rows only ever arrive
            last = len(shipments)
            db.query("headline_figures", reader_params(i) | {"as_of": AS_OF})
            i += 1
            time.sleep(0.25)  # a screen refreshes every few seconds; four times a second is plenty here
        return i

    with ThreadPoolExecutor(max_workers=writers + 3) as pool:
        screens = [pool.submit(read_screens) for _ in range(2)]
        writing = [pool.submit(write_records, w) for w in range(writers)]
        saved = [shipment_id for future in writing for shipment_id in future.result()]
        done.set()
        reads = [future.result() for future in screens]

    assert len(saved) == len(set(saved)) == writers * per_writer
    con = db.connection
    assert con.execute(
        "SELECT count(*), count(DISTINCT shipment_id), count(*) FILTER (WHERE status = 'delivered') "
        "FROM shipments WHERE shipment_id LIKE 'conc-%'"
    ).fetchone() == (40, 40, 40)
    assert count(db, "shipments") == 8 + 40
    assert con.execute(
        "SELECT action, count(*), count(DISTINCT record_id), count(DISTINCT change_set) FROM audit_log "
        "GROUP BY action ORDER BY action"
    ).fetchall() == [("add", 40, 40, 40), ("status", 40, 40, 40)]
    assert min(reads) > 0


def test_two_sessions_adding_the_same_new_id_at_once(writable_db):
    start = threading.Barrier(8)

    def add(i: int) -> operations.Change:
        start.wait()
        return operations.add_record(
            writable_db, "places", BASE["places"] | {"name": f"Brno {i}"}, who=staff(f"staff {i}")
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        changes = list(pool.map(add, range(8)))
    assert sorted(c.action or c.problems[0].problem for c in changes) == [
        "a place with this ID already exists"
    ] * 7 + ["add"]
    assert writable_db.connection.execute(
        "SELECT count(*) FROM places WHERE place_id = 'brno'"
    ).fetchone() == (1,)
    assert count(writable_db, "audit_log") == 1


def test_an_import_is_all_or_nothing_to_everyone_meanwhile(writable_db, tmp_path):
    db = writable_db
    rows = 20_000
    path = write(tmp_path / "big.csv", shipment_rows(rows, prefix="imp"))
    importing = threading.Event()
    imported = threading.Event()
    seen: list[tuple[float, int]] = []

    def run_import() -> imports.ImportReport:
        importing.set()
        try:
            return imports.import_file(db, path, "shipments", who=staff("importer"))
        finally:
            imported.set()

    def save_forms(w: int) -> int:
        importing.wait()
        for i in range(20):
            values = BASE["shipments"] | {"shipment_id": f"form-{w}-{i:02d}"}
            assert operations.add_record(db, "shipments", values, who=staff(f"staff {w}")).ok
        return 20

    def read_screens() -> None:
        importing.wait()
        i = 0
        while not imported.is_set() or i < 3:
            frame = db.query("shipments_table", reader_params(i))
            from_file = int(frame["shipment_id"].str.startswith("imp-").sum())
            assert from_file in (0, rows)  # never part of the file
            seen.append((time.perf_counter(), from_file))
            i += 1

    with ThreadPoolExecutor(max_workers=5) as pool:
        screens = [pool.submit(read_screens) for _ in range(2)]
        forms = [pool.submit(save_forms, w) for w in range(2)]
        report = pool.submit(run_import).result()
        assert sum(f.result() for f in forms) == 40
        for future in screens:
            future.result()

    assert (report.ok, report.new) == (True, rows)
    assert count(db, "shipments") == 8 + rows + 40
    assert db.connection.execute("SELECT count(*), count(DISTINCT record_id) FROM audit_log").fetchone() == (
        rows + 40,
        rows + 40,
    )
    # Screens kept reading while the file was being checked and written.
    assert sum(1 for _, from_file in seen if from_file == 0) >= 2


# ---------------------------------------------------------------- other processes


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "reliefhub", *args]


def tables(path: Path) -> dict:
    with duckdb.connect(str(path)) as con:
        return {
            table: sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in ("requests", "flights", "shipments", "places", "audit_log", "meta")
        }


@pytest.mark.parametrize("phase", ["Checking", "Writing"])
def test_a_killed_import_leaves_the_database_as_it_was(fixture_db_path, tmp_path, phase):
    db_path = tmp_path / "killed.duckdb"
    db_path.write_bytes(fixture_db_path.read_bytes())
    rows = 150_000
    path = write(tmp_path / "huge.csv", shipment_rows(rows, prefix="kill"))
    before = tables(db_path)

    process = subprocess.Popen(
        cli("import", str(path), "--kind", "shipments", "--who", "killed", "--db", str(db_path)),
        cwd=REPO_DIR,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    said = []
    for line in process.stderr:
        said.append(line)
        if phase in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, said
    assert not any("Committing" in line for line in said)

    assert tables(db_path) == before
    finished = subprocess.run(
        cli("import", str(path), "--kind", "shipments", "--who", "again", "--db", str(db_path)),
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM shipments").fetchone() == (8 + rows,)
        assert con.execute("SELECT count(*), min(changed_by) FROM audit_log").fetchone() == (rows, "again")


def test_the_command_line_import_fails_fast_while_the_dashboard_has_the_database(fixture_db_path, tmp_path):
    db_path = tmp_path / "busy.duckdb"
    db_path.write_bytes(fixture_db_path.read_bytes())
    path = write(tmp_path / "small.csv", shipment_rows(3))
    dashboard = Database(db_path)  # this process holds the file as the dashboard does
    try:
        started = time.perf_counter()
        result = subprocess.run(
            cli("import", str(path), "--kind", "shipments", "--who", "cli", "--db", str(db_path)),
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ | {"PYTHONWARNINGS": "ignore"},
        )
        assert time.perf_counter() - started < 20
        assert result.returncode == 2
        assert "Is the dashboard running on it?" in result.stderr
        assert "import on the dashboard's Import page" in result.stderr
        assert count(dashboard, "shipments") == 8
    finally:
        dashboard.close()
