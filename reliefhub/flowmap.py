"""Where a flow map looks and what fits in it: the opening view framed on the
flows a filter leaves, the far ends that fall outside it (shown as markers
on the edge), and place labels that do not overlap there.

All in screen pixels of the Web Mercator projection deck.gl draws with, at
the map's size on the page; pure functions of data, like figures.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

WORLD_PX = 512  # width of the whole world at zoom 0
# The share of the movements' destinations the opening view must hold: the
# middle 90 % by volume, so the flights from China do not zoom Europe out of
# sight (their origins show as edge markers).
FRAMED_SHARE = 0.9
# Room around those destinations: the rest of the region's places fit too.
FRAME_MARGIN = 1.7
# Edge markers sit this far inside the frame, so their point and label show.
EDGE_INSET_PX = 28


@dataclass(frozen=True)
class MapFrame:
    latitude: float
    longitude: float
    zoom: float


@dataclass(frozen=True)
class Screen:
    """A map of width x height pixels showing `frame`."""

    frame: MapFrame
    width: int
    height: int

    def xy(self, latitude, longitude) -> tuple[np.ndarray, np.ndarray]:
        """Pixel positions from the map's top-left corner."""
        x, y = _world_xy(np.asarray(latitude, float), np.asarray(longitude, float), self.frame.zoom)
        cx, cy = _world_xy(self.frame.latitude, self.frame.longitude, self.frame.zoom)
        return x - cx + self.width / 2, y - cy + self.height / 2

    def lat_lon(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """The inverse of xy."""
        cx, cy = _world_xy(self.frame.latitude, self.frame.longitude, self.frame.zoom)
        scale = WORLD_PX * 2**self.frame.zoom / (2 * math.pi)
        wx, wy = np.asarray(x, float) + cx - self.width / 2, np.asarray(y, float) + cy - self.height / 2
        longitude = np.degrees(wx / scale - math.pi)
        latitude = np.degrees(2 * np.arctan(np.exp(math.pi - wy / scale)) - math.pi / 2)
        return latitude, longitude

    def inside(self, latitude, longitude, inset: float = 0) -> np.ndarray:
        x, y = self.xy(latitude, longitude)
        return (x >= inset) & (x <= self.width - inset) & (y >= inset) & (y <= self.height - inset)


def _world_xy(latitude, longitude, zoom: float):
    scale = WORLD_PX * 2**zoom / (2 * math.pi)
    x = scale * (np.radians(longitude) + math.pi)
    y = scale * (math.pi - np.log(np.tan(math.pi / 4 + np.radians(latitude) / 2)))
    return x, y


def frame_bounds(
    south: float,
    north: float,
    west: float,
    east: float,
    *,
    width_px: int = 1100,
    height_px: int = 560,
    margin: float = 1.2,
) -> MapFrame:
    """The view that fits the box, enlarged `margin` times, into a map of this size."""
    _, y_north = _world_xy(north, 0, 0)
    _, y_south = _world_xy(south, 0, 0)
    lon_fraction = max(east - west, 1.0) * margin / 360
    lat_fraction = max(y_south - y_north, 2.0) * margin / WORLD_PX
    zoom = min(
        math.log2(width_px / (WORLD_PX * lon_fraction)), math.log2(height_px / (WORLD_PX * lat_fraction))
    )
    return MapFrame((south + north) / 2, (west + east) / 2, round(max(1.0, min(zoom, 8.0)), 2))


def _weighted_quantiles(values: pd.Series, weights: pd.Series, shares: tuple[float, float]) -> list[float]:
    order = np.argsort(values.to_numpy())
    sorted_values, cumulative = values.to_numpy()[order], np.cumsum(weights.to_numpy()[order])
    return [float(sorted_values[np.searchsorted(cumulative, s * cumulative[-1])]) for s in shares]


def flows_frame(flows: pd.DataFrame, *, width_px: int, height_px: int, fallback: MapFrame) -> MapFrame:
    """The opening view of these flows: the middle FRAMED_SHARE of their
    destinations, weighted by movements; `fallback` when there are none."""
    if flows.empty:
        return fallback
    cut = (1 - FRAMED_SHARE) / 2
    weights = flows["movements"]
    south, north = _weighted_quantiles(flows["destination_latitude"], weights, (cut, 1 - cut))
    west, east = _weighted_quantiles(flows["destination_longitude"], weights, (cut, 1 - cut))
    return frame_bounds(south, north, west, east, width_px=width_px, height_px=height_px, margin=FRAME_MARGIN)


def _ends(flows: pd.DataFrame) -> pd.DataFrame:
    """Both ends of every flow, with its movements."""
    columns = ["place_id", "name", "latitude", "longitude"]
    return pd.concat(
        [
            flows[[f"{end}_{c}" for c in columns] + ["movements"]].set_axis([*columns, "movements"], axis=1)
            for end in ("origin", "destination")
        ],
        ignore_index=True,
    )


def edge_markers(flows: pd.DataFrame, screen: Screen, font_px: float) -> pd.DataFrame:
    """One marker per place an arc reaches beyond the frame: on the frame's
    edge, where the line from the centre towards the place leaves it, with
    the place's name and an arrow pointing its way, its label moved inwards
    as far as it needs to fit (label_latitude, label_longitude)."""
    ends = _ends(flows)
    far = ends[~screen.inside(ends["latitude"], ends["longitude"])]
    if far.empty:
        return pd.DataFrame(
            columns=[
                "place_id",
                "name",
                "latitude",
                "longitude",
                "movements",
                "text",
                "label_latitude",
                "label_longitude",
            ]
        )
    far = far.groupby(["place_id", "name", "latitude", "longitude"], as_index=False)["movements"].sum()
    x, y = screen.xy(far["latitude"], far["longitude"])
    dx, dy = x - screen.width / 2, y - screen.height / 2
    half_w, half_h = screen.width / 2 - EDGE_INSET_PX, screen.height / 2 - EDGE_INSET_PX
    # How far along the ray from the centre the frame's inset edge lies.
    reach = np.minimum(
        np.divide(half_w, np.abs(dx), out=np.full(len(dx), np.inf), where=dx != 0),
        np.divide(half_h, np.abs(dy), out=np.full(len(dy), np.inf), where=dy != 0),
    )
    x, y = screen.width / 2 + dx * reach, screen.height / 2 + dy * reach
    texts = [f"{_arrow(a, b)} {name}" for a, b, name in zip(dx, dy, far["name"], strict=True)]
    half_widths = np.array([label_box(0, 0, text, font_px)[2] for text in texts])
    label_x = np.clip(x, half_widths, screen.width - half_widths)
    label_y = np.clip(y, 2.2 * font_px, screen.height)
    latitude, longitude = screen.lat_lon(x, y)
    label_latitude, label_longitude = screen.lat_lon(label_x, label_y)
    return far.assign(
        latitude=latitude,
        longitude=longitude,
        text=texts,
        label_latitude=label_latitude,
        label_longitude=label_longitude,
    )


def _arrow(dx: float, dy: float) -> str:
    """The arrow among eight that points most nearly along (dx, dy), y downwards."""
    octant = round(math.atan2(-dy, dx) / (math.pi / 4)) % 8
    return "→↗↑↖←↙↓↘"[octant]


def label_box(x: float, y: float, text: str, font_px: float) -> tuple[float, float, float, float]:
    """The box a label drawn centred above (x, y) covers, estimated from its
    length: glyphs average 0.6 of the font size wide, plus the halo."""
    half_width = len(text) * font_px * 0.3 + 4
    return (x - half_width, y - 2.2 * font_px, x + half_width, y - 0.2 * font_px)


def declutter_labels(labels: pd.DataFrame, screen: Screen, font_px: float) -> pd.DataFrame:
    """The labels (columns text, latitude, longitude, movements) that fit on
    screen without overlapping, the busiest first."""
    kept, boxes = [], []
    ordered = labels.sort_values(["movements", "text"], ascending=[False, True])
    xs, ys = screen.xy(ordered["latitude"], ordered["longitude"])
    for index, text, x, y in zip(ordered.index, ordered["text"], xs, ys, strict=True):
        box = label_box(x, y, text, font_px)
        on_screen = box[0] >= 0 and box[1] >= 0 and box[2] <= screen.width and box[3] <= screen.height
        if on_screen and not any(overlaps(box, other) for other in boxes):
            boxes.append(box)
            kept.append(index)
    return labels.loc[kept]


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])
