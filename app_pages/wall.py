"""Wall screen: the operations picture for a room, refreshing itself with nobody at the keyboard.

Settings come from the link: /wall?refresh=60&stale_after=1440&banner=NATO%20UNCLASSIFIED
&rotate=map,requests,flights&rotate_every=30&replay=1&replay_speed=1&scale=2, plus the shared
filters. scale=2 suits a 4K screen running without operating-system scaling.
"""

import html
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from reliefhub import confidence, figures, page_runs, replay, wall
from reliefhub.ui import chrome, dataset, maps, replay_map, shared_filters

chrome.start_page(None)
settings, notices = wall.settings_from({key: st.query_params.get_all(key) for key in st.query_params})
layout = wall.WallLayout(banner=bool(settings.banner))
st.html(wall.CSS + layout.css())
last = dataset.data_bounds()[1]
WALL_LABEL_PX = 26


@dataclass
class Picture:
    """Everything the screen shows, fetched before anything is drawn."""

    view: str
    day: date
    changed_at: datetime | None
    built_at: datetime | None
    figures: list[tuple[str, str]]
    side_html: str
    deck: figures.DeckSpec | None
    replay_html: str
    legend: list[tuple[str, str]]
    arcs_shown: str
    flights: pd.DataFrame | None
    closures: str
    chart: go.Figure | None
    fetched_at: datetime
    server_ms: float


def fetch(view: str, day: date) -> Picture:
    fetched_at = datetime.now(UTC)
    started = time.perf_counter()
    headline = shared_filters.query("wall_figures", as_of=day).iloc[0]
    # The side panel and the headline's materials: built once for every screen showing them.
    (side_html, most_missing), _ = shared_filters.figure(
        "open_requests_by_country",
        lambda rows: (wall.countries_html(rows, limit=layout.side_rows), wall.most_requested_missing(rows)),
        drawn=("wall side", layout.side_rows),
        as_of=day,
    )
    stamps = dataset.database().query("data_freshness")
    deck, replay_html, legend, arcs_shown, flights, closures, chart = None, "", [], "", None, "", None
    if view == "map" and settings.replay:
        replay_html, flows = wall_replay()
        legend = figures.legend_entries("cargo_kind", flows["category"].tolist())
        arcs_shown = figures.arcs_shown(flows)
    elif view == "map":
        deck, flows = maps.movements_deck(
            "cargo_kind", size_px=layout.map_px, label_px=WALL_LABEL_PX, scale=settings.map_scale
        )
        legend = figures.legend_entries("cargo_kind", flows["category"].tolist())
        arcs_shown = figures.arcs_shown(flows)
    elif view == "requests":
        closures = confidence.closures_html(
            shared_filters.query("closed_requests", as_of=day, limit=None), limit=2
        )
        # A shorter chart leaves room for the requests closed before all of them arrived.
        chart = wall_chart(view, layout.main_vh * (0.7 if closures else 1), as_of=day)
    elif view == "flights":
        flights = shared_filters.query("recent_flights", as_of=day, limit=layout.table_rows)
    elif view == "trend":
        chart = wall_chart(view, layout.main_vh)
    return Picture(
        view=view,
        day=day,
        changed_at=_datetime(stamps.at[0, "data_changed_at"]),
        built_at=_datetime(stamps.at[0, "built_at"]),
        figures=[
            ("Open requests", f"{headline.open_requests:,}"),
            *most_missing,
            ("Shipments in transit", f"{headline.shipments_in_transit:,}"),
            (f"Patients moved, 7 days to {day:%d %b}", f"{headline.patients_last_7_days:,}"),
        ],
        side_html=side_html,
        deck=deck,
        replay_html=replay_html,
        legend=legend,
        arcs_shown=arcs_shown,
        flights=flights,
        closures=closures,
        chart=chart,
        fetched_at=fetched_at,
        server_ms=(time.perf_counter() - started) * 1000,
    )


def wall_replay() -> tuple[str, pd.DataFrame]:
    """The map replayed by the browser, by itself and round and round, at
    the link's speed: the page does not run again for it."""
    return replay_map.replay_figure(
        "cargo_kind",
        size_px=layout.map_px,
        map_height_px=None,
        scale=settings.map_scale,
        label_px=WALL_LABEL_PX,
        playing=replay.Playing(controls=False, days_per_second=1 / settings.replay_seconds_per_day),
    )


def _datetime(value) -> datetime | None:
    return None if pd.isna(value) else value.to_pydatetime()


def draw(picture: Picture, trouble: str | None) -> None:
    now = datetime.now(UTC)
    text = wall.freshness(picture.changed_at, picture.built_at, now)
    warning = trouble or wall.historical(last, now, timedelta(minutes=settings.stale_after_minutes))
    replaying = replay_map.replay_days()[0] if picture.replay_html else None
    st.html(wall.title_html(picture.view, picture.day, text, warning, replay_from=replaying))
    st.html(wall.figures_html(picture.figures, picture.fetched_at))
    main, side = st.columns([3, 1])
    with main, st.container(key="wall_main"):
        draw_view(picture)
    with side, st.container(key="wall_side"):
        st.html(picture.side_html)
    st.html(
        f"<div class='wall-footer'>{html.escape(text)} · "
        f"Screen refreshed {picture.fetched_at:%H:%M:%S} UTC in "
        f"{picture.server_ms:.0f} ms · every {settings.refresh_seconds} s"
        + (" · replaying the crisis" if settings.replay else "")
        + "".join(f" · {notice}" for notice in notices)
        + "</div>"
    )


def draw_view(picture: Picture) -> None:
    """The main view, in the height the layout leaves it."""
    if picture.replay_html:
        with st.container(key="wall_map"):
            st.iframe(picture.replay_html, height="stretch")
        st.html(wall.legend_html(picture.legend, picture.arcs_shown, replay=True))
    elif picture.view == "map":
        with st.container(key="wall_map"):
            st.pydeck_chart(picture.deck, height="stretch", key="wall_deck")
        st.html(wall.legend_html(picture.legend, picture.arcs_shown))
    elif picture.chart is not None:
        st.plotly_chart(picture.chart, config={"displayModeBar": False, "staticPlot": True}, key="wall_chart")
        if picture.closures:
            st.html(picture.closures)
    else:
        st.html(wall.flights_html(picture.flights))


def wall_chart(view: str, chart_vh: float, **extra) -> go.Figure:
    """The requests or trend chart at the wall's sizes (the query's parameters
    in `extra`), built once for every screen showing it."""
    font_px = round(wall.CHART_FONT_PX * settings.map_scale)
    height = round(chart_vh / 100 * 1080 * settings.map_scale)

    def build(rows: pd.DataFrame):
        if view == "requests":
            chart = figures.open_requests_chart(
                rows, measure="count", max_bars=layout.chart_bars, font_px=font_px
            )
        else:
            chart = figures.request_trend_chart(rows, font_px=font_px)
        return chart.update_layout(
            height=height,
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
            margin={"t": 5 * font_px, "b": 2 * font_px},
            title={"yref": "container", "y": 1.0, "yanchor": "top", "x": 0},
        )

    query = "open_requests_by_country" if view == "requests" else "request_trend"
    chart, _ = shared_filters.figure(
        query, build, drawn=("wall", font_px, height, layout.chart_bars), **extra
    )
    return chart


@st.fragment(run_every=settings.tick_seconds())
def wall_screen() -> None:
    """Fetch, then draw; if the database is away, keep the last good picture and say so.
    A fragment's rerun skips app.py, so it takes its turn for the cores here."""
    with page_runs.slot():
        if settings.banner:
            st.html(wall.banner_html(settings.banner))
        view = settings.view_at(time.time())
        try:
            picture = fetch(view, last)
            st.session_state.wall_last_good = picture
            trouble = chrome.store_notice()
        except (duckdb.Error, OSError, RuntimeError) as error:
            picture = st.session_state.get("wall_last_good")
            if picture is None:
                st.error(f"{chrome.fault_message(error)} Retrying every {settings.tick_seconds():g} s.")
                return
            trouble = f"DATABASE UNAVAILABLE · showing the picture of {picture.fetched_at:%H:%M:%S} UTC"
        draw(picture, trouble)
        if settings.banner:
            st.html(wall.banner_html(settings.banner))


wall_screen()
