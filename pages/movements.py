"""Movements: every cross-border flow on the offline map, with replay and the records behind it."""

from datetime import timedelta

import streamlit as st

from reliefhub import confidence, figures
from reliefhub.ui import chrome, dataset, maps, shared_filters, tables, text, url_state

chrome.start_page("Movements")
st.html("<style>.replay-day { font-size: 2.6rem; font-weight: 700; line-height: 1.1; }</style>")
first, last = dataset.data_bounds()
filters = shared_filters.current_filters()

url_state.adopt_from_url("colour", url_state.one_of(figures.COLOUR_BY_LABELS), "colour choice")
colour_by = st.radio(
    "Colour arcs by",
    list(figures.COLOUR_BY_LABELS),
    format_func=figures.COLOUR_BY_LABELS.get,
    horizontal=True,
    key="colour",
)
url_state.publish_to_url("colour", None if colour_by == "cargo_kind" else [colour_by])
if "replay_day" not in st.session_state:
    st.session_state.replay_day = last
playing = st.session_state.get("replaying", False)


def toggle_replay():
    """Start or stop the replay; starting from the last day starts over from the first."""
    st.session_state.replaying = not st.session_state.get("replaying", False)
    if st.session_state.replaying and st.session_state.replay_day >= last:
        # Every replay tick first steps one day on, so the first tick shows the first day.
        st.session_state.replay_day = first - timedelta(days=1)


# Seconds per day of replay. Chosen outside the panel, so a new speed
# restarts the panel's timer.
SPEEDS = {2.0: "½ day a second", 1.0: "1 day a second", 0.5: "2 days a second", 0.25: "4 days a second"}
st.columns([1, 4])[0].selectbox(
    "Replay speed", list(SPEEDS), index=1, format_func=SPEEDS.get, key="replay_speed"
)


@st.fragment(run_every=st.session_state.replay_speed if playing else None)
def map_panel():
    """The replay control, the map and the records behind a selection.

    A fragment, so that playing the replay redraws only this panel.
    """
    if st.session_state.get("replaying") and st.session_state.replay_day < last:
        st.session_state.replay_day += timedelta(days=1)
    elif st.session_state.get("replaying"):
        st.session_state.replaying = False
        st.rerun()
    day_column, button_column = st.columns([5, 1], vertical_alignment="bottom")
    day = day_column.slider(
        "Replay: movements up to and including",
        min_value=first,
        max_value=last,
        key="replay_day",
        format="D MMM YYYY",
    )
    if button_column.button(
        "⏸ Pause" if playing else "▶ Play", key="replay_button", on_click=toggle_replay, width="stretch"
    ):
        st.rerun()  # the whole page, so the panel is re-created with (or without) its replay timer

    date_to = min(filters.date_to or last, day)
    replaying = playing or day < last
    if replaying:
        st.html(f"<div class='replay-day'>{day:%d %B %Y}</div>")
    selection = maps.movements_map(
        colour_by,
        key="movements_map",
        size_px=(1460, 640),
        selectable=not playing,
        date_to=date_to,
        replay_day=day if replaying else None,
    )
    selected = _selected_records(selection, date_to)
    if selected is not None:
        tables.show_table_page(confidence.shown_page(selected))


def _selected_records(selection, date_to):
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
    return tables.table_page("movement_records", key="movement_records", date_to=date_to, **where)


map_panel()
