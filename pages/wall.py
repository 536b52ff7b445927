"""Wall screen: the operations picture for a room, refreshing itself with nobody at the keyboard.

Settings come from the link: /wall?refresh=60&stale_after=1440&banner=NATO%20UNCLASSIFIED
&rotate=map,requests,flights&rotate_every=30&replay=1&replay_speed=1&scale=2, plus the shared
filters. scale=2 suits a 4K screen running without operating-system scaling.
"""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd
import pydeck as pdk
import streamlit as st

from reliefhub import confidence, figures, ui, wall

ui.start_page(None)
settings, notices = wall.settings_from({key: st.query_params.get_all(key) for key in st.query_params})
st.html(wall.CSS)
first, last = ui.data_bounds()


@dataclass
class Picture:
    """Everything the screen shows, fetched before anything is drawn."""

    view: str
    day: date
    changed_at: datetime
    figures: list[tuple[str, str]]
    by_country: pd.DataFrame
    deck: pdk.Deck | None
    legend: list[tuple[str, str]]
    arcs_shown: str
    flights: pd.DataFrame | None
    closed: pd.DataFrame | None
    fetched_at: datetime
    server_ms: float


def replay_day() -> date:
    """The day shown: the last day, or the next step of the replay."""
    if not settings.replay:
        return last
    day = st.session_state.get("wall_day", last)
    day = first if day >= last else day + timedelta(days=1)
    st.session_state.wall_day = day
    return day


def fetch(view: str, day: date) -> Picture:
    started = time.perf_counter()
    bounded = {"date_to": min(ui.current_filters().date_to or day, day)}
    headline = ui.query("wall_figures", as_of=day, **bounded).iloc[0]
    by_country = ui.query("open_requests_by_country", as_of=day)
    deck, legend, arcs_shown, flights, closed = None, [], "", None, None
    if view == "map":
        deck, flows = ui.movements_deck("cargo_kind", label_px=26, scale=settings.map_scale, **bounded)
        legend = figures.legend_entries("cargo_kind", flows["category"].tolist())
        arcs_shown = figures.arcs_shown(flows)
    elif view == "requests":
        closed = ui.query("closed_requests", as_of=day)
    elif view == "flights":
        flights = ui.query("recent_flights", as_of=day, limit=12)
    return Picture(
        view=view,
        day=day,
        changed_at=ui.database().scalar("data_freshness").to_pydatetime(),
        figures=[
            ("Open requests", f"{headline.open_requests:,}"),
            *wall.most_requested_missing(by_country),
            ("Shipments in transit", f"{headline.shipments_in_transit:,}"),
            (f"Patients moved, 7 days to {day:%d %b}", f"{headline.patients_last_7_days:,}"),
        ],
        by_country=by_country,
        deck=deck,
        legend=legend,
        arcs_shown=arcs_shown,
        flights=flights,
        closed=closed,
        fetched_at=datetime.now(UTC),
        server_ms=(time.perf_counter() - started) * 1000,
    )


def draw(picture: Picture, trouble: str | None) -> None:
    text, stale = wall.freshness(
        picture.changed_at, datetime.now(UTC), timedelta(minutes=settings.stale_after_minutes)
    )
    st.html(wall.title_html(picture.view, picture.day, text, stale))
    if trouble:
        st.html(f"<div class='wall-stale'>{trouble}</div>")
    st.html(wall.figures_html(picture.figures))
    main, side = st.columns([3, 1])
    with main:
        if picture.view == "map":
            with st.container(key="wall_map"):
                st.pydeck_chart(picture.deck, height="stretch", key="wall_deck")
            st.html(wall.legend_html(picture.legend, picture.arcs_shown))
        elif picture.view == "requests":
            chart = figures.open_requests_chart(picture.by_country, measure="count")
            # A shorter chart leaves room for the requests closed before all of them arrived.
            share = 0.6 if picture.closed is None or picture.closed.empty else 0.48
            chart.update_layout(font={"size": 22}, height=int(share * 1080), title=None)
            st.plotly_chart(chart, config={"displayModeBar": False, "staticPlot": True}, key="wall_chart")
            st.html(confidence.closures_html(picture.closed))
        else:
            st.html(wall.flights_html(picture.flights))
    with side:
        st.html(wall.countries_html(picture.by_country))
    st.html(
        f"<div class='wall-footer'>Screen refreshed {picture.fetched_at:%H:%M:%S} UTC in "
        f"{picture.server_ms:.0f} ms · every {settings.refresh_seconds} s"
        + (" · replaying the crisis" if settings.replay else "")
        + "".join(f" · {notice}" for notice in notices)
        + "</div>"
    )


@st.fragment(run_every=settings.tick_seconds())
def wall_screen() -> None:
    """Fetch, then draw; if the database is away, keep the last good picture and say so."""
    if settings.banner:
        st.html(wall.banner_html(settings.banner))
    view = settings.view_at(time.time())
    try:
        picture = fetch(view, replay_day())
        st.session_state.wall_last_good = picture
        trouble = None
    except (duckdb.Error, OSError, RuntimeError) as error:
        picture = st.session_state.get("wall_last_good")
        if picture is None:
            st.error(f"{ui.fault_message(error)} Retrying every {settings.tick_seconds():g} s.")
            return
        trouble = f"DATABASE UNAVAILABLE · showing the picture of {picture.fetched_at:%H:%M:%S} UTC"
    draw(picture, trouble)
    if settings.banner:
        st.html(wall.banner_html(settings.banner))


wall_screen()
