"""Figure builders: pure functions from query results to pydeck and plotly specs.

Nothing here touches Streamlit or the database, so each figure can be tested
from a DataFrame alone.
"""

from __future__ import annotations

import calendar
import json
import math
from datetime import date
from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from reliefhub import flowmap
from reliefhub.flowmap import MapFrame

BACKGROUND = "#0b1220"
LAND = [31, 41, 55]
BORDER = [110, 125, 145]
LABEL = [235, 240, 245]

# Okabe–Ito: distinguishable with the common forms of colour blindness. Its
# black is white here, on a dark page; the two neutral colours also carry a
# hatching in charts (PATTERNS), so nine categories never share a look.
PALETTE = {
    "orange": [230, 159, 0],
    "sky_blue": [86, 180, 233],
    "green": [0, 158, 115],
    "yellow": [240, 228, 66],
    "blue": [0, 114, 178],
    "vermillion": [213, 94, 0],
    "purple": [204, 121, 167],
    "grey": [160, 160, 160],
    "white": [240, 240, 240],
}
PATTERNS = {"airlift": "/", "mixed_supplies": "x"}

CATEGORY_COLOURS = {
    "cargo_kind": {"goods": "sky_blue", "patients": "vermillion", "personnel": "yellow"},
    "mode": {"air": "sky_blue", "road": "orange", "rail": "green", "sea": "blue", "not_stated": "grey"},
    "material_category": {
        "ppe": "sky_blue",
        "medical_equipment": "green",
        "testing": "yellow",
        "disinfection": "blue",
        "patients": "vermillion",
        "personnel": "purple",
        "field_hospital": "orange",
        "airlift": "grey",
        "mixed_supplies": "white",
    },
}

# What one map shows at most: the busiest arcs and places. More than this is
# unreadable on a wall and heavy in a browser (a million records cross
# thousands of routes); the legend says how many were left out.
MAP_ARCS = 200
MAP_PLACES = 150

COLOUR_BY_LABELS = {
    "cargo_kind": "Goods, patients or personnel",
    "mode": "Transport mode",
    "material_category": "Material category",
}


def category_colour(colour_by: str, category: str | None) -> list[int]:
    name = CATEGORY_COLOURS.get(colour_by, {}).get(category or "", "grey")
    return PALETTE[name]


def legend_categories(colour_by: str, categories: list[str]) -> list[str]:
    """The categories shown, each once, in a stable order."""
    known = list(CATEGORY_COLOURS.get(colour_by, {}))
    return sorted(set(categories), key=lambda c: (known.index(c) if c in known else 99, c))


def legend_entries(colour_by: str, categories: list[str]) -> list[tuple[str, str]]:
    """(label, CSS colour) for each category shown, in a stable order."""
    return [
        (c.replace("_", " "), "rgb({},{},{})".format(*category_colour(colour_by, c)))
        for c in legend_categories(colour_by, categories)
    ]


def arcs_shown(flows: pd.DataFrame) -> str:
    """'200 of 14,290 arcs: the busiest of each colour, then the busiest' when
    the map leaves some out, else ''."""
    if flows.empty or "arcs_total" not in flows or int(flows["arcs_total"].iat[0]) <= len(flows):
        return ""
    return (
        f"{len(flows):,} of {int(flows['arcs_total'].iat[0]):,} arcs: "
        "the busiest of each colour, then the busiest"
    )


def date_span(first, last, month_only: bool) -> str:
    """'28–31 Mar 2020'; a month when the source gives only the month.

    Built from the date's parts: pandas cannot strftime a year beyond 9999,
    which a database from before the date rules may hold."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    if month_only and first.to_period("M") == last.to_period("M"):
        return f"{_month(first)} {first.year} (month only)"
    if first == last:
        return f"{first.day} {_month(first)} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {_month(last)} {last.year}"
    if first.year == last.year:
        return f"{first.day} {_month(first)} – {last.day} {_month(last)} {last.year}"
    return f"{first.day} {_month(first)} {first.year} – {last.day} {_month(last)} {last.year}"


def _month(day: pd.Timestamp) -> str:
    return calendar.month_abbr[day.month]


def plural(n: int, word: str) -> str:
    """'1 country', '2 countries', '1,500 flights'."""
    if n == 1:
        return f"1 {word}"
    return f"{n:,} " + (word[:-1] + "ies" if word.endswith("y") else word + "s")


def flow_tooltip(row) -> str:
    parts = [f"{row.origin_name} → {row.destination_name}"]
    if row.flights:
        parts.append(plural(int(row.flights), "flight"))
    if row.shipments:
        parts.append(plural(int(row.shipments), "shipment"))
    if row.patients:
        parts.append(plural(int(row.patients), "patient"))
    if row.uncertain:
        # Say when a line rests on derived or inferred facts (a date from "Friday",
        # an origin region), so the map never reads surer than its sources.
        parts.append(f"{int(row.uncertain):,} derived or inferred")
    parts.append(date_span(row.first_date, row.last_date, bool(row.has_month_only_dates)))
    if isinstance(row.aircraft, str) and row.aircraft:
        parts.append(row.aircraft)
    return " · ".join(parts)


def place_tooltip(row) -> str:
    return (
        f"{row['name']} ({row['iso3']}) · {plural(int(row['departures']), 'departure')}"
        f" · {plural(int(row['arrivals']), 'arrival')}"
    )


def blank_map_style(background: str = BACKGROUND) -> str:
    """A MapLibre style with nothing but a background, as a data: URL.

    An empty style makes Streamlit fetch a basemap from a tile CDN; a dict
    style breaks rendering. A data: URL keeps the browser off the network.
    """
    style = {
        "version": 8,
        "sources": {},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": background}}],
    }
    return "data:application/json," + quote(json.dumps(style, separators=(",", ":")))


# Arcs: width by the square root of movements, capped; the smallest faded.
ARC_WIDTH_PX = (1.0, 6.0)
ARC_ALPHA = (70, 235)
# An arc's origin end is drawn in this share of its colour, fading into the
# background, so direction reads as dim (from) to bright (to).
ORIGIN_SHADE = 0.35
# A replay draws an arc fully for 3 days after its last movement, then fades
# it over 14 days to a fifth.
REPLAY_FRESH_DAYS = (3, 14)
REPLAY_FLOOR = 0.2
DIRECTION_LEGEND = "arcs run from dim (origin) to bright (destination)"
# Labels and markers drawn over arcs whatever their height: deck.gl's depth
# test would otherwise let a raised arc strike through a label.
ON_TOP = {"depthCompare": "always", "depthWriteEnabled": False}


def recency(flows: pd.DataFrame, day: date | None) -> pd.Series:
    """How strongly a replay draws each arc on `day`: fully for a few days
    after its last movement, then fading (1 everywhere without a day)."""
    if day is None:
        return pd.Series(1.0, index=flows.index)
    age = (pd.Timestamp(day) - pd.to_datetime(flows["last_date"])).dt.days
    fresh, fade = REPLAY_FRESH_DAYS
    return (1 - (age - fresh).clip(lower=0) / fade).clip(lower=REPLAY_FLOOR)


def _arc_style(flows: pd.DataFrame, colour_by: str, scale: float, day: date | None) -> pd.DataFrame:
    """Width, colours and drawing order of the arcs: busiest last, on top;
    in a replay, older movements fade."""
    share = (
        (flows["movements"] / max(int(flows["movements"].max()), 1)) ** 0.5
        if len(flows)
        else flows["movements"]
    )
    low, high = ARC_WIDTH_PX
    alpha = (ARC_ALPHA[0] + (ARC_ALPHA[1] - ARC_ALPHA[0]) * share) * recency(flows, day)
    alpha = alpha.round().astype(int)
    colours = [category_colour(colour_by, c) for c in flows["category"]]
    background = [int(BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)]
    return flows.assign(
        tooltip=[flow_tooltip(r) for r in flows.itertuples()],
        width=((low + (high - low) * share) * scale).round(2),
        target_colour=[[*c, a] for c, a in zip(colours, alpha, strict=True)],
        source_colour=[
            [round(b + (v - b) * ORIGIN_SHADE) for v, b in zip(c, background, strict=True)] + [a]
            for c, a in zip(colours, alpha, strict=True)
        ],
    ).sort_values(["movements", "origin_name", "destination_name"], kind="stable")


def _labels(places: pd.DataFrame, edges: pd.DataFrame, screen: flowmap.Screen, label_px: int) -> pd.DataFrame:
    """Place names and edge markers' names that fit without overlapping."""
    candidates = pd.concat(
        [
            places.assign(text=places["name"])[["text", "latitude", "longitude", "movements"]],
            edges[["text", "label_latitude", "label_longitude", "movements"]].set_axis(
                ["text", "latitude", "longitude", "movements"], axis=1
            ),
        ],
        ignore_index=True,
    )
    return flowmap.declutter_labels(candidates, screen, label_px)


# pydeck reads every string argument as a JavaScript expression; quoting a
# string ("'pixels'") makes it a plain value.
def movement_deck(
    flows: pd.DataFrame,
    places: pd.DataFrame,
    *,
    basemap_url: str,
    colour_by: str,
    frame: MapFrame,
    size_px: tuple[int, int] = (1100, 560),
    label_px: int = 18,
    scale: float = 1.0,
    replay_day: date | None = None,
) -> pdk.Deck:
    """The movements map: country outlines, one arc per flow (dim at its
    origin, bright at its destination), sized points, edge markers for places
    beyond the frame, and labels that never overlap, above everything.

    `size_px` is the map's size on the page at scale 1; `scale` enlarges
    lines, points, labels and zoom together, for a 4K screen that runs
    without operating-system scaling. On a `replay_day`, older movements fade.
    """
    label_px = round(label_px * scale)
    frame = MapFrame(frame.latitude, frame.longitude, round(frame.zoom + math.log2(scale), 2))
    screen = flowmap.Screen(frame, round(size_px[0] * scale), round(size_px[1] * scale))
    flows = _arc_style(flows, colour_by, scale, replay_day)
    edges = flowmap.edge_markers(flows, screen, label_px)
    places = places.assign(tooltip=[place_tooltip(r) for _, r in places.iterrows()])
    busiest_place = max(int(places["movements"].max()), 1) if len(places) else 1
    places["radius"] = (3 + 7 * (places["movements"] / busiest_place) ** 0.5) * scale
    labels = _labels(places, edges, screen, label_px)
    if flows.empty:
        labels = pd.DataFrame(
            {
                "text": ["No movements match these filters"],
                "latitude": [frame.latitude],
                "longitude": [frame.longitude],
                "movements": [1],
            }
        )
    layers = [
        _basemap_layer(basemap_url),
        _arc_layer(flows),
        _points_layer("places", places[["place_id", "name", "longitude", "latitude", "radius", "tooltip"]]),
        _points_layer("edges", edges.assign(radius=4 * scale, tooltip=edges["text"] + " (beyond the map)")),
        _label_layer(labels, label_px * (2 if flows.empty else 1)),
    ]
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(
            latitude=frame.latitude, longitude=frame.longitude, zoom=frame.zoom, pitch=0
        ),
        map_provider=None,
        map_style=blank_map_style(),
        tooltip={"text": "{tooltip}"},
    )


def _basemap_layer(basemap_url: str) -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer",
        id="basemap",
        data=basemap_url,
        stroked=True,
        filled=True,
        get_fill_color=LAND,
        get_line_color=BORDER,
        line_width_min_pixels=0.8,
        pickable=False,
    )


def _arc_layer(flows: pd.DataFrame) -> pdk.Layer:
    columns = [
        "origin_place_id",
        "destination_place_id",
        "category",
        "origin_longitude",
        "origin_latitude",
        "destination_longitude",
        "destination_latitude",
        "source_colour",
        "target_colour",
        "width",
        "tooltip",
    ]
    return pdk.Layer(
        "ArcLayer",
        id="flows",
        data=flows[columns],
        get_source_position=["origin_longitude", "origin_latitude"],
        get_target_position=["destination_longitude", "destination_latitude"],
        get_source_color="source_colour",
        get_target_color="target_colour",
        get_width="width",
        get_height=0.5,
        width_units="'pixels'",
        great_circle=True,
        pickable=True,
        auto_highlight=True,
        parameters=ON_TOP,
    )


def _points_layer(layer_id: str, points: pd.DataFrame) -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=points[
            [
                "name",
                "longitude",
                "latitude",
                "radius",
                "tooltip",
                *(["place_id"] if "place_id" in points else []),
            ]
        ],
        get_position=["longitude", "latitude"],
        get_radius="radius",
        radius_units="'pixels'",
        get_fill_color=[245, 245, 245, 230],
        get_line_color=[11, 18, 32],
        stroked=True,
        line_width_min_pixels=1.5,
        pickable=True,
        auto_highlight=True,
        parameters=ON_TOP,
    )


def _label_layer(labels: pd.DataFrame, label_px: int) -> pdk.Layer:
    """Names above their points on a dark box that hides the arcs behind
    them; where they would overlap after zooming out, deck.gl's collision
    filter keeps the busiest. (Its collisionTestProps, and a data column
    named "text", made every label vanish in Streamlit's deck.gl.)"""
    return pdk.Layer(
        "TextLayer",
        id="labels",
        data=labels[["text", "longitude", "latitude", "movements"]].rename(columns={"text": "label"}),
        get_position=["longitude", "latitude"],
        get_text="label",
        get_size=label_px,
        size_units="'pixels'",
        get_color=LABEL,
        get_pixel_offset=[0, -round(label_px * 0.4)],
        outline_width=4,
        outline_color=[11, 18, 32, 255],
        font_family="'Helvetica Neue, Arial, sans-serif'",
        font_settings={"sdf": True},
        character_set="'auto'",
        pickable=False,
        parameters=ON_TOP,
        background=True,
        get_background_color=[11, 18, 32, 200],
        background_padding=[4, 1],
        extensions=[{"@@type": "CollisionFilterExtension"}],
        get_collision_priority="movements",
    )


def open_requests_chart(
    by_country: pd.DataFrame,
    *,
    measure: str,
    material: str | None = None,
    max_bars: int | None = None,
    font_px: int | None = None,
) -> go.Figure:
    """Open requests per country, most first.

    measure='count': open requests, stacked by material category.
    measure='missing': missing quantity of one material (units never mix).
    max_bars keeps the countries with the most (the wall: what fits), and
    says how many were left out; font_px sets every text's size.
    """
    if measure == "missing":
        figure, title, order = _missing_bars(by_country, material)
    else:
        figure, title, order = _count_bars(by_country)
    shown = order[-max_bars:] if max_bars else order
    if len(shown) < len(order):
        title += f" · the top {len(shown)}, and {len(order) - len(shown)} more"
    figure.update_layout(
        title=title,
        height=max(260, 28 * len(shown) + 110),
        margin={"l": 10, "r": 10, "t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.15},
        xaxis={"tickformat": ",d"},
        yaxis={"categoryorder": "array", "categoryarray": shown, "range": [-0.5, len(shown) - 0.5]},
    )
    if font_px:
        sized(figure, font_px)
    return figure


def sized(figure: go.Figure, font_px: int) -> go.Figure:
    """Every text of a chart at this size: Streamlit's theme sets some of them
    itself, so each is named."""
    figure.update_layout(font_size=font_px, title_font_size=font_px, legend_font_size=font_px)
    figure.update_xaxes(tickfont_size=font_px, title_font_size=font_px)
    figure.update_yaxes(tickfont_size=font_px, title_font_size=font_px)
    return figure


def _missing_bars(by_country: pd.DataFrame, material: str | None) -> tuple[go.Figure, str, list[str]]:
    data = by_country[by_country["material_code"] == material]
    unit = data["unit"].iloc[0] if len(data) else ""
    totals = (
        data.groupby(["iso3", "country"], as_index=False)["missing_quantity"]
        .sum()
        .sort_values(["missing_quantity", "iso3"], ascending=[True, False])
    )
    figure = go.Figure(
        go.Bar(
            x=totals["missing_quantity"],
            y=totals["country"],
            orientation="h",
            marker_color="rgb({},{},{})".format(*PALETTE["orange"]),
            hovertemplate="%{y}: %{x:,.0f} " + unit + " missing<extra></extra>",
        )
    )
    title = f"Missing {data['material_name'].iloc[0].lower() if len(data) else ''} ({unit})"
    return figure, title, totals["country"].tolist()


def _count_bars(by_country: pd.DataFrame) -> tuple[go.Figure, str, list[str]]:
    by_category = by_country.groupby(["iso3", "country", "material_category"], as_index=False)
    counts = by_category["open_requests"].sum()
    order = counts.groupby("country")["open_requests"].sum().sort_values(kind="stable").index.tolist()
    figure = go.Figure()
    for category in legend_categories("material_category", counts["material_category"].tolist()):
        part = counts[counts["material_category"] == category]
        label = category.replace("_", " ")
        figure.add_bar(
            x=part["open_requests"],
            y=part["country"],
            orientation="h",
            name=label,
            marker={
                "color": "rgb({},{},{})".format(*category_colour("material_category", category)),
                "pattern": {
                    "shape": PATTERNS.get(category, ""),
                    "fgcolor": BACKGROUND,
                    "fillmode": "overlay",
                },
            },
            hovertemplate="%{y}: %{x:,} open (" + label + ")<extra></extra>",
        )
    figure.update_layout(barmode="stack", legend_traceorder="normal")
    figure.update_xaxes(dtick=1 if counts["open_requests"].max() <= 10 else None)
    return figure, "Open requests per country", order


TREND_LINES = {
    "received": ("Requests received", "sky_blue"),
    "settled": ("Fulfilled or closed", "green"),
    "still_open": ("Still open", "orange"),
}


def request_trend_chart(trend: pd.DataFrame, *, font_px: int | None = None) -> go.Figure:
    """Requests received, settled and still open, day by day (request_trend.sql),
    as steps: the counts change from one day to the next."""
    thickness = (font_px or 14) / 14
    figure = go.Figure()
    for column, (name, colour) in TREND_LINES.items():
        figure.add_scatter(
            x=trend["day"],
            y=trend[column],
            name=name,
            mode="lines",
            line={
                "color": "rgb({},{},{})".format(*PALETTE[colour]),
                "width": (4 if column == "still_open" else 2.5) * thickness,
                "shape": "hv",
            },
            hovertemplate="%{x|%d %b %Y}: %{y:,} " + name.lower() + "<extra></extra>",
        )
    figure.update_layout(
        title="Requests over time",
        height=360,
        margin={"l": 10, "r": 10, "t": 50, "b": 30},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        yaxis={"tickformat": ",d", "rangemode": "tozero"},
        xaxis={"tickformat": "%d %b"},
        hovermode="x unified",
    )
    if font_px:
        sized(figure, font_px)
    return figure
