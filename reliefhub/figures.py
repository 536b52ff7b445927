"""Figure builders: pure functions from query results to pydeck and plotly specs.

Nothing here touches Streamlit or the database, so each figure can be tested
from a DataFrame alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

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
    """'28–31 Mar 2020'; a month when the source gives only the month."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    if month_only and first.to_period("M") == last.to_period("M"):
        return first.strftime("%b %Y") + " (month only)"
    if first == last:
        return f"{first.day} {first:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


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
    parts.append(date_span(row.first_date, row.last_date, bool(row.has_month_only_dates)))
    if isinstance(row.aircraft, str) and row.aircraft:
        parts.append(row.aircraft)
    return " · ".join(parts)


def place_tooltip(row) -> str:
    return (
        f"{row['name']} ({row['iso3']}) · {plural(int(row['departures']), 'departure')}"
        f" · {plural(int(row['arrivals']), 'arrival')}"
    )


@dataclass(frozen=True)
class MapFrame:
    latitude: float
    longitude: float
    zoom: float


def frame_bounds(
    south: float, north: float, west: float, east: float, *, width_px: int = 1100, height_px: int = 560
) -> MapFrame:
    """The view that fits the box into a map of about this size, with a margin."""
    _, y_north = _screen_xy(north, 0, 0)
    _, y_south = _screen_xy(south, 0, 0)
    world_px = 512  # width of the whole world at zoom 0
    lon_fraction = max(east - west, 1.0) * 1.2 / 360
    lat_fraction = max(y_south - y_north, 2.0) * 1.2 / world_px
    zoom = min(
        math.log2(width_px / (world_px * lon_fraction)), math.log2(height_px / (world_px * lat_fraction))
    )
    return MapFrame((south + north) / 2, (west + east) / 2, round(max(1.0, min(zoom, 8.0)), 2))


def _screen_xy(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    scale = 512 * 2**zoom / (2 * math.pi)
    x = scale * (math.radians(lon) + math.pi)
    y = scale * (math.pi - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))
    return x, y


def declutter_labels(places: pd.DataFrame, zoom: float, font_px: int = 18) -> pd.DataFrame:
    """Keep the busiest places' labels that do not overlap at this zoom."""
    kept, boxes = [], []
    for idx, row in places.sort_values("movements", ascending=False).iterrows():
        x, y = _screen_xy(row["latitude"], row["longitude"], zoom)
        half_w = len(row["name"]) * font_px * 0.3 + 6
        box = (x - half_w, y - font_px, x + half_w, y + font_px)
        if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in boxes):
            boxes.append(box)
            kept.append(idx)
    return places.loc[kept]


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


# pydeck reads every string argument as a JavaScript expression; quoting a
# string ("'pixels'") makes it a plain value.
def movement_deck(
    flows: pd.DataFrame,
    places: pd.DataFrame,
    *,
    basemap_url: str,
    colour_by: str,
    frame: MapFrame,
    label_px: int = 18,
    scale: float = 1.0,
) -> pdk.Deck:
    """The movements map: country outlines, one arc per flow, sized points, labels.

    `scale` enlarges lines, points, labels and zoom together, for a 4K screen
    that runs without operating-system scaling.
    """
    label_px = round(label_px * scale)
    frame = MapFrame(frame.latitude, frame.longitude, round(frame.zoom + math.log2(scale), 2))
    flows = flows.assign(
        tooltip=[flow_tooltip(r) for r in flows.itertuples()],
        colour=[[*category_colour(colour_by, c), 210] for c in flows["category"]],
    )
    busiest_flow = max(int(flows["movements"].max()), 1) if len(flows) else 1
    flows["width"] = (2 + 10 * (flows["movements"] / busiest_flow) ** 0.5) * scale
    places = places.assign(tooltip=[place_tooltip(r) for _, r in places.iterrows()])
    busiest_place = max(int(places["movements"].max()), 1) if len(places) else 1
    places["radius"] = (4 + 12 * (places["movements"] / busiest_place) ** 0.5) * scale
    labels = declutter_labels(places, frame.zoom, label_px) if len(places) else places

    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            id="basemap",
            data=basemap_url,
            stroked=True,
            filled=True,
            get_fill_color=LAND,
            get_line_color=BORDER,
            line_width_min_pixels=0.8,
            pickable=False,
        ),
        pdk.Layer(
            "ArcLayer",
            id="flows",
            data=flows[
                [
                    "origin_place_id",
                    "destination_place_id",
                    "origin_longitude",
                    "origin_latitude",
                    "destination_longitude",
                    "destination_latitude",
                    "category",
                    "movements",
                    "colour",
                    "width",
                    "tooltip",
                ]
            ],
            get_source_position=["origin_longitude", "origin_latitude"],
            get_target_position=["destination_longitude", "destination_latitude"],
            get_source_color="colour",
            get_target_color="colour",
            get_width="width",
            get_height=0.5,
            width_units="'pixels'",
            great_circle=True,
            pickable=True,
            auto_highlight=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="places",
            data=places[["place_id", "name", "longitude", "latitude", "radius", "tooltip"]],
            get_position=["longitude", "latitude"],
            get_radius="radius",
            radius_units="'pixels'",
            get_fill_color=[245, 245, 245, 220],
            get_line_color=[11, 18, 32],
            stroked=True,
            line_width_min_pixels=1.5,
            pickable=True,
            auto_highlight=True,
        ),
        pdk.Layer(
            "TextLayer",
            id="labels",
            data=labels[["name", "longitude", "latitude"]],
            get_position=["longitude", "latitude"],
            get_text="name",
            get_size=label_px,
            size_units="'pixels'",
            get_color=LABEL,
            get_pixel_offset=[0, -label_px],
            outline_width=3,
            outline_color=[11, 18, 32, 255],
            font_family="'Helvetica Neue, Arial, sans-serif'",
            font_settings={"sdf": True},
            character_set="'auto'",
            pickable=False,
        ),
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
