"""The run's figures as text: the machine, aligned tables."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import duckdb
import pandas as pd

from reliefhub.bench.measurements import SAME_ANSWER, Measurement, verdict


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}"
    )


def text_table(columns: list[tuple[str, str]], rows: list[tuple[list[str], str | None]]) -> str:
    """Aligned text: columns as (title, alignment and width such as "<46"), rows as (cells, a note
    written after the last column or None)."""
    header = " ".join(f"{title:{spec}}" for title, spec in columns)
    lines = [header, "-" * len(header)]
    for cells, note in rows:
        line = " ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(cells, columns, strict=True))
        lines.append(line + (f"  {note}" if note else ""))
    return "\n".join(lines)


def ms(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table(results: list[Measurement]) -> str:
    """The readable table: one line per measurement."""
    columns = [("measurement", "<46"), ("scale", ">9"), ("median ms", ">10"), ("p90 ms", ">9")]
    columns += [("pandas ms", ">10"), ("× faster", ">8"), ("value", ">14"), ("budget", ">14")]
    rows = []
    for m in results:
        value = "" if m.value is None else f"{m.value:,.0f} {m.unit or ''}".strip()
        ratio = "" if m.ratio is None else f"{m.ratio:.1f}"
        cells = [m.name, f"{m.scale:,}", ms(m.median_ms), ms(m.p90_ms), ms(m.baseline_median_ms), ratio]
        note = m.note if m.median_ms is None else None
        if m.baseline not in (None, SAME_ANSWER):
            note = f"pandas baseline: {m.baseline}"
        rows.append(([*cells, value, verdict(m)], note))
    return text_table(columns, rows)
