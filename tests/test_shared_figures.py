"""Figures are built once per data version and what was asked, and shared by every session;
a write makes the next request build anew, so no page shows a figure older than its data."""

import base64
import json
import shutil
import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, figures, operations, shared_figures
from reliefhub.db import shared_database
from reliefhub.shared_figures import SharedFigures
from tests.conftest import new_request, sign_in_as, staff


class Data:
    """Stands in for a Database: only its version matters here."""

    def __init__(self):
        self.data_version = (0, 0)


def counting(value="figure"):
    calls = []

    def build():
        calls.append(1)
        return f"{value} {len(calls)}"

    return build, calls


def test_the_same_question_on_the_same_data_is_built_once():
    store, data = SharedFigures(), Data()
    build, calls = counting()
    assert store.get(data, ("map", "ITA"), build) == "figure 1"
    assert store.get(data, ("map", "ITA"), build) == "figure 1"
    assert len(calls) == 1
    assert store.get(data, ("map", "ESP"), build) == "figure 2"


def test_new_data_builds_anew_and_forgets_the_old_figures():
    store, data = SharedFigures(), Data()
    build, _ = counting()
    store.get(data, "map", build)
    data.data_version = (0, 1)
    assert store.get(data, "map", build) == "figure 2"
    assert list(store._figures) == [((0, 1), "map")]


def test_a_figure_whose_data_changed_while_it_was_built_is_not_kept():
    store, data = SharedFigures(), Data()

    def build_during_a_write():
        data.data_version = (0, 1)
        return "built from data that changed meanwhile"

    store.get(data, "map", build_during_a_write)
    build, _ = counting()
    assert store.get(data, "map", build) == "figure 1"


def test_sessions_asking_at_once_wait_for_one_build():
    store, data = SharedFigures(), Data()
    calls, results = [], []

    def slow_build():
        calls.append(1)
        time.sleep(0.2)
        return "deck"

    threads = [
        threading.Thread(target=lambda: results.append(store.get(data, "wall", slow_build)))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(calls), results) == (1, ["deck"] * 10)


def test_the_least_recently_used_figure_leaves_first():
    store, data = SharedFigures(max_figures=2), Data()
    for asked in ("a", "b", "a", "c"):
        store.get(data, asked, lambda asked=asked: asked)
    assert [key[1] for key in store._figures] == ["a", "c"]


def test_a_deck_spec_is_the_json_streamlit_makes_of_the_deck():
    flows_deck = figures.movement_deck(
        *_one_flow(), basemap_url="/basemap.geojson", colour_by="cargo_kind", frame=figures.MapFrame(48, 8, 4)
    )
    app = AppTest.from_function(_draw_both, args=(flows_deck, figures.deck_spec(flows_deck))).run()
    via_deck, via_spec = (json.loads(chart.proto.json) for chart in app.get("deck_gl_json_chart"))
    assert via_deck == via_spec
    assert [layer["id"] for layer in via_spec["layers"]] == ["basemap", "flows", "places", "edges", "labels"]


def _draw_both(deck, spec):
    import streamlit as st

    st.pydeck_chart(deck, key="deck")
    st.pydeck_chart(spec, key="spec")


def _one_flow():
    import pandas as pd

    flows = pd.DataFrame(
        {
            "origin_place_id": ["a"], "destination_place_id": ["b"], "origin_name": ["Metz"],
            "destination_name": ["Essen"], "origin_latitude": [49.1], "origin_longitude": [6.2],
            "destination_latitude": [51.4], "destination_longitude": [7.0], "movements": [3],
            "flights": [3], "shipments": [0], "patients": [6], "uncertain": [0], "category": ["patients"],
            "first_date": [pd.Timestamp("2020-03-24")], "last_date": [pd.Timestamp("2020-03-28")],
            "has_month_only_dates": [False], "aircraft": ["NH90"],
        }
    )  # fmt: skip
    places = pd.DataFrame(
        {
            "place_id": ["a", "b"], "name": ["Metz", "Essen"], "iso3": ["FRA", "DEU"],
            "latitude": [49.1, 51.4], "longitude": [6.2, 7.0], "departures": [3, 0], "arrivals": [0, 3],
            "movements": [3, 3],
        }
    )  # fmt: skip
    return flows, places


@pytest.fixture
def app_db(fixture_db_path, tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    shared_figures.shared().clear()
    return path


def overview_session() -> AppTest:
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    sign_in_as(app, "analyst")
    app.switch_page("app_pages/overview.py")
    return app.run()


def test_two_sessions_on_the_same_view_cost_one_build_and_a_write_builds_anew(app_db, monkeypatch):
    decks, charts = [], []
    monkeypatch.setattr(figures, "movement_deck", _counted(figures.movement_deck, decks))
    monkeypatch.setattr(figures, "open_requests_chart", _counted(figures.open_requests_chart, charts))
    first, second = overview_session(), overview_session()
    assert not first.exception and not second.exception
    assert (len(decks), len(charts)) == (1, 1)
    assert _chart(first) == _chart(second)

    operations.add_record(
        shared_database(), "requests", new_request("req-shared-figures", "ITA"), who=staff()
    )
    third = overview_session()
    assert (len(decks), len(charts)) == (2, 2)
    italy_before = _open_in(_chart(first), "Italy")
    assert _open_in(_chart(third), "Italy") == italy_before + 1


def _counted(build, calls):
    def counted(*args, **kwargs):
        calls.append(1)
        return build(*args, **kwargs)

    return counted


def _chart(app: AppTest) -> dict:
    return json.loads(app.get("plotly_chart")[0].proto.spec)


def _open_in(chart: dict, country: str) -> int:
    """Open requests of a country in the stacked bars, all categories together."""
    return sum(
        x for bar in chart["data"] for x, y in zip(_values(bar["x"]), bar["y"], strict=True) if y == country
    )


def _values(array) -> list:
    """Plotly's JSON holds numeric arrays as base64 typed arrays."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return array


def test_two_wall_screens_on_the_same_view_cost_one_map_and_one_side_panel(app_db, monkeypatch):
    from reliefhub import wall
    from tests.test_wall import html_of, run_wall

    decks, panels = [], []
    monkeypatch.setattr(figures, "movement_deck", _counted(figures.movement_deck, decks))
    monkeypatch.setattr(wall, "countries_html", _counted(wall.countries_html, panels))
    screens = [run_wall(rotate=["map"], country=["FRA"]) for _ in range(2)]
    assert not any(screen.exception for screen in screens)
    assert (len(decks), len(panels)) == (1, 1)
    assert html_of(screens[0]).count("wall-side") == html_of(screens[1]).count("wall-side") >= 1
    run_wall(rotate=["map"], country=["ITA"])
    assert (len(decks), len(panels)) == (2, 2)


def test_ten_wall_screens_on_the_replay_cost_one_build_and_a_write_builds_anew(app_db, monkeypatch):
    """The replay's page (its query, payload and HTML) is built once for
    every screen with the same filters; new data, or other filters, build anew."""
    from reliefhub import replay
    from tests.test_wall import run_wall

    builds, queries = [], []
    monkeypatch.setattr(replay, "replay_payload", _counted(replay.replay_payload, builds))
    query = shared_database().query

    def counted_query(name, *args, **kwargs):
        queries.extend([name] if name == "replay_flows" else [])
        return query(name, *args, **kwargs)

    monkeypatch.setattr(shared_database(), "query", counted_query)
    screens = [run_wall(rotate=["map"], replay=["1"], country=["FRA"]) for _ in range(10)]
    assert not any(screen.exception for screen in screens)
    assert (len(builds), len(queries)) == (1, 1)
    assert len({screen.get("iframe")[0].proto.srcdoc for screen in screens}) == 1

    operations.add_record(shared_database(), "requests", new_request("req-replay", "FRA"), who=staff())
    run_wall(rotate=["map"], replay=["1"], country=["FRA"])
    assert (len(builds), len(queries)) == (2, 2)
    run_wall(rotate=["map"], replay=["1"], country=["ITA"])
    assert (len(builds), len(queries)) == (3, 3)


def test_sessions_replaying_the_movements_page_share_one_build_per_data_version_and_question(
    app_db, monkeypatch
):
    """The Movements page's replay (query, payload and HTML) is kept under the
    data version and what was asked: a second session with the same filters
    and colouring gets the first one's page; another colouring, or new data,
    builds anew."""
    from reliefhub import replay
    from tests.test_pages import run_page

    builds = []
    monkeypatch.setattr(replay, "replay_payload", _counted(replay.replay_payload, builds))

    def replayed(**query) -> str:
        app = run_page("app_pages/movements.py", **query)
        app.toggle(key="replay").set_value(True).run()
        assert not app.exception
        return app.get("iframe")[0].proto.srcdoc

    first = replayed(country="FRA")
    assert replayed(country="FRA") == first and len(builds) == 1
    assert replayed(country="FRA", colour="mode") != first and len(builds) == 2
    operations.add_record(shared_database(), "requests", new_request("req-replay-page", "FRA"), who=staff())
    replayed(country="FRA")
    assert len(builds) == 3
