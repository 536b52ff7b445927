"""The movements map for the shared filters, and its legend."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reliefhub import figures, flowmap, shared_figures
from reliefhub.db import Database
from reliefhub.ui import dataset, shared_filters

BASEMAP_URL = "/app/static/basemap/countries-50m.geojson"


def map_frame(db: Database) -> figures.MapFrame:
    frame = db.query("map_frame")
    if frame.empty or pd.isna(frame.at[0, "south"]):
        return figures.MapFrame(50.0, 10.0, 3.5)
    return flowmap.frame_bounds(*(float(frame.at[0, c]) for c in ("south", "north", "west", "east")))


def movements_deck(
    colour_by: str,
    *,
    size_px: tuple[int, int],
    label_px: int = 18,
    scale: float = 1.0,
    **extra,
) -> tuple[figures.DeckSpec, pd.DataFrame]:
    """The movements map for the shared filters (and extra parameters), with
    its flows, framed on them in a map of `size_px` (the whole data's frame
    when nothing matches).

    Built once per data version and what was asked, and shared by every
    session of this server (shared_figures.py): the flows returned are shared
    too, so read them, never change them.
    """
    db = dataset.database()
    params = shared_filters.shared_params(**extra)
    drawn = {"colour_by": colour_by, "size_px": size_px, "label_px": label_px, "scale": scale}
    asked = ("movements_deck", shared_figures.freeze(params), shared_figures.freeze(drawn))
    return shared_figures.shared().get(db, asked, lambda: _movements_deck(db, params, **drawn))


def _movements_deck(db: Database, params: dict, *, colour_by: str, size_px: tuple[int, int], **drawn):
    flows = db.query("movement_flows", params | {"colour_by": colour_by, "limit": figures.MAP_ARCS})
    places = db.query("movement_places", params | {"limit": figures.MAP_PLACES})
    frame = flowmap.flows_frame(flows, width_px=size_px[0], height_px=size_px[1], fallback=map_frame(db))
    deck = figures.movement_deck(
        flows,
        places,
        basemap_url=BASEMAP_URL,
        colour_by=colour_by,
        frame=frame,
        size_px=size_px,
        **drawn,
    )
    return figures.deck_spec(deck), flows


def movements_map(colour_by: str, *, key: str, size_px: tuple[int, int], selectable: bool, **extra):
    """Draw the movements map; returns the selection event when selectable."""
    deck, flows = movements_deck(colour_by, size_px=size_px, **extra)
    height = size_px[1]
    legend(colour_by, flows)
    if selectable:
        return st.pydeck_chart(
            deck, height=height, key=key, on_select="rerun", selection_mode="single-object"
        )
    st.pydeck_chart(deck, height=height, key=key)
    return None


def legend(colour_by: str, flows: pd.DataFrame) -> None:
    swatches = " ".join(
        f"<span style='color:{colour}'>━━</span> {label}"
        for label, colour in figures.legend_entries(colour_by, flows["category"].tolist())
    )
    shown = figures.arcs_shown(flows)
    st.markdown(
        f"**{figures.COLOUR_BY_LABELS[colour_by]}:** {swatches or 'no movements match'} · "
        f"{figures.DIRECTION_LEGEND} · arc width: number of movements on the route · "
        "point size: traffic at the place · ↗ name at the edge: a place beyond the map"
        + (f" · {shown}" if shown else ""),
        unsafe_allow_html=True,
    )
