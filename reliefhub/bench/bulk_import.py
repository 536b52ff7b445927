"""The import part: a validated bulk import, in rows per second."""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from reliefhub import imports
from reliefhub.auth import cli_identity
from reliefhub.bench.measurements import IMPORT_BUDGET_ROWS_S, Measurement
from reliefhub.db import Database
from reliefhub.loader import build_database

HOW = "reliefhub.imports.import_file of the scenario's shipments.csv, validated, one transaction"


def bench_import(
    db_path: Path, sources: Path, scale: int, repeat: int, work: Path, say=print
) -> list[Measurement]:
    """Validated bulk import of a scenario's shipments into the scenario without them: rows per second."""
    runs = []
    for i in range(max(1, min(repeat, 3))):
        db = Database(database_without_shipments(sources, work, scale))
        try:
            started = time.perf_counter()
            report = imports.import_file(
                db, sources / "shipments.csv", "shipments", who=cli_identity("Benchmark")
            )
            seconds = time.perf_counter() - started
        finally:
            db.close()
        if not report.ok:
            problems = [str(p) for p in report.problems[:3]]
            return [
                Measurement(
                    "bulk_import", scale, None, None, note=f"import rejected: {report.summary()} {problems}"
                )
            ]
        runs.append(seconds * 1000)
        say(f"    bulk import run {i + 1}: {report.rows:,} rows in {seconds:.2f} s")
    median = statistics.median(runs)
    rate = report.rows / (median / 1000)
    return [
        Measurement(
            "bulk_import",
            scale,
            median,
            float(np.percentile(runs, 90)),
            value=round(rate),
            unit="rows/s",
            budget=IMPORT_BUDGET_ROWS_S,
            within_budget=rate >= IMPORT_BUDGET_ROWS_S,
            rows=report.rows,
            note=HOW,
        )
    ]


def database_without_shipments(sources: Path, work: Path, scale: int) -> Path:
    """A fresh database of the scenario's sources with its shipments left out (the header kept)."""
    base = work / f"import-base-{scale}"
    if base.exists():
        shutil.rmtree(base)
    shutil.copytree(sources, base)
    with open(sources / "shipments.csv", encoding="utf-8") as full:
        (base / "shipments.csv").write_text(full.readline(), encoding="utf-8")
    target = work / f"import-{scale}.duckdb"
    for suffix in ("", ".wal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    build_database(base, target)
    return target
