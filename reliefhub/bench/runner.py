"""The run: every part at every scale, each scale in a process of its own, and the command line."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from reliefhub import REPO_DIR, generate
from reliefhub.bench.bulk_import import bench_import
from reliefhub.bench.cases import scenarios
from reliefhub.bench.databases import CACHE_DIR, cached_database, working_copy
from reliefhub.bench.form_save import bench_form_save
from reliefhub.bench.map_payload import bench_map_payload
from reliefhub.bench.measurements import (
    BUDGET_SCALE,
    IMPORT_BUDGET_ROWS_S,
    MEMORY_BUDGET_MB,
    PAGE_BUDGET_MS,
    PANDAS_RATIO,
    PAYLOAD_BUDGET_BYTES,
    QUERY_BUDGET_MS,
    SAVE_BUDGET_MS,
    Measurement,
    judge,
)
from reliefhub.bench.pages import bench_pages
from reliefhub.bench.queries import bench_queries
from reliefhub.bench.report import machine, table
from reliefhub.bench.server import bench_server
from reliefhub.db import Database

DEFAULT_SCALES = (10_000, 100_000, 1_000_000)


def run(
    scales=DEFAULT_SCALES,
    *,
    repeat: int = 10,
    seed: int = generate.DEFAULT_SEED,
    cache_dir: Path = CACHE_DIR,
    parts: tuple[str, ...] = ("queries", "pages", "payload", "import", "save", "server"),
    say=print,
    quick: bool = False,
    load=None,
) -> list[Measurement]:
    """Measure every part at every scale. quick (for the test suite): pages
    without filters only, and the server measured on the overview alone.
    load: the sessions.SessionLoad of the sessions part (its defaults if None)."""
    results: list[Measurement] = []
    work = Path(cache_dir) / "work"
    for scale in scales:
        say(f"scale {scale:,}")
        cached, sources = cached_database(scale, seed, cache_dir, say)
        db_path = working_copy(cached, work, f"bench-{scale}.duckdb")
        probe = Database(db_path, cache_bytes=0)
        probe.refresh()  # a database cached by older code has older models
        scenario_params = scenarios(probe)
        probe.close()
        if "queries" in parts:
            results += bench_queries(db_path, scale, repeat, say)
        if "payload" in parts:
            results += bench_map_payload(db_path, scale, repeat)
        if "pages" in parts:
            results += bench_pages(db_path, scale, repeat, scenario_params, say, filtered=not quick)
        if "import" in parts:
            results += bench_import(db_path, sources, scale, repeat, work, say)
        if "save" in parts:
            results += bench_form_save(db_path, scale, repeat, work, say)
        if "server" in parts:
            results += bench_server(db_path, scale, say, every_page=not quick)
        if "sessions" in parts:
            from reliefhub.bench import sessions as bench_sessions

            results += bench_sessions.bench_sessions(
                db_path, scale, load or bench_sessions.SessionLoad(), say
            )
        gc.collect()
    return [judge(m) for m in results]


def main(args) -> int:
    from reliefhub.bench import sessions as bench_sessions

    scales = tuple(int(s.replace("_", "")) for s in args.scales.split(",") if s.strip())
    parts = tuple(p for p in args.parts.split(",") if p)
    try:
        load = bench_sessions.load_from(args)
    except ValueError as error:
        raise SystemExit(f"bench: {error}") from None
    if getattr(args, "db", None):
        if parts != ("sessions",):
            raise SystemExit("bench: --db is for --parts sessions alone; the other parts build their own")
        results = bench_sessions.on_database(Path(args.db), Path(args.cache), load)
    elif len(scales) > 1:
        results = [m for scale in scales for m in measure_apart(scale, args)]
    else:
        results = run(
            scales, repeat=args.repeat, seed=args.seed, cache_dir=Path(args.cache), parts=parts, load=load
        )
    if getattr(args, "measurements_to", None):  # a scale measured apart: hand the figures back
        Path(args.measurements_to).write_text(json.dumps([asdict(m) for m in results], default=str))
        return 0
    one_person = [m for m in results if m.failures is None]
    many_at_once = [m for m in results if m.failures is not None]
    print()
    repeated = f"; median of {args.repeat} runs after a warm-up" if one_person else ""
    print(f"Relief Hub benchmark on {machine()}{repeated}.")
    if one_person:
        print(
            f"Budgets at {BUDGET_SCALE:,}: query < {QUERY_BUDGET_MS:.0f} ms "
            f"and ≥ {PANDAS_RATIO:.0f}× pandas; page rerun < {PAGE_BUDGET_MS:.0f} ms; "
            f"map payload < {PAYLOAD_BUDGET_BYTES // 1000} kB (every scale); "
            f"server < {MEMORY_BUDGET_MB / 1024:.1f} GB; import ≥ {IMPORT_BUDGET_ROWS_S:,.0f} rows/s; "
            f"form save < {SAVE_BUDGET_MS:.0f} ms."
        )
        print(table(one_person))
    if many_at_once:
        print(f"\nMany sessions at once, beside the floor app ({bench_sessions.describe(load)}):")
        print(bench_sessions.table(many_at_once))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps([m.as_json() | {"machine": machine()} for m in results], indent=1, default=str)
        )
        print(f"\nWrote {len(results)} measurements to {args.json}")
    return 0


def measure_apart(scale: int, args) -> list[Measurement]:
    """Measure one scale in a Python process of its own, so that its figures do
    not depend on what ran before it: after the smaller scales in the same
    process (their pandas tables freed, Streamlit loaded, a larger heap for
    every garbage collection) the map's arcs measured slower (docs/benchmark.md)."""
    from reliefhub.bench import sessions as bench_sessions

    with tempfile.TemporaryDirectory(prefix="reliefhub-bench-") as folder:
        handed_back = Path(folder) / "measurements.json"
        command = [
            sys.executable, "-m", "reliefhub", "bench", "--scales", str(scale), "--repeat", str(args.repeat),
            "--seed", str(args.seed), "--cache", str(Path(args.cache).resolve()), "--parts", args.parts,
            "--measurements-to", str(handed_back), *bench_sessions.command_line(args),
        ]  # fmt: skip
        subprocess.run(command, check=True, cwd=REPO_DIR)
        return [Measurement(**row) for row in json.loads(handed_back.read_text())]
