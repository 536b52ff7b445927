"""Figure builders, checked through the JSON they produce."""

import json
from datetime import date

import pandas as pd

from reliefhub import figures
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
    assert [lay["@@type"] for lay in spec["layers"]] == [
        "GeoJsonLayer",
        "ArcLayer",
        "ScatterplotLayer",
        "TextLayer",
    ]
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


def test_arc_width_and_colour_follow_count_and_category(fixture_db):
    arcs = {a["origin_place_id"]: a for a in layer(deck_spec(fixture_db, "mode"), "flows")["data"]}
    assert arcs["metz"]["width"] == 12.0  # the busiest route
    assert arcs["opocinek"]["width"] < arcs["pardubice-airport"]["width"] < arcs["metz"]["width"]
    assert arcs["opocinek"]["colour"] == [*figures.PALETTE["orange"], 210]  # road
    assert arcs["metz"]["colour"] == [*figures.PALETTE["sky_blue"], 210]  # air


def test_date_span_keeps_vague_dates_vague():
    assert figures.date_span(date(2020, 3, 28), date(2020, 3, 31), False) == "28–31 Mar 2020"
    assert figures.date_span(date(2020, 3, 28), date(2020, 3, 28), False) == "28 Mar 2020"
    assert figures.date_span(date(2020, 3, 28), date(2020, 4, 2), False) == "28 Mar – 2 Apr 2020"
    assert figures.date_span(date(2020, 4, 1), date(2020, 4, 1), True) == "Apr 2020 (month only)"


def test_labels_that_would_collide_are_dropped():
    places = pd.DataFrame(
        {
            "name": ["Pardubice Airport", "Opočínek", "Milan"],
            "latitude": [50.0134, 50.047, 45.46],
            "longitude": [15.7386, 15.666, 9.19],
            "movements": [9, 2, 5],
        }
    )
    assert figures.declutter_labels(places, zoom=4.4)["name"].tolist() == ["Pardubice Airport", "Milan"]
    assert figures.declutter_labels(places, zoom=12)["name"].tolist() == [
        "Pardubice Airport",
        "Milan",
        "Opočínek",
    ]


def test_frame_fits_the_box():
    frame = figures.frame_bounds(40.5, 51.4, -3.4, 15.7)
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
