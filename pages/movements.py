"""Movements: every cross-border flow on the offline map, the records behind
it, and a replay of the crisis day by day, played in the browser."""

import streamlit as st

from reliefhub import confidence, figures
from reliefhub.ui import chrome, maps, replay_map, tables, text, url_state

chrome.start_page("Movements")

url_state.adopt_from_url("colour", url_state.one_of(figures.COLOUR_BY_LABELS), "colour choice")
colour_by = st.radio(
    "Colour arcs by",
    list(figures.COLOUR_BY_LABELS),
    format_func=figures.COLOUR_BY_LABELS.get,
    horizontal=True,
    key="colour",
)
url_state.publish_to_url("colour", None if colour_by == "cargo_kind" else [colour_by])
MAP_SIZE_PX = (1460, 640)


def _selected_records(selection):
    """Records behind the arc or place picked on the map, under a heading."""
    objects = selection.selection.objects if selection else {}
    if arcs := objects.get("flows"):
        arc = arcs[0]
        heading = f"Records on this route: {text.escape_markdown(arc['tooltip'])}"
        where = {
            "origin_place_id": arc["origin_place_id"],
            "destination_place_id": arc["destination_place_id"],
            "place_id": None,
        }
    elif places := objects.get("places"):
        heading = f"Records at {text.escape_markdown(places[0]['name'])}"
        where = {"origin_place_id": None, "destination_place_id": None, "place_id": places[0]["place_id"]}
    else:
        st.caption("Select an arc or a place on the map to list the records behind it, with their sources.")
        return None
    st.subheader(heading)
    return tables.table_page("movement_records", key="movement_records", **where)


if st.toggle("Replay day by day", key="replay", help="Play the chosen date range in the browser."):
    replay_map.replay_map(colour_by, size_px=MAP_SIZE_PX)
else:
    selection = maps.movements_map(colour_by, key="movements_map", size_px=MAP_SIZE_PX, selectable=True)
    selected = _selected_records(selection)
    if selected is not None:
        tables.show_table_page(confidence.shown_page(selected))
