"""The form-save part: one staff member's save, checked, written, audited and
the stored models caught up, in one transaction (what a replica of the shared
store also runs for every change it applies)."""

from __future__ import annotations

import itertools
from pathlib import Path

from reliefhub import operations
from reliefhub.auth import Identity
from reliefhub.bench.databases import working_copy
from reliefhub.bench.measurements import SAVE_BUDGET_MS, Measurement, timed
from reliefhub.db import Database

STAFF = Identity("bench:staff", "Benchmark staff", "staff")
WARMUPS = 2
HOW = {
    "status": "operations.change_status of an in-transit shipment to cancelled",
    "new request": "operations.add_record of a new request",
}


def bench_form_save(db_path: Path, scale: int, repeat: int, work: Path, say=print) -> list[Measurement]:
    """Median save time of each kind of save, each run saving another record, on a copy of the database."""
    db = Database(working_copy(db_path, work, f"save-{scale}.duckdb"), cache_bytes=0)
    try:
        db.refresh()
        saves = save_kinds(db, WARMUPS + max(1, repeat))
        results = []
        for kind, save in saves.items():
            timing = timed(save, repeat, warmup=WARMUPS)
            say(f"    form save [{kind}]: median {timing.median_ms:.0f} ms")
            results.append(
                Measurement(
                    f"form_save[{kind}]",
                    scale,
                    timing.median_ms,
                    timing.p90_ms,
                    budget=SAVE_BUDGET_MS,
                    note=f"{HOW[kind]}, {WARMUPS} warm-ups",
                )
            )
        return results
    finally:
        db.close()


def save_kinds(db: Database, runs: int) -> dict:
    """A save of each kind, each call saving a record no earlier call saved."""
    cur = db.connection.cursor()
    in_transit = iter(
        shipment_id
        for (shipment_id,) in cur.execute(
            "SELECT shipment_id FROM shipments WHERE status = 'in_transit' ORDER BY shipment_id LIMIT $n",
            {"n": runs},
        ).fetchall()
    )
    country, material = cur.execute(
        "SELECT min(iso3), (SELECT min(material_code) FROM materials) FROM countries"
    ).fetchone()
    numbers = itertools.count(1)

    def cancel() -> None:
        saved(operations.change_status(db, "shipments", next(in_transit), "cancelled", who=STAFF))

    def new_request() -> None:
        values = {
            "request_id": f"req-bench-{next(numbers)}", "requester_iso3": country, "channel": "eadrcc",
            "material_code": material, "quantity": "100", "description": "Benchmark request",
            "requested_on": "2020-04-01", "date_precision": "day", "status": "open",
            "source_urls": "https://example.org/bench", "source_note": "benchmark",
        }  # fmt: skip
        saved(operations.add_record(db, "requests", values, who=STAFF))

    return {"status": cancel, "new request": new_request}


def saved(change: operations.Change) -> None:
    if not change.ok:
        raise RuntimeError(f"the benchmark's save was refused: {change.problems}")
