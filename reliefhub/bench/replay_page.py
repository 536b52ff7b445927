"""The Movements page with and without its replay, under AppTest: the first
draw (result cache and shared figures emptied), a rerun with the same
filters, and turning the replay on once the map is drawn, in wall-clock and
CPU time, and the bytes its map sends.

Uses only what main's checkout has too, so one checkout's figures can be set
beside another's (docs/benchmark.md):

    PYTHONPATH=CHECKOUT python reliefhub/bench/replay_page.py DATABASE [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from reliefhub import REPO_DIR, shared_figures
from reliefhub.bench.pages import bench_admin, empty_result_cache, shared_database_at


def movements_page(admin, colour_by: str, replay: bool):
    """The Movements page, signed in as `admin`, run once with the replay on or off."""
    from datetime import UTC, datetime

    from streamlit.testing.v1 import AppTest

    from reliefhub import access

    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=600)
    app.session_state[access.SESSION_KEY] = access.LocalSession(admin, datetime.now(UTC))
    app.query_params["colour"] = colour_by
    app.switch_page("app_pages/movements.py")
    app.run()
    if replay:
        app.toggle(key="replay").set_value(True).run()
    assert not app.exception, app.exception
    return app


def timed_runs(app, repeat: int, *, first: bool) -> tuple[float, float]:
    """Median wall-clock and CPU ms of `repeat` runs; each a first draw if `first`."""
    walls, cpus = [], []
    for _ in range(repeat):
        if first:
            empty_result_cache()
            shared_figures.shared().clear()
        wall, cpu = time.perf_counter(), time.process_time()
        app.run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def switched_on(admin, colour_by: str, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU ms of turning the replay on after the map
    was drawn (its deck already built, as when a person opens the page and
    then asks for the replay), each time with the replay not yet built."""
    walls, cpus = [], []
    for _ in range(repeat):
        empty_result_cache()
        shared_figures.shared().clear()
        app = movements_page(admin, colour_by, replay=False)
        app.toggle(key="replay").set_value(True)
        wall, cpu = time.perf_counter(), time.process_time()
        app.run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def sent_bytes(app) -> int:
    """What the page's map sends: the replay's HTML, or the map's deck JSON."""
    frames = app.get("iframe")
    if frames:
        return len(frames[0].proto.srcdoc.encode())
    return len(app.get("deck_gl_json_chart")[0].proto.json.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{REPO_DIR}: colour, replay, first draw, rerun, bytes sent, switched on (ms wall (CPU))")
    with shared_database_at(args.database) as db:
        admin = bench_admin(db)
        for colour_by in ("cargo_kind", "mode"):
            for replay in (False, True):
                app = movements_page(admin, colour_by, replay)
                first = timed_runs(app, args.repeat, first=True)
                rerun = timed_runs(app, args.repeat, first=False)
                line = (
                    f"{colour_by:<11} {'on ' if replay else 'off'} {first[0]:7.0f} ({first[1]:6.0f})"
                    f" {rerun[0]:7.0f} ({rerun[1]:6.0f}) {sent_bytes(app):9,}"
                )
                if replay:
                    line += " {:7.0f} ({:6.0f})".format(*switched_on(admin, colour_by, args.repeat))
                print(line)


if __name__ == "__main__":
    main()
