"""Page runs take turns for the cores (reliefhub/page_runs.py), and the server
is configured as the benchmark measured it (.streamlit/config.toml)."""

import os
import threading
import time
import tomllib
from pathlib import Path

import pytest

from reliefhub.page_runs import PageRuns, slots

REPO = Path(__file__).resolve().parent.parent


def in_thread(work) -> bool:
    """Run work in a thread; whether it finished within five seconds."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=5)
    return not thread.is_alive()


def test_no_more_runs_at_once_than_slots():
    runs, lock, inside, most = PageRuns(2), threading.Lock(), [0], [0]

    def page():
        with runs.slot():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=page) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert most[0] == 2 and inside[0] == 0


def test_a_fragment_inside_its_page_does_not_wait_for_a_second_slot():
    runs = PageRuns(1)

    def page_with_fragment():
        with runs.slot(), runs.slot():
            pass

    assert in_thread(page_with_fragment)
    assert in_thread(page_with_fragment)  # and the slot was given back


def test_a_run_that_fails_gives_its_slot_back():
    runs = PageRuns(1)

    def failing_page():
        with pytest.raises(RuntimeError), runs.slot():
            raise RuntimeError("the page failed")

    assert in_thread(failing_page)
    assert in_thread(lambda: runs.slot().__enter__())


def test_slots_are_the_cores_unless_set(monkeypatch):
    monkeypatch.delenv("RELIEFHUB_PAGE_RUNS", raising=False)
    assert slots() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("RELIEFHUB_PAGE_RUNS", "3")
    assert slots() == 3


def test_streamlit_does_not_collect_all_garbage_after_every_run():
    """Its full collection after each run was most of a page run's interpreter
    time at a million shipments (docs/benchmark.md)."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_a_freed_slot_goes_to_the_run_waiting_not_to_one_arriving():
    runs, order = PageRuns(1), []

    def waiting_page():
        with runs.slot():
            order.append("waiting")

    waiting = threading.Thread(target=waiting_page)
    with runs.slot():
        waiting.start()
        time.sleep(0.2)  # it is waiting now
    with runs.slot():  # arrives the moment the slot is freed
        order.append("arriving")
    assert order == ["waiting", "arriving"]


def test_streamlit_does_not_watch_the_source():
    """Each session's watcher looking through every loaded module after its runs
    was most of the server's Python time under twenty sessions (docs/benchmark.md)."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
