"""The query part: each query module through DuckDB, beside the pandas way."""

from __future__ import annotations

import time
from pathlib import Path

from reliefhub.bench.cases import QueryCase, query_cases
from reliefhub.bench.measurements import (
    BUDGET_SCALE,
    NO_BASELINE,
    QUERY_BUDGET_MS,
    SAME_ANSWER,
    Measurement,
    long_lived_left_out,
    timed,
)
from reliefhub.bench.pandas_way import PandasWay, first_difference
from reliefhub.db import Database


def bench_queries(db_path: Path, scale: int, repeat: int, say=print) -> list[Measurement]:
    """Every registered query case through DuckDB, beside the pandas way when it gives the same answer."""
    db = Database(db_path, cache_bytes=0)  # no result cache: every call reaches DuckDB
    try:
        say(f"  loading the pandas way ({scale:,}) ...")
        started = time.perf_counter()
        way = PandasWay(db.connection.cursor())
        say(f"  pandas tables loaded in {time.perf_counter() - started:.1f} s")
        base_repeat = max(3, repeat // 2) if scale >= BUDGET_SCALE else repeat
        out = []
        with long_lived_left_out():
            for case in query_cases(db):
                out.append(m := bench_query(db, way, case, scale, repeat, base_repeat))
                beside = "" if m.baseline_median_ms is None else f"  pandas {m.baseline_median_ms:9.1f} ms"
                say(f"    {m.name:<44} {m.median_ms:9.1f} ms{beside}  baseline: {m.baseline}")
        return out
    finally:
        db.close()


def bench_query(db: Database, way: PandasWay, case: QueryCase, scale: int, repeat: int, base_repeat: int):
    """One case: timed through DuckDB; pandas' answer compared value by value, and timed when the same.
    The answers read for the comparison are each way's warm-up run."""
    name, scenario, params = case
    ours = db.query(name, params)
    theirs = way.answer(name, params)
    baseline = NO_BASELINE if theirs is None else (first_difference(ours, theirs) or SAME_ANSWER)
    timing = timed(lambda: db.query(name, params), repeat, warmup=0)
    beside = None
    if baseline == SAME_ANSWER:
        beside = timed(lambda: way.answer(name, params), base_repeat, warmup=0).median_ms
    return Measurement(
        f"query:{name}[{scenario}]",
        scale,
        timing.median_ms,
        timing.p90_ms,
        beside,
        rows=len(ours),
        budget=QUERY_BUDGET_MS,
        baseline=baseline if baseline in (SAME_ANSWER, NO_BASELINE) else f"differs: {baseline}",
    )
