"""The movements replay on a page or a wall: the map's deck and its arcs'
days, sent once to the browser, which plays them (reliefhub/replay.py)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from reliefhub import replay, shared_figures
from reliefhub.db import Database
from reliefhub.ui import dataset, maps, shared_filters


def replay_figure(
    colour_by: str,
    *,
    size_px: tuple[int, int],
    map_height_px: int | None,
    scale: float = 1.0,
    label_px: int = 18,
    playing: replay.Playing = replay.ON_A_PAGE,
) -> tuple[str, pd.DataFrame]:
    """The replay's HTML for the shared filters' movements, on a map of
    `size_px` (`map_height_px` tall, or filling its frame), and the flows it
    shows.

    Built once per data version and what was asked, and shared by every
    session of this server (shared_figures.py), so ten wall screens on the
    replay cost one build: read the flows, never change them.
    """
    db = dataset.database()
    params = shared_filters.shared_params()
    drawn = {"size_px": size_px, "scale": scale, "label_px": label_px}
    shown = {"map_height_px": map_height_px, "playing": playing}
    asked = ("replay", colour_by, shared_figures.freeze(params), shared_figures.freeze(drawn | shown))
    return shared_figures.shared().get(db, asked, lambda: _replay_html(db, params, colour_by, drawn, shown))


def _replay_html(db: Database, params: dict, colour_by: str, drawn: dict, shown: dict):
    deck, flows = maps.movements_deck(colour_by, **drawn)
    arcs = replay.shown_arcs(flows)
    daily = db.query("replay_flows", params | {"colour_by": colour_by, **arcs})
    first_day, last_day = replay_days(params)
    payload = replay.replay_payload(
        deck,
        daily,
        shown=arcs,
        first_day=first_day,
        last_day=last_day,
        scale=drawn["scale"],
        playing=shown["playing"],
    )
    return replay.replay_html(payload, map_height_px=shown["map_height_px"]), flows


def replay_days(params: dict | None = None) -> tuple[date, date]:
    """The replay's first and last day: the shared filters' dates within the data's."""
    params = shared_filters.shared_params() if params is None else params
    first, last = dataset.data_bounds()
    return params.get("date_from") or first, params.get("date_to") or last


def replay_map(colour_by: str, *, size_px: tuple[int, int]) -> None:
    """Draw the replay: its legend, then its controls and map."""
    page, flows = replay_figure(colour_by, size_px=size_px, map_height_px=size_px[1])
    maps.legend(colour_by, flows)
    st.caption(
        "Each arc grows with the movements up to the day shown and fades once its last movement is "
        "a few days old; a record dated only to a month counts from the month's first day. "
        "Press ▶ Play: the replay runs in your browser."
    )
    st.iframe(page, height=replay.component_height(size_px[1]))
