"""The map payload part: bytes of the deck JSON the map sends to the browser."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reliefhub import figures, flowmap
from reliefhub.bench.cases import scenarios
from reliefhub.bench.measurements import PAYLOAD_BUDGET_BYTES, Measurement, timed
from reliefhub.db import Database
from reliefhub.ui.maps import BASEMAP_URL


def bench_map_payload(db_path: Path, scale: int, repeat: int) -> list[Measurement]:
    db = Database(db_path, cache_bytes=0)
    try:
        params = scenarios(db)["all"]
        frame = db.query("map_frame")
        view = (
            flowmap.frame_bounds(*(float(frame.at[0, c]) for c in ("south", "north", "west", "east")))
            if len(frame) and pd.notna(frame.at[0, "south"])
            else figures.MapFrame(50.0, 10.0, 3.5)
        )
        out = []
        for colour_by in ("cargo_kind", "mode"):
            flows = db.query("movement_flows", params | {"colour_by": colour_by, "limit": figures.MAP_ARCS})
            places = db.query("movement_places", params | {"limit": figures.MAP_PLACES})

            def build(flows=flows, places=places, colour_by=colour_by):
                return figures.movement_deck(
                    flows, places, basemap_url=BASEMAP_URL, colour_by=colour_by, frame=view
                ).to_json()

            size = len(build().encode())
            t = timed(build, repeat)
            out.append(
                Measurement(
                    f"map_payload[{colour_by}]",
                    scale,
                    t.median_ms,
                    t.p90_ms,
                    value=size,
                    unit="bytes",
                    budget=PAYLOAD_BUDGET_BYTES,
                    within_budget=size < PAYLOAD_BUDGET_BYTES,
                    rows=len(flows),
                    note=f"{len(flows)} arcs, {len(places)} places; time is building the deck JSON",
                )
            )
        return out
    finally:
        db.close()
