"""The shared store's benchmark, on a throwaway local PostgreSQL:

    python -m reliefhub.store.measure --scale 100000 [--writes 100] [--every 0.2] [--source FILE]
        [--parts embedded,lag,pages,import]

Always:
- `store init` of a synthetic database of `--scale` shipments (or a copy of
  `--source`) into an empty store;
- filling a new server's replica (A) from it (and a second, B, for the lag).
Then the `--parts` asked for, in this order:
- embedded: the median form save on the embedded file, beside which the lag is read;
- lag: another process saves `--writes` requests through the form's write
  path on replica A, one every `--every` seconds, while replica B follows the
  store; each change's lag is the time from the writer's return from the save
  (the store commits just before the replica does) to B holding it. Median
  and 99th percentile; then whether both replicas pass `check` (every model
  equals its definition);
- profile: replica B applying one form save made on replica A, profiled:
  seconds in follow_store, in reading and applying the change's rows, in the
  model refresh, and in looking at the sign-in tables;
- pages: the benchmark's page reruns (reliefhub/bench/pages.py) on replica A,
  a server following the store, and on the embedded file, in the same run;
- import: a file of as many new shipments as the database holds (its own,
  under new IDs) imported on replica A into the store, in rows per second.

Each step's wall-clock seconds come with this process's CPU seconds and the
PostgreSQL server's (its main process and every backend).
Prints one JSON object. Figures go in docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from reliefhub import imports, models, operations
from reliefhub.auth import Identity, cli_identity
from reliefhub.store import init, replica
from reliefhub.store.local_server import PostgresServer

WRITER = Identity("bench:writer", "Benchmark writer", "staff")


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def write_steadily(db_path: Path, writes: int, every: float) -> None:
    """The writer process: a request saved every `every` s; prints each change id and when it returned."""
    from reliefhub.db import open_database_at

    db = open_database_at(db_path)
    for n in range(writes):
        started = time.time()
        change = operations.add_record(db, "requests", request(f"{os.getpid()}-{n}"), who=WRITER)
        if not change.ok:
            raise SystemExit(f"the writer's save was refused: {change.problems}")
        print(models.last_change(db.connection.cursor()), time.time(), flush=True)
        time.sleep(max(0.0, every - (time.time() - started)))
    db.close()


def replica_lag(url: str, writer_db: Path, follower_db: Path, writes: int, every: float) -> list[float]:
    """Seconds from each write's return on one server to the other server holding it."""
    from reliefhub.db import open_database_at

    follower = open_database_at(follower_db)
    follower.following = replica.start_following(follower)
    seen: dict[int, float] = {}
    done = threading.Event()

    def watch() -> None:
        cursor = follower.connection.cursor()
        while not done.is_set():
            position = models.last_change(cursor)
            now = time.time()
            seen.setdefault(position, now)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    command = [sys.executable, "-m", "reliefhub.store.measure", "--write", str(writer_db)]
    command += ["--writes", str(writes), "--every", str(every)]
    written = subprocess.run(
        command, env=os.environ | {"RELIEFHUB_STORE": url}, capture_output=True, text=True, check=True
    )
    time.sleep(2.0)  # the last change's way over
    done.set()
    watcher.join()
    follower.close()
    lags = []
    for line in written.stdout.split("\n"):
        if line.strip():
            change, returned = line.split()
            shown = min((at for position, at in seen.items() if position >= int(change)), default=None)
            lags.append(float("inf") if shown is None else max(0.0, shown - float(returned)))
    return lags


def embedded_saves(source: Path, copy: Path, saves: int = 5) -> float:
    """The median time of a form save on the embedded file, beside which the lag is read:
    a replica applies a change through the same model refresh."""
    from reliefhub.db import Database

    shutil.copy(source, copy)
    db = Database(copy)
    times = [
        timed(lambda n=n: operations.add_record(db, "requests", request(f"embedded-{n}"), who=WRITER))
        for n in range(saves)
    ]
    db.close()
    return round(float(np.median(times)), 3)


def request(request_id: str) -> dict:
    return {
        "requester_iso3": "ITA", "channel": "eadrcc", "material_code": "ventilators", "quantity": "1",
        "quantity_precision": "exact", "description": "Benchmark", "requested_on": "2020-04-01",
        "date_precision": "day", "status": "open", "source_urls": "https://example.org/bench",
        "source_note": "benchmark", "request_id": f"req-bench-{request_id}",
    }  # fmt: skip


def check_passes(path: Path) -> bool:
    """`python -m reliefhub check` on a replica: every model equals its definition."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        return models.differences(con) == {}


PARTS = ("embedded", "lag", "profile", "pages", "import")
# Where an applied change's time goes: (module file, function) profiled inside follow_store.
APPLYING = {
    "follow_store": ("db.py", "follow_store"),
    "read_and_apply_rows": ("replica.py", "pull"),
    "model_refresh": ("models.py", "catch_up"),
    "sign_ins": ("sign_ins.py", "behind"),
}


def measured(figures: dict, name: str, step, server: PostgresServer):
    """Run `step`; note its wall-clock seconds, this process's CPU seconds and PostgreSQL's."""
    wall, cpu, pg = time.perf_counter(), time.process_time(), server_cpu(server)
    result = step()
    figures[f"{name}_s"] = round(time.perf_counter() - wall, 2)
    figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 2)
    figures[f"{name}_postgres_cpu_s"] = round(server_cpu(server) - pg, 2)
    return result


def server_cpu(server: PostgresServer) -> float:
    """CPU seconds of the server: its main process, its backends that have
    ended and been waited for, and those still running (or not yet waited for)."""
    pid = (server.data / "postmaster.pid").read_text().split()[0]
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ticks = _ticks(pid, slice(11, 15)) + sum(_ticks(child, slice(11, 13)) for child in children)
    return ticks / os.sysconf("SC_CLK_TCK")


def _ticks(pid: str, fields: slice) -> int:
    """A sum of /proc/PID/stat's fields, counted after the name: 11-12 its
    utime and stime, 13-14 those of its children waited for."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # ended and waited for between the listing and now
        return 0
    return sum(int(f) for f in stat.rsplit(")", 1)[1].split()[fields])


def lag_figures(url: str, folder: Path, writes: int, every: float) -> dict:
    lags = replica_lag(url, folder / "a.duckdb", folder / "b.duckdb", writes, every)
    return {
        "lag_median_s": round(float(np.median(lags)), 3),
        "lag_p99_s": round(float(np.percentile(lags, 99)), 3),
        "lag_max_s": round(max(lags), 3),
        "replicas_equal_their_definitions": all(
            map(check_passes, (folder / "a.duckdb", folder / "b.duckdb"))
        ),
    }


def one_applied_change(url: str, folder: Path) -> dict[str, float]:
    """Profile replica B applying one form save made on replica A: seconds in each of APPLYING."""
    import cProfile
    import pstats

    from reliefhub.db import open_database_at
    from reliefhub.store import postgres

    writer, follower = open_database_at(folder / "a.duckdb"), open_database_at(folder / "b.duckdb")
    operations.add_record(writer, "requests", request("profiled"), who=WRITER)
    with postgres.connect(url, autocommit=True) as pg, cProfile.Profile() as profile:
        follower.follow_store(pg)
    writer.close()
    follower.close()
    spent = {
        (Path(file).name, name): total
        for (file, _, name), (*_, total, _) in pstats.Stats(profile).stats.items()
    }
    return {label: round(spent.get(where, 0.0), 3) for label, where in APPLYING.items()}


def page_reruns(path: Path, scale: int, store: str | None) -> dict[str, float | None]:
    """The benchmark's page reruns (median ms) on `path`, as a replica of `store` or embedded."""
    from reliefhub.bench.cases import scenarios
    from reliefhub.bench.pages import bench_pages
    from reliefhub.db import Database

    probe = Database(path, cache_bytes=0)
    params = scenarios(probe)
    probe.close()
    os.environ.pop("RELIEFHUB_STORE", None)
    if store:
        os.environ["RELIEFHUB_STORE"] = store
    measured_pages = bench_pages(path, scale, 3, params, say=lambda text: None)
    return {m.name: None if m.median_ms is None else round(m.median_ms) for m in measured_pages}


def import_new_shipments(figures: dict, url: str, embedded: Path, folder: Path, server: PostgresServer):
    """Import, on replica A, a file of the database's shipments under new IDs."""
    import duckdb

    from reliefhub.db import open_database_at

    path = folder / "new-shipments.csv"
    with duckdb.connect(str(embedded), read_only=True) as con:
        con.execute(
            "COPY (SELECT * REPLACE ('new-' || shipment_id AS shipment_id) FROM shipments) "  # noqa: S608 (our file)
            f"TO '{path}' (FORMAT csv, HEADER true)"
        )
    os.environ["RELIEFHUB_STORE"] = url
    db = open_database_at(folder / "a.duckdb")
    who = cli_identity("Benchmark")
    report = measured(figures, "import", lambda: imports.import_file(db, path, "shipments", who=who), server)
    db.close()
    figures["import_rows"], figures["import_ok"] = report.rows, report.ok
    figures["import_rows_per_s"] = round(report.rows / figures["import_s"])
    if not report.ok:
        figures["import_problems"] = [str(p) for p in report.problems[:3]]


def run(scale: int, writes: int, every: float, source: Path | None, parts=("embedded", "lag")) -> dict:
    from reliefhub import generate

    folder = Path(tempfile.mkdtemp(prefix="reliefhub-store-bench-"))
    figures: dict = {"scale": scale, "writes": writes, "every_s": every, "parts": list(parts)}
    try:
        with PostgresServer.temporary() as server:
            url = server.new_database()
            embedded = folder / "embedded.duckdb"
            if source:
                shutil.copy(source, embedded)
            else:
                generate.generate(scale, embedded, generate.DEFAULT_SEED)
            if "embedded" in parts:
                figures["embedded_save_median_s"] = embedded_saves(embedded, folder / "embedded-copy.duckdb")
            measured(figures, "store_init", lambda: init.init_from(embedded, url), server)
            measured(figures, "fill_replica", lambda: replica.fill(folder / "a.duckdb", url), server)
            if {"lag", "profile"} & set(parts):
                replica.fill(folder / "b.duckdb", url)
                os.environ["RELIEFHUB_STORE"] = url
            if "lag" in parts:
                figures |= lag_figures(url, folder, writes, every)
            if "profile" in parts:
                figures["one_applied_change_s"] = one_applied_change(url, folder)
            if "pages" in parts:
                figures["pages_replica_ms"] = page_reruns(folder / "a.duckdb", scale, url)
                figures["pages_embedded_ms"] = page_reruns(embedded, scale, None)
            if "import" in parts:
                import_new_shipments(figures, url, embedded, folder, server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reliefhub.store.measure", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--scale", type=int, default=100_000, help="shipments in the synthetic database")
    parser.add_argument("--source", type=Path, help="measure a copy of this database instead")
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--every", type=float, default=0.2, help="seconds between the writer's saves")
    parser.add_argument(
        "--parts",
        default="embedded,lag",
        help=f"comma-separated, of: {', '.join(PARTS)}",
    )
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)  # the writer process
    args = parser.parse_args(argv)
    if args.write:
        write_steadily(args.write, args.writes, args.every)
        return 0
    parts = tuple(p for p in PARTS if p in args.parts.split(","))
    print(json.dumps(run(args.scale, args.writes, args.every, args.source, parts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
