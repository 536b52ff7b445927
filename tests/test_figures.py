"""Figure builders, checked through the JSON they produce."""

import json
from datetime import date

import pandas as pd

from reliefhub import figures, flowmap
from reliefhub.figures import MAP_ARCS, MAP_PLACES
from tests.conftest import no_filters


def build_deck(fixture_db, colour_by="cargo_kind"):
    flows = fixture_db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by=colour_by))
    places = fixture_db.query("movement_places", no_filters(limit=MAP_PLACES))
    return figures.movement_deck(
        flows,
        places,
        basemap_url="/app/static/x.geojson",
        colour_by=colour_by,
        frame=figures.MapFrame(46.0, 6.0, 4.4),
    )


def deck_spec(fixture_db, colour_by="cargo_kind") -> dict:
    return json.loads(build_deck(fixture_db, colour_by).to_json())


def layer(spec: dict, layer_id: str) -> dict:
    return next(lay for lay in spec["layers"] if lay["id"] == layer_id)


def test_map_draws_basemap_arcs_points_and_labels_without_any_tile_source(fixture_db):
    spec = deck_spec(fixture_db)
    assert [(lay["@@type"], lay["id"]) for lay in spec["layers"]] == [
        ("GeoJsonLayer", "basemap"),
        ("ArcLayer", "flows"),
        ("ScatterplotLayer", "places"),
        ("ScatterplotLayer", "edges"),
        ("TextLayer", "labels"),
    ]
    # Labels over everything, never overlapping: deck.gl's collision filter, busiest first.
    labels = layer(spec, "labels")
    assert labels["extensions"] == [{"@@type": "CollisionFilterExtension"}]
    assert labels["getCollisionPriority"] == "@@=movements"
    assert labels["parameters"] == {"depthCompare": "always", "depthWriteEnabled": False}
    assert layer(spec, "basemap")["data"] == "/app/static/x.geojson"
    assert spec["mapStyle"].startswith("data:application/json,")
    assert "mapProvider" not in spec or spec["mapProvider"] in (None, "")
    assert spec["initialViewState"] == {"latitude": 46.0, "longitude": 6.0, "zoom": 4.4, "pitch": 0}
    arcs = layer(spec, "flows")
    assert arcs["widthUnits"] == "pixels"
    assert {(a["origin_place_id"], a["destination_place_id"]) for a in arcs["data"]} >= {
        ("metz", "essen-muelheim-airport"),
        ("opocinek", "milan"),
        ("pardubice-airport", "torrejon-air-base"),
        ("bergamo-airport", "cologne-bonn-airport"),
    }
    assert build_deck(fixture_db)._tooltip == {"text": "{tooltip}"}  # sent beside the JSON


def test_arc_tooltip_reads_as_a_sentence(fixture_db):
    arcs = layer(deck_spec(fixture_db), "flows")["data"]
    metz = next(a for a in arcs if a["origin_place_id"] == "metz")
    assert metz["tooltip"] == (
        "Metz → Essen/Mülheim Airport · 3 flights · 3 shipments · 6 patients · 28–31 Mar 2020"
        " · French Army NH90 Caïman"
    )


def test_arc_width_colour_and_order_follow_count_category_and_direction(fixture_db):
    data = layer(deck_spec(fixture_db, "mode"), "flows")["data"]
    arcs = {a["origin_place_id"]: a for a in data}
    assert arcs["metz"]["width"] == 6.0  # the busiest route, at the cap
    assert arcs["opocinek"]["width"] < arcs["pardubice-airport"]["width"] < arcs["metz"]["width"]
    assert data[-1]["origin_place_id"] == "metz"  # drawn last: on top
    assert arcs["opocinek"]["target_colour"][:3] == figures.PALETTE["orange"]  # road
    assert arcs["metz"]["target_colour"] == [*figures.PALETTE["sky_blue"], 235]  # air, busiest: opaque
    assert arcs["opocinek"]["target_colour"][3] < 235  # smaller flows fade
    # The origin end is the same colour, dimmed into the background: direction reads dim to bright.
    assert sum(arcs["metz"]["source_colour"][:3]) < sum(arcs["metz"]["target_colour"][:3])


def test_date_span_keeps_vague_dates_vague():
    assert figures.date_span(date(2020, 3, 28), date(2020, 3, 31), False) == "28–31 Mar 2020"
    assert figures.date_span(date(2020, 3, 28), date(2020, 3, 28), False) == "28 Mar 2020"
    assert figures.date_span(date(2020, 3, 28), date(2020, 4, 2), False) == "28 Mar – 2 Apr 2020"
    assert figures.date_span(date(2020, 4, 1), date(2020, 4, 1), True) == "Apr 2020 (month only)"


def test_labels_that_would_collide_or_leave_the_screen_are_dropped():
    places = pd.DataFrame(
        {
            "text": ["Pardubice Airport", "Opočínek", "Milan", "Torrejón Air Base"],
            "latitude": [50.0134, 50.047, 45.46, 40.4967],
            "longitude": [15.7386, 15.666, 9.19, -3.4458],
            "movements": [9, 2, 5, 3],
        }
    )

    def kept(zoom: float) -> list[str]:
        screen = flowmap.Screen(flowmap.MapFrame(47.0, 10.0, zoom), 1100, 560)
        return flowmap.declutter_labels(places, screen, 18)["text"].tolist()

    assert kept(4.4) == ["Pardubice Airport", "Milan", "Torrejón Air Base"]
    assert kept(9) == []  # zoomed on the Alps: every place off screen


def test_frame_fits_the_box():
    frame = flowmap.frame_bounds(40.5, 51.4, -3.4, 15.7)
    assert (round(frame.latitude, 2), round(frame.longitude, 2)) == (45.95, 6.15)
    assert 4 < frame.zoom < 5


def test_open_requests_chart_counts_and_missing(fixture_db):
    by_country = fixture_db.query("open_requests_by_country", no_filters(as_of=date(2020, 4, 1)))
    counts = json.loads(figures.open_requests_chart(by_country, measure="count").to_json())
    assert counts["layout"]["yaxis"]["categoryarray"][-1] == "Spain"  # most requests on top
    assert {t["name"] for t in counts["data"]} == {"ppe", "medical equipment", "patients"}
    missing = figures.open_requests_chart(by_country, measure="missing", material="protective_clothing")
    assert list(missing.data[0].y) == ["Spain"]
    assert list(missing.data[0].x) == [140000.0]
    assert "pieces" in missing.layout.title.text


def test_the_legend_says_when_the_map_leaves_arcs_out(fixture_db):
    every = fixture_db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="mode"))
    busiest = fixture_db.query("movement_flows", no_filters(limit=2, colour_by="mode"))
    assert figures.arcs_shown(every) == ""
    assert figures.arcs_shown(busiest) == "2 of 6 arcs: the busiest of each colour, then the busiest"
    assert figures.arcs_shown(every.head(0)) == ""


def test_the_overview_map_of_2020_reads_at_its_opening_view(tmp_path):
    """Every label clear of every other, and every arc's ends in the frame or
    named by an edge marker, in screen pixels at the view the overview opens on."""
    from reliefhub import DATA_DIR
    from reliefhub.db import Database
    from reliefhub.loader import build_database
    from reliefhub.ui import maps

    build_database(DATA_DIR, tmp_path / "real.duckdb")
    db = Database(tmp_path / "real.duckdb", read_only=True)
    flows = db.query("movement_flows", no_filters(limit=MAP_ARCS, colour_by="cargo_kind"))
    places = db.query("movement_places", no_filters(limit=MAP_PLACES))
    bounds = db.query("map_frame").iloc[0]
    db.close()
    width, height = (870, 560)  # pages/overview.py, OVERVIEW_MAP_PX
    whole = flowmap.frame_bounds(bounds.south, bounds.north, bounds.west, bounds.east)
    frame = flowmap.flows_frame(flows, width_px=width, height_px=height, fallback=whole)
    spec = json.loads(
        figures.movement_deck(
            flows,
            places,
            basemap_url=maps.BASEMAP_URL,
            colour_by="cargo_kind",
            frame=frame,
            size_px=(width, height),
        ).to_json()
    )
    view = spec["initialViewState"]
    screen = flowmap.Screen(
        flowmap.MapFrame(view["latitude"], view["longitude"], view["zoom"]), width, height
    )

    labels = layer(spec, "labels")
    font_px = labels["getSize"]
    boxes = []
    for label in labels["data"]:
        (x,), (y,) = screen.xy([label["latitude"]], [label["longitude"]])
        boxes.append((label["label"], flowmap.label_box(x, y, label["label"], font_px)))
    assert len(boxes) >= 10
    for i, (text, box) in enumerate(boxes):
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height, text
        clashes = [other for other, b in boxes[i + 1 :] if flowmap.overlaps(box, b)]
        assert clashes == [], text

    marked = {edge["place_id"] for edge in layer(spec, "edges")["data"]}
    assert marked, "2020's arcs to Asia and America leave the European frame"
    for arc in layer(spec, "flows")["data"]:
        for end in ("origin", "destination"):
            inside = screen.inside([arc[f"{end}_latitude"]], [arc[f"{end}_longitude"]])[0]
            assert inside or arc[f"{end}_place_id"] in marked, (arc["tooltip"], end)


def test_an_empty_map_says_so_on_the_map(fixture_db):
    nothing = no_filters(limit=MAP_ARCS, colour_by="cargo_kind", countries=["ZZZ"])
    spec = json.loads(
        figures.movement_deck(
            fixture_db.query("movement_flows", nothing),
            fixture_db.query("movement_places", no_filters(limit=MAP_PLACES, countries=["ZZZ"])),
            basemap_url="/x.geojson",
            colour_by="cargo_kind",
            frame=figures.MapFrame(46.0, 6.0, 4.4),
        ).to_json()
    )
    notice = layer(spec, "labels")
    assert [label["label"] for label in notice["data"]] == ["No movements match these filters"]
    assert (notice["data"][0]["latitude"], notice["data"][0]["longitude"]) == (46.0, 6.0)
    assert layer(spec, "flows")["data"] == [] and layer(spec, "edges")["data"] == []


def test_a_replay_fades_older_movements():
    flows = pd.DataFrame(
        {"last_date": pd.to_datetime(["2020-04-01", "2020-03-29", "2020-03-10", "2020-01-01"])}
    )
    assert figures.recency(flows, date(2020, 4, 1)).round(2).tolist() == [1.0, 1.0, 0.2, 0.2]
    assert figures.recency(flows, date(2020, 4, 8)).round(2).tolist() == [0.71, 0.5, 0.2, 0.2]
    assert figures.recency(flows, None).tolist() == [1.0] * 4
