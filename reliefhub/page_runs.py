"""How many page runs one dashboard server does at once.

Streamlit runs every session's page in a thread of its own. With a roomful of
people, twenty threads share two cores and one interpreter lock, each slowed by
the others' switching: even without Streamlit's per-run collection the server
finished fewer pages a second for twenty people than for one, and with slots
more (docs/benchmark.md, "Each change alone"). A page run
waits here for a slot instead: the cores work on as many runs as there are
slots, and the rest wait their turn.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class PageRuns:
    """At most `slots` blocks run at once; the rest wait, and go in the order
    they came: a freed slot is handed to the longest waiting, never taken by a
    run that just arrived (a plain semaphore lets newcomers overtake, and
    under a steady stream of them a waiting page can wait without end)."""

    def __init__(self, slots: int):
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: deque[threading.Lock] = deque()
        self._this_thread = threading.local()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block. A thread that holds one already (a page
        whose fragment runs inside it) goes on: waiting for a second could
        wait for ever."""
        if getattr(self._this_thread, "holds_slot", False):
            yield
            return
        self._take()
        self._this_thread.holds_slot = True
        try:
            yield
        finally:
            self._this_thread.holds_slot = False
            self._give_back()

    def _take(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # until _give_back hands this run its slot

    def _give_back(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1


def slots() -> int:
    """Page runs at once: RELIEFHUB_PAGE_RUNS, or the cores this process may run on."""
    return int(os.environ.get("RELIEFHUB_PAGE_RUNS") or len(os.sched_getaffinity(0)))


_server = PageRuns(slots())


def slot():
    """A slot among this server's page runs, for a `with` block."""
    return _server.slot()
