"""The movements replay on a page: the map's deck and its arcs' days, sent
once to the browser, which plays them (reliefhub/replay.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reliefhub import replay
from reliefhub.ui import dataset, maps, shared_filters


def replay_payload(
    colour_by: str, *, size_px: tuple[int, int], scale: float = 1.0
) -> tuple[dict, pd.DataFrame]:
    """The replay of the shared filters' movements, for a map of `size_px`,
    and the flows it shows."""
    deck, flows = maps.movements_deck(colour_by, size_px=size_px, scale=scale)
    daily = shared_filters.query("replay_flows", colour_by=colour_by, **replay.shown_arcs(flows))
    first, last = dataset.data_bounds()
    filters = shared_filters.current_filters()
    return replay.replay_payload(
        deck,
        daily,
        first_day=max(filters.date_from or first, first),
        last_day=min(filters.date_to or last, last),
        scale=scale,
    ), flows


def replay_map(colour_by: str, *, size_px: tuple[int, int]) -> None:
    """Draw the replay: its legend, then its controls and map."""
    payload, flows = replay_payload(colour_by, size_px=size_px)
    maps.legend(colour_by, flows)
    st.caption(
        "Each arc grows with the movements up to the day shown and fades once its last movement is "
        "a few days old; a record dated only to a month counts from the month's first day. "
        "Press ▶ Play: the replay runs in your browser."
    )
    st.iframe(
        replay.replay_html(payload, map_height_px=size_px[1]),
        height=replay.component_height(size_px[1]),
    )
