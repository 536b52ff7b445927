"""What a measurement holds, how runs are timed, and the budgets each is judged by."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np

# Budgets at 1,000,000 shipments (the map payload's at every scale).
BUDGET_SCALE = 1_000_000
QUERY_BUDGET_MS = 50.0
PAGE_BUDGET_MS = 300.0
PANDAS_RATIO = 3.0
PAYLOAD_BUDGET_BYTES = 300_000
MEMORY_BUDGET_MB = 1536.0
IMPORT_BUDGET_ROWS_S = 200_000.0
SAVE_BUDGET_MS = 500.0

# What a measurement judged beside pandas says of its baseline (Measurement.baseline).
SAME_ANSWER = "same answer"
NO_BASELINE = "missing"


@dataclass
class Measurement:
    name: str
    scale: int
    median_ms: float | None
    p90_ms: float | None
    baseline_median_ms: float | None = None
    value: float | None = None
    unit: str | None = None
    budget: float | None = None
    within_budget: bool | None = None
    rows: int | None = None
    note: str | None = None
    p95_ms: float | None = None
    failures: int | None = None
    # Beside pandas: SAME_ANSWER, NO_BASELINE, or how pandas' answer differs; None when not compared.
    baseline: str | None = None
    # Several servers behind a proxy: reruns counted per server (host:port).
    served_by: dict[str, int] | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline_median_ms is None or not self.median_ms:
            return None
        return self.baseline_median_ms / self.median_ms

    def as_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.ratio is not None:
            out["baseline_ratio"] = round(self.ratio, 2)
        return out


@dataclass
class Timing:
    median_ms: float
    p90_ms: float
    runs: list[float] = field(repr=False)


@contextmanager
def long_lived_left_out() -> Iterator[None]:
    """Leave what exists now (the databases, the pandas way's tables, the modules loaded) out of the
    collections `timed` makes before each run: they are not the runs' garbage, and a full
    collection walks every one of them each time."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def timed(run: Callable[[], object], repeat: int, warmup: int = 1, before: Callable | None = None) -> Timing:
    """Median and 90th percentile of `repeat` runs after `warmup` unmeasured ones; the garbage of
    earlier runs is collected before each, so that no run is timed with a collection of it."""
    for _ in range(warmup):
        if before:
            before()
        run()
    runs = []
    for _ in range(max(1, repeat)):
        if before:
            before()
        gc.collect()
        started = time.perf_counter()
        run()
        runs.append((time.perf_counter() - started) * 1000)
    return Timing(statistics.median(runs), float(np.percentile(runs, 90)), runs)


def judge(m: Measurement) -> Measurement:
    """Mark time budgets (at the budget scale) and the pandas ratio. A figure meant to stand beside
    pandas whose baseline is missing or answers another question is not judged on its ratio: it
    stays unjudged (unless over time), and its verdict says why."""
    timed_budget = m.budget is not None and m.median_ms is not None and m.unit is None
    if m.within_budget is None and timed_budget and m.scale >= BUDGET_SCALE:
        in_time = m.median_ms < m.budget
        if m.baseline in (None, SAME_ANSWER):
            m.within_budget = in_time and (m.ratio is None or m.ratio >= PANDAS_RATIO)
        elif not in_time:
            m.within_budget = False
    return m


def verdict(m: Measurement) -> str:
    """The budget column: ok, MISSED, or why a figure beside pandas could not be judged."""
    if m.within_budget is False:
        return "MISSED"
    if m.baseline == NO_BASELINE:
        return "NO BASELINE"
    if m.baseline not in (None, SAME_ANSWER):
        return "PANDAS DIFFERS"
    return {True: "ok", None: ""}[m.within_budget]
