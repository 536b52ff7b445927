"""Figures built once and shared by every session of this server.

A figure (a map's deck spec, a chart, a wall's HTML) is a function of the data
and of what was asked (the filters, the size, the colouring). Each is kept
under the data version it was built from (Database.data_version) and what was
asked, so ten wall screens on the same view cost one build, and a page never
gets a figure older than the data: a write changes the version, and the next
request builds anew. Sessions asking for the same figure while it is being
built wait for that one build.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

# Figures kept at most, the least recently used dropped first: a deck spec at
# a million shipments is some hundreds of kB.
MAX_FIGURES = 128


class SharedFigures:
    """Figures by (data version, what was asked), least recently used dropped first."""

    def __init__(self, max_figures: int = MAX_FIGURES):
        self.max_figures = max_figures
        self._figures: OrderedDict[Hashable, Any] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, db, asked: Hashable, build: Callable[[], Any], *, version: Hashable = None) -> Any:
        """The figure for `asked` at the data version of `db` (a Database),
        built by `build()` unless another session has built it, or is building
        it (then wait for that build). `version`: the one read before the
        data `build` uses was queried, when that was done beforehand.

        The version is read again after a build: a figure whose data changed
        while it was built is returned, never kept.
        """
        version = db.data_version if version is None else version
        key = (version, asked)
        with self._lock:
            if key in self._figures:
                self._figures.move_to_end(key)
                return self._figures[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._figures:
                    return self._figures[key]
            figure = build()
            with self._lock:
                self.builds += 1
                self._building.pop(key, None)
                if db.data_version == version:
                    self._keep(key, figure)
            return figure

    def _keep(self, key: tuple, figure: Any) -> None:
        """Keep a figure, dropping those of other data versions and the least recently used."""
        for old in [k for k in self._figures if k[0] != key[0]]:
            del self._figures[old]
        self._figures[key] = figure
        while len(self._figures) > self.max_figures:
            self._figures.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._figures.clear()


def freeze(value) -> Hashable:
    """A hashable form of a parameter value: lists and tuples as tuples, dicts as sorted pairs."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


_shared = SharedFigures()


def shared() -> SharedFigures:
    """This server's one store of figures."""
    return _shared
