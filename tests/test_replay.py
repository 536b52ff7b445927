"""The replay played in the browser: its query (exact rows on the real 2020
record), the day series it sends (which decode back to the query's rows and
add up to the map's arcs), and the payload and page around them."""

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from reliefhub import DATA_DIR, REPO_DIR, figures, flowmap, replay
from reliefhub.bench.pandas_way import PandasWay, first_difference
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


KEY = list(replay.ARC_KEY)


def shown_flows(db: Database, colour_by: str, **filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's arcs under these filters, and the replay's days of them."""
    params = no_filters(**filters)
    flows = db.query("movement_flows", params | {"colour_by": colour_by, "limit": figures.MAP_ARCS})
    daily = db.query("replay_flows", params | {"colour_by": colour_by, **replay.shown_arcs(flows)})
    return flows, daily


def named(daily: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    """The replay's days with each arc's ends and category in place of its
    number (its row in `flows`, from 1)."""
    arcs = flows[KEY].iloc[daily["arc"] - 1].reset_index(drop=True)
    return pd.concat([arcs, daily.drop(columns="arc")], axis=1)


def test_replay_flows_exact_rows_for_france_in_late_march(real_db):
    """Movements count on their day; records dated only to March (Haut-Rhin
    to Basel, France to Italy) count on the first day of the chosen range."""
    flows, daily = shown_flows(
        real_db, "cargo_kind", countries=["FRA"], date_from=date(2020, 3, 24), date_to=date(2020, 3, 29)
    )
    assert list(daily.columns) == ["arc", "day", "movements"]
    assert daily.equals(daily.sort_values(["arc", "day"], ignore_index=True))
    assert sorted(
        (r.origin_place_id, r.destination_place_id, r.category, str(r.day.date()), r.movements)
        for r in named(daily, flows).itertuples()
    ) == [
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
    added_up = named(daily, flows).groupby(KEY)["movements"].sum()
    on_map = flows.set_index(KEY)["movements"]
    assert added_up.sort_index().to_dict() == on_map.sort_index().to_dict()
    assert daily["day"].min() >= pd.Timestamp(filters.get("date_from", date(2020, 1, 1)))


@pytest.fixture(scope="module")
def pandas_way(real_db) -> PandasWay:
    return PandasWay(real_db.connection.cursor())


DAYS_OF_2020 = st.one_of(st.none(), st.dates(min_value=date(2020, 2, 20), max_value=date(2020, 5, 10)))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_replay_flows_equal_their_definition_under_any_filters(real_db, pandas_way, data):
    """The query's rows equal the movements of each shown arc counted day by
    day in pandas (the benchmark's typical Streamlit way), under any filters."""
    materials = real_db.connection.execute("SELECT material_code FROM materials ORDER BY 1").fetchall()
    date_from = data.draw(DAYS_OF_2020)
    filters = no_filters(
        countries=data.draw(
            st.lists(st.sampled_from(["FRA", "ITA", "DEU", "CHE", "ESP", "CZE"]), max_size=2)
        ),
        materials=data.draw(st.lists(st.sampled_from([code for (code,) in materials]), max_size=2)),
        modes=data.draw(st.lists(st.sampled_from(["air", "road", "not_stated"]), max_size=1)),
        date_from=date_from,
        date_to=data.draw(
            st.none() | st.integers(0, 60).map(lambda days: (date_from or date(2020, 3, 1)) + timedelta(days))
        ),
    )
    colour_by = data.draw(st.sampled_from(list(figures.COLOUR_BY_LABELS)))
    flows, daily = shown_flows(real_db, colour_by, **filters)
    asked = filters | {"colour_by": colour_by, **replay.shown_arcs(flows)}
    assert first_difference(daily, pandas_way.replay_flows(asked)) is None
    event(f"{'some' if len(daily) else 'no'} days")


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
    st.integers(min_value=1, max_value=200),
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
            (arc, pd.Timestamp(first) + pd.Timedelta(days=day), n)
            for arc, days in arcs.items()
            for day, n in days.items()
        ],
        columns=["arc", "day", "movements"],
    ).sample(frac=1, random_state=0)
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
        deck,
        daily,
        shown=replay.shown_arcs(flows),
        first_day=date(2020, 3, 1),
        last_day=date(2020, 5, 26),
        scale=2,
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
