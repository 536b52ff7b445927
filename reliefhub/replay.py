"""Replay in the browser: the movements map played day by day by the browser
itself, so a replay costs one page run, not one a day.

The page sends, once, the flow map of the chosen range (figures.movement_deck,
so the replay shows the same arcs, colours, labels and edge markers) and, for
each arc, its movements day by day (queries/replay_flows.sql). The browser
(static/replay/replay.js, on deck.gl's own bundle in static/vendor/) then
grows each arc's width with the movements so far, by the map's rules, and
fades it as its last movement grows older (figures.REPLAY_FRESH_DAYS).
Pure functions of data, like figures.py.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pydeck as pdk

from reliefhub import figures

DECK_GL_URL = "/app/static/vendor/deck.gl-9.1.14/dist.min.js"
REPLAY_JS_URL = "/app/static/replay/replay.js"
# Days of the crisis played per second: a choice on the page.
SPEEDS_DAYS_PER_SECOND = (1, 2, 5)
# The controls' row above the map, and the date readout's size, at scale 1.
CONTROLS_PX = 96
READOUT_PX = 64
# On a wall the replay plays by itself, round and round: the last day held
# this long before it starts over.
HOLD_SECONDS = 5


@dataclass(frozen=True)
class Playing:
    """How a replay plays: on a page, with controls for the person at it
    (play, speed, a day slider, the readout above the map); on a wall, with
    none (nobody can press them), by itself at `days_per_second` and round and
    round, the readout over the map's corner."""

    controls: bool = True
    days_per_second: float = SPEEDS_DAYS_PER_SECOND[0]


ON_A_PAGE = Playing()


# What the browser does without, of each arc the map sends: the replay works
# out widths itself, and arcs are not picked in a replay (keeping the payload
# under the map's budget). It keeps the ends and colours (it sets their alpha).
ARC_FIELDS_LEFT_OUT = ("origin_place_id", "destination_place_id", "category", "width", "tooltip")
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def shown_arcs(flows: pd.DataFrame) -> dict[str, list[str]]:
    """The arcs a map shows, as replay_flows.sql's three parameter lists."""
    return {
        "origins": flows["origin_place_id"].tolist(),
        "destinations": flows["destination_place_id"].tolist(),
        "categories": flows["category"].tolist(),
    }


def vlq(numbers) -> str:
    """Non-negative integers as base64 VLQ (as source maps write them): five
    bits a character, the sixth saying another character follows. Days and
    counts are mostly small, so most take one character."""
    return "".join(map(_vlq_number, numbers))


@functools.cache
def _vlq_number(number: int) -> str:
    if number < 0:
        raise ValueError(f"vlq encodes non-negative integers, not {number}")
    out = []
    while True:
        digit, number = number & 31, number >> 5
        out.append(_BASE64[digit | (32 if number else 0)])
        if not number:
            return "".join(out)


def day_series(daily: pd.DataFrame, first_day: date) -> dict[int, str]:
    """Each arc's days with movements, by the arc's number in shown_arcs
    (from 1, as replay_flows.sql gives them), as VLQ pairs: the days since
    its previous such day (since `first_day` for the first), and the
    movements. (Read as integer arrays cut at each arc's first row: at a
    million shipments, tens of thousands of days, grouping them in pandas
    cost several times as much.)"""
    if daily.empty:
        return {}
    days = (daily["day"].to_numpy().astype("datetime64[D]") - np.datetime64(first_day, "D")).astype(np.int64)
    order = np.lexsort((days, daily["arc"].to_numpy()))
    arc, day_index = daily["arc"].to_numpy()[order], days[order]
    starts = np.flatnonzero(np.diff(arc, prepend=arc[0] - 1))
    gaps = np.diff(day_index, prepend=0)
    gaps[starts] = day_index[starts]
    pairs = [
        _vlq_number(gap) + _vlq_number(n)
        for gap, n in zip(gaps.tolist(), daily["movements"].to_numpy()[order].tolist(), strict=True)
    ]
    ends = [*starts[1:].tolist(), len(pairs)]
    return {
        number: "".join(pairs[start:end])
        for number, start, end in zip(arc[starts].tolist(), starts.tolist(), ends, strict=True)
    }


ARC_KEY = ("origin_place_id", "destination_place_id", "category")


def arc_numbers(shown: dict[str, list[str]]) -> dict[tuple[str, str, str], int]:
    """Each arc's number in shown_arcs' lists (from 1), by its ends and category."""
    keys = zip(shown["origins"], shown["destinations"], shown["categories"], strict=True)
    return {key: number for number, key in enumerate(keys, start=1)}


def replay_payload(
    deck: figures.DeckSpec | pdk.Deck,
    daily: pd.DataFrame,
    *,
    shown: dict[str, list[str]],
    first_day: date,
    last_day: date,
    scale: float = 1.0,
    playing: Playing = ON_A_PAGE,
) -> dict:
    """What the browser needs to play the replay: the map's deck (its arcs
    each with their `series`), the days, and the map's arc rules. `daily`
    holds replay_flows.sql's rows for the arcs `shown` (shown_arcs)."""
    spec = json.loads(deck.to_json())
    series = day_series(daily, first_day)
    numbers = arc_numbers(shown)
    for layer in spec["layers"]:
        if layer["id"] == "flows":
            layer["data"] = [
                {field: value for field, value in arc.items() if field not in ARC_FIELDS_LEFT_OUT}
                | {"series": series.get(numbers.get(tuple(arc[field] for field in ARC_KEY)), "")}
                for arc in layer["data"]
            ]
    return {
        "deck": spec,
        "first_day": first_day.isoformat(),
        "days": (last_day - first_day).days + 1,
        "speeds": list(SPEEDS_DAYS_PER_SECOND),
        "arc_width_px": [w * scale for w in figures.ARC_WIDTH_PX],
        "arc_alpha": list(figures.ARC_ALPHA),
        "fresh_days": figures.REPLAY_FRESH_DAYS[0],
        "fade_days": figures.REPLAY_FRESH_DAYS[1],
        "floor": figures.REPLAY_FLOOR,
        "readout_px": round(READOUT_PX * scale),
        "controls_px": round(CONTROLS_PX * scale) if playing.controls else 0,
        "controls": playing.controls,
        "days_per_second": playing.days_per_second,
        "hold_seconds": HOLD_SECONDS,
    }


def script_json(payload: dict) -> str:
    """JSON that is safe inside a <script> element: no '<' can close it."""
    return json.dumps(payload, separators=(",", ":")).replace("<", "\\u003c")


def replay_html(payload: dict, *, map_height_px: int | None = None) -> str:
    """The replay component: controls (on a page), the large date readout,
    the map, and the scripts, all served by the dashboard itself. Without a
    height the map fills the frame (a wall sizes the frame). Stored text
    (place names, tooltips) travels only inside the JSON, which the script
    puts into text nodes, never into markup."""
    readout = f'<output id="readout" style="font-size:{payload["readout_px"]}px"></output>'
    height = "100vh" if map_height_px is None else f"{map_height_px}px"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<link rel="stylesheet" href="/app/static/replay/replay.css">
</head><body>
{_controls_html(payload, readout) if payload["controls"] else ""}
<div id="map" style="height:{height}">{"" if payload["controls"] else readout}</div>
<script id="replay-data" type="application/json">{script_json(payload)}</script>
<script src="{DECK_GL_URL}"></script>
<script src="{REPLAY_JS_URL}"></script>
</body></html>"""


def _controls_html(payload: dict, readout: str) -> str:
    return f"""<div class="controls" style="height:{payload["controls_px"]}px">
  <button id="play" type="button" aria-label="Play">▶ Play</button>
  <span class="speeds" role="group" aria-label="Speed"></span>
  <input id="scrub" type="range" min="0" step="1" aria-label="Day of the replay">
  {readout}
</div>"""


def component_height(map_height_px: int, scale: float = 1.0) -> int:
    """The component's height on the page: its controls and its map."""
    return map_height_px + round(CONTROLS_PX * scale) + 8
