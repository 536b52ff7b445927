"""The replay played in the browser: its query (exact rows on the real 2020
record), the day series it sends (which decode back to the query's rows and
add up to the map's arcs), and the payload and page around them."""

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reliefhub import DATA_DIR, REPO_DIR, figures, flowmap, replay
from reliefhub.db import Database
from reliefhub.loader import build_database
from tests.conftest import no_filters

BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> Database:
    path = tmp_path_factory.mktemp("replay") / "real.duckdb"
    build_database(DATA_DIR, path)
    db = Database(path, read_only=True)
    yield db
    db.close()


def shown_flows(db: Database, colour_by: str, **filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's arcs under these filters, and the replay's days of them."""
    params = no_filters(**filters)
    flows = db.query("movement_flows", params | {"colour_by": colour_by, "limit": figures.MAP_ARCS})
    daily = db.query("replay_flows", params | {"colour_by": colour_by, **replay.shown_arcs(flows)})
    return flows, daily


def test_replay_flows_exact_rows_for_france_in_late_march(real_db):
    """Movements count on their day; records dated only to March (Haut-Rhin
    to Basel, France to Italy) count on the first day of the chosen range."""
    _, daily = shown_flows(
        real_db, "cargo_kind", countries=["FRA"], date_from=date(2020, 3, 24), date_to=date(2020, 3, 29)
    )
    assert [
        (r.origin_place_id, r.destination_place_id, r.category, str(r.day.date()), r.movements)
        for r in daily.itertuples()
    ] == [
        ("alsace", "aargau", "patients", "2020-03-28", 1),
        ("country-fra", "country-ita", "goods", "2020-03-24", 2),
        ("grand-est", "hamburg-airport", "patients", "2020-03-28", 1),
        ("haut-rhin", "basel", "patients", "2020-03-24", 2),
        ("haut-rhin", "delemont", "patients", "2020-03-24", 1),
        ("metz", "essen-muelheim-airport", "patients", "2020-03-28", 1),
        ("metz", "essen-muelheim-airport", "patients", "2020-03-29", 1),
        ("mulhouse", "geneva", "patients", "2020-03-28", 1),
        ("mulhouse", "luxembourg", "patients", "2020-03-24", 1),
        ("mulhouse", "luxembourg", "patients", "2020-03-25", 1),
        ("strasbourg-entzheim-airport", "stuttgart-airport", "patients", "2020-03-29", 1),
    ]


@pytest.mark.parametrize("colour_by", list(figures.COLOUR_BY_LABELS))
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"countries": ["ITA"]},
        {"modes": ["air"]},
        {"date_from": date(2020, 3, 20), "date_to": date(2020, 4, 5)},
    ],
)
def test_each_arcs_days_add_up_to_the_arc_on_the_map(real_db, colour_by, filters):
    flows, daily = shown_flows(real_db, colour_by, **filters)
    key = ["origin_place_id", "destination_place_id", "category"]
    added_up = daily.groupby(key)["movements"].sum()
    on_map = flows.set_index(key)["movements"]
    assert added_up.sort_index().to_dict() == on_map.sort_index().to_dict()
    assert daily["day"].min() >= pd.Timestamp(filters.get("date_from", date(2020, 1, 1)))


def decode(text: str) -> list[int]:
    """static/replay/replay.js's decode, in Python."""
    numbers, value, shift = [], 0, 0
    for character in text:
        digit = BASE64.index(character)
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        numbers.append(value)
        value, shift = 0, 0
    return numbers


@given(st.lists(st.integers(min_value=0, max_value=10**9)))
def test_vlq_decodes_to_the_numbers_it_encodes(numbers):
    assert decode(replay.vlq(numbers)) == numbers


def test_vlq_refuses_negative_numbers():
    with pytest.raises(ValueError, match="non-negative"):
        replay.vlq([3, -1])


arc_days = st.dictionaries(
    st.tuples(
        st.sampled_from(["metz", "bergamo"]),
        st.sampled_from(["essen", "leipzig"]),
        st.sampled_from(["goods", "patients"]),
    ),
    st.dictionaries(
        st.integers(min_value=0, max_value=700), st.integers(min_value=1, max_value=5000), min_size=1
    ),
)


@settings(max_examples=60)
@given(arc_days)
def test_day_series_decode_back_to_the_daily_rows(arcs):
    first = date(2020, 2, 1)
    daily = pd.DataFrame(
        [
            (*key, pd.Timestamp(first) + pd.Timedelta(days=day), n)
            for key, days in arcs.items()
            for day, n in days.items()
        ],
        columns=["origin_place_id", "destination_place_id", "category", "day", "movements"],
    )
    series = replay.day_series(daily, first)
    decoded = {}
    for key, text in series.items():
        numbers, day = decode(text), 0
        decoded[key] = {}
        for gap, n in zip(numbers[::2], numbers[1::2], strict=True):
            day += gap
            decoded[key][day] = n
    assert decoded == arcs


def test_payload_carries_the_maps_deck_with_each_arcs_days(real_db):
    flows, daily = shown_flows(real_db, "cargo_kind")
    places = real_db.query("movement_places", no_filters(limit=figures.MAP_PLACES))
    frame = flowmap.flows_frame(flows, width_px=1460, height_px=640, fallback=None)
    deck = figures.movement_deck(
        flows,
        places,
        basemap_url="/app/static/basemap/countries-50m.geojson",
        colour_by="cargo_kind",
        frame=frame,
    )
    payload = replay.replay_payload(
        deck, daily, first_day=date(2020, 3, 1), last_day=date(2020, 5, 26), scale=2
    )
    static = json.loads(deck.to_json())
    layers = {layer["id"]: layer for layer in payload["deck"]["layers"]}
    assert [layer["id"] for layer in payload["deck"]["layers"]] == [layer["id"] for layer in static["layers"]]
    assert layers["labels"] == next(layer for layer in static["layers"] if layer["id"] == "labels")
    arcs = layers["flows"]["data"]
    assert len(arcs) == len(flows) and all(arc["series"] for arc in arcs)
    static_arc = next(layer for layer in static["layers"] if layer["id"] == "flows")["data"][0]
    assert set(arcs[0]) == set(static_arc) - {"tooltip", "width", "origin_place_id"} - {
        "destination_place_id",
        "category",
    } | {"series"}
    assert {"source_colour", "target_colour", "origin_longitude"} <= set(arcs[0])
    metz = flows[
        (flows["origin_place_id"] == "metz") & (flows["destination_place_id"] == "essen-muelheim-airport")
    ]
    ends = [metz.iat[0, metz.columns.get_loc(c)] for c in ("origin_longitude", "destination_longitude")]
    metz_essen = [a for a in arcs if [a["origin_longitude"], a["destination_longitude"]] == ends]
    # 28, 29 and 31 March: days 27, 28 and 30 of the replay, one flight each.
    assert [decode(a["series"]) for a in metz_essen] == [[27, 1, 1, 1, 2, 1]]
    assert payload["days"] == 87 and payload["first_day"] == "2020-03-01"
    assert payload["arc_width_px"] == [w * 2 for w in figures.ARC_WIDTH_PX]
    assert (payload["fresh_days"], payload["fade_days"], payload["floor"]) == (
        *figures.REPLAY_FRESH_DAYS,
        figures.REPLAY_FLOOR,
    )


def test_stored_text_cannot_close_the_script_it_travels_in():
    text = replay.script_json({"name": "</script><script>alert(1)</script>"})
    assert "<" not in text and json.loads(text) == {"name": "</script><script>alert(1)</script>"}


@pytest.mark.parametrize("controls", [True, False], ids=["page", "wall"])
def test_the_component_loads_only_the_dashboards_own_files(controls):
    payload = {"readout_px": 64, "controls_px": 96, "deck": {}, "controls": controls}
    html = replay.replay_html(payload, map_height_px=640 if controls else None)
    # A wall has nothing to press: no buttons, no slider.
    assert ("<button" in html, "<input" in html) == (controls, controls)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources == ["/app/static/replay/replay.css", replay.DECK_GL_URL, replay.REPLAY_JS_URL]
    for source in sources:
        assert (REPO_DIR / "static" / Path(source).relative_to("/app/static")).is_file()


def test_no_arcs_no_days(real_db):
    flows, daily = shown_flows(real_db, "mode", countries=["ITA"], modes=["sea"])
    assert flows.empty and daily.empty and replay.day_series(daily, date(2020, 3, 1)) == {}
