"""Every page under Streamlit's AppTest, with filters from the URL, hostile ones included."""

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR
from reliefhub.ui import tables
from tests.conftest import no_filters, on_tab, sign_in_as

PAGES = ["app_pages/overview.py", "app_pages/movements.py", "app_pages/requests.py", "app_pages/data.py"]


@pytest.fixture
def app_db(fixture_db_path, tmp_path, monkeypatch):
    """A private copy: a DuckDB file is open in one configuration per process."""
    path = tmp_path / "app.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    return path


def run_page(page: str, role: str | None = "analyst", **query) -> AppTest:
    """The page as an account of `role` sees it (None: not signed in); analysts see downloads."""
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    if role:
        sign_in_as(app, role)
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(page)
    return app.run()


def deck(app: AppTest) -> dict:
    return json.loads(app.get("deck_gl_json_chart")[0].proto.json)


def download_labels(app: AppTest) -> list[str]:
    return [button.proto.label for button in app.get("download_button")]


DATA_TABS = ("Requests", "Shipments", "Flights")


def data_downloads(app: AppTest) -> list[str]:
    """The Data page's download labels, each of its tabs opened in turn."""
    return [label for tab in DATA_TABS for label in download_labels(on_tab(app, "data_tab", tab))]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_navigation_and_filters(app_db, page):
    app = run_page(page)
    assert not app.exception
    assert [w.label for w in app.sidebar.multiselect] == ["Country", "Material", "Transport mode"]
    assert app.title[0].value


def test_overview_shows_headline_figures_chart_and_corridor_arcs(app_db):
    app = run_page("app_pages/overview.py")
    assert [(m.label, m.value) for m in app.metric] == [
        ("Open requests on 30 Apr 2020", "3"),
        ("Shipments in transit", "1"),
        ("Shipments delivered", "7"),
        ("Flights", "6"),
        ("Patients moved", "12"),
    ]
    spec = deck(app)
    basemap = next(layer for layer in spec["layers"] if layer["id"] == "basemap")
    assert basemap["data"] == "/app/static/basemap/countries-50m.geojson"
    arcs = next(layer for layer in spec["layers"] if layer["id"] == "flows")["data"]
    assert {
        ("metz", "essen-muelheim-airport"),
        ("opocinek", "milan"),
        ("bergamo-airport", "cologne-bonn-airport"),
    } <= {(a["origin_place_id"], a["destination_place_id"]) for a in arcs}
    assert json.loads(app.get("deck_gl_json_chart")[0].proto.tooltip) == {"text": "{tooltip}"}
    chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert {trace["name"] for trace in chart["data"]} == {"ppe", "medical equipment", "patients"}
    trend = json.loads(app.get("plotly_chart")[1].proto.spec)["data"]
    assert [line["name"] for line in trend] == ["Requests received", "Fulfilled or closed", "Still open"]
    assert len(trend[2]["x"]) == 42  # every day of the data, 20 Mar to 30 Apr


def test_movements_page_has_basemap_arcs_and_tooltips(app_db):
    app = run_page("app_pages/movements.py", colour="mode")
    spec = deck(app)
    assert [layer["@@type"] for layer in spec["layers"]] == [
        "GeoJsonLayer",
        "ArcLayer",
        "ScatterplotLayer",
        "ScatterplotLayer",
        "TextLayer",
    ]
    arcs = next(layer for layer in spec["layers"] if layer["id"] == "flows")["data"]
    metz = next(a for a in arcs if a["origin_place_id"] == "metz")
    assert metz["tooltip"].startswith("Metz → Essen/Mülheim Airport · 3 flights")
    assert app.radio[0].value == "mode"


def test_url_filters_narrow_every_view(app_db):
    data = data_downloads(run_page("app_pages/data.py", country=["ITA"]))
    assert data == [
        "Download 1 row as CSV",
        "Download 2 rows as CSV",
        "Download 1 row as CSV",
    ]
    assert data_downloads(run_page("app_pages/data.py", country=["ita"])) == data
    overview = run_page("app_pages/overview.py", country=["ITA"], material=["patients"])
    assert [m.value for m in overview.metric] == ["0", "0", "1", "1", "6"]
    assert "Filtered to countries ITA; materials patients" in overview.caption[0].value


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"country": ["' OR 1=1 --"]}, "Ignored country `' OR 1=1 --` from the link"),
        ({"country": ["XXX"]}, "Ignored country `XXX` from the link"),
        ({"country": ["Ελλάδα"]}, "Ignored country `Ελλάδα` from the link"),
        ({"country": ["A" * 10_000]}, "Ignored country `" + "A" * 40 + "…`"),
        ({"material": ["ventilators'); DROP TABLE requests; --"]}, "Ignored material"),
        ({"dates": ["2020-04-30", "2020-03-01"]}, "it ends (2020-03-01) before it starts (2020-04-30)"),
        ({"dates": ["2020-02-30", "2020-03-01"]}, "not valid YYYY-MM-DD dates"),
        ({"dates": ["1900-01-01", "2020-03-01"]}, "dates must lie between"),
        ({"mode": ["teleport"]}, "Ignored mode `teleport`"),
    ],
)
@pytest.mark.parametrize("page", ["app_pages/movements.py", "app_pages/data.py"])
def test_hostile_url_values_are_ignored_with_a_notice(app_db, page, query, notice):
    app = run_page(page, **query)
    assert not app.exception
    assert any(notice in w.value for w in app.warning), [w.value for w in app.warning]
    assert "All countries, materials and dates" in app.caption[0].value
    if page == "app_pages/data.py":
        assert data_downloads(app) == [
            "Download 4 rows as CSV",
            "Download 8 rows as CSV",
            "Download 6 rows as CSV",
        ]


def test_open_requests_as_of_a_day_from_the_url(app_db):
    april_1 = run_page("app_pages/requests.py", as_of=["2020-04-01"])
    assert "**4 open requests** from 3 countries on 01 Apr 2020" in april_1.markdown[0].value
    april_30 = run_page("app_pages/requests.py")
    assert "**3 open requests** from 3 countries on 30 Apr 2020" in april_30.markdown[0].value
    bad = run_page("app_pages/requests.py", as_of=["2021-13-01"])
    assert any("Ignored the as-of date" in w.value for w in bad.warning)


def replay_payload(app: AppTest) -> dict:
    """The data the replay's iframe carries to the browser."""
    (frame,) = app.get("iframe")
    page = frame.proto.srcdoc
    start = page.index('<script id="replay-data" type="application/json">')
    return json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])


def test_replay_is_sent_once_and_plays_in_the_browser(app_db):
    """Turning the replay on draws the browser's replay in place of the map,
    with every arc of the map and its days; nothing on the page reruns it."""
    app = run_page("app_pages/movements.py", country="FRA")
    on_map = next(lay for lay in deck(app)["layers"] if lay["id"] == "flows")["data"]
    app.toggle(key="replay").set_value(True).run()
    assert not app.exception
    assert app.get("deck_gl_json_chart") == [] and len(app.main.button) == len(app.main.slider) == 0
    payload = replay_payload(app)
    arcs = next(lay for lay in payload["deck"]["layers"] if lay["id"] == "flows")["data"]
    assert [a["target_colour"][:3] for a in arcs] == [a["target_colour"][:3] for a in on_map]
    assert all(a["series"] for a in arcs)
    assert payload["speeds"] == [1, 2, 5]
    assert any("fades once its last movement is" in c.value for c in app.main.caption)
    app.toggle(key="replay").set_value(False).run()
    assert app.get("iframe") == [] and len(app.get("deck_gl_json_chart")) == 1


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 3 rows, so that the fixture database's tables run to several pages."""
    monkeypatch.setattr(tables, "PAGE_SIZE", 3)


def shown(app: AppTest, table: int, column: str) -> list[str]:
    return app.dataframe[table].value[column].tolist()


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def test_a_table_of_one_page_looks_as_it_always_did(app_db):
    app = on_tab(run_page("app_pages/data.py"), "data_tab", "Shipments")
    assert not app.number_input
    assert not [text for text in texts(app.markdown) if text.startswith("Rows ")]
    assert not [text for text in texts(app.caption) if "this page" in text]
    assert len(app.dataframe[0].value) == 8


def test_data_tables_are_paged_and_page_2_shows_the_next_rows(app_db, small_pages):
    app = run_page("app_pages/data.py")
    assert not app.exception
    assert [n.label for n in app.number_input] == ["Page (of 2)"]
    on_tab(app, "data_tab", "Flights")
    assert [n.label for n in app.number_input] == ["Page (of 2)"]
    on_tab(app, "data_tab", "Shipments")
    assert [n.label for n in app.number_input] == ["Page (of 3)"]
    assert "**8 shipments**" in texts(app.markdown)
    assert "Rows 1–3 of 8" in texts(app.markdown)
    assert shown(app, 0, "shipment_id") == ["shp-pat-1", "shp-pat-ita", "shp-pat-2"]
    assert (
        "3 rows to a page. Sorting by a column header orders the rows shown on this page; "
        "the download holds every row." in texts(app.caption)
    )

    app.number_input(key="shipments_table_page").set_value(2).run()
    assert shown(app, 0, "shipment_id") == ["shp-resp-esp", "shp-suits-esp", "shp-suits-ita"]
    assert "Rows 4–6 of 8" in texts(app.markdown)
    app.number_input(key="shipments_table_page").set_value(3).run()
    assert shown(app, 0, "shipment_id") == ["shp-pat-3", "shp-vent-esp"]
    assert "Rows 7–8 of 8" in texts(app.markdown)
    # The other tables stay on their own first pages; every download holds every row.
    assert shown(on_tab(app, "data_tab", "Requests"), 0, "request_id") == [
        "req-fra-patients",
        "req-esp-suits",
        "req-esp-ventilators",
    ]
    assert on_tab(app, "data_tab", "Shipments").number_input(key="shipments_table_page").value == 3
    assert data_downloads(app) == [
        "Download 4 rows as CSV",
        "Download 8 rows as CSV",
        "Download 6 rows as CSV",
    ]


def test_changing_the_filters_goes_back_to_page_1(app_db, small_pages):
    app = on_tab(run_page("app_pages/data.py"), "data_tab", "Shipments")
    app.number_input(key="shipments_table_page").set_value(3).run()
    assert shown(app, 0, "shipment_id") == ["shp-pat-3", "shp-vent-esp"]
    app.sidebar.multiselect(key="mode").select("air").run()
    assert not app.exception
    assert app.number_input(key="shipments_table_page").value == 1
    assert shown(app, 0, "shipment_id") == ["shp-pat-1", "shp-pat-ita", "shp-pat-2"]
    assert "Rows 1–3 of 7" in texts(app.markdown)


def test_open_requests_are_paged(app_db, small_pages):
    app = run_page("app_pages/requests.py", as_of=["2020-04-01"])
    assert "**4 open requests** from 3 countries on 01 Apr 2020." in texts(app.markdown)
    assert [n.label for n in app.number_input] == ["Page (of 2)"]
    assert shown(app, 0, "request_id") == ["req-esp-suits", "req-esp-ventilators", "req-fra-patients"]
    app.number_input(key="open_requests_table_page").set_value(2).run()
    assert shown(app, 0, "request_id") == ["req-ita-respirators"]
    assert "Row 4 of 4" in texts(app.markdown)
    assert "**4 open requests** from 3 countries on 01 Apr 2020." in texts(app.markdown)
    assert download_labels(app) == ["Download 4 rows as CSV"]


def test_the_closed_requests_table_lists_the_most_recently_closed_and_says_how_many_more(
    tmp_path, monkeypatch
):
    from reliefhub import generate
    from reliefhub.db import Database

    path = tmp_path / "synthetic.duckdb"
    generate.generate(10_000, path, seed=7)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    db = Database(path, read_only=True)
    last_day = db.query("data_bounds")["last_date"].iloc[0]
    closed = db.query("closed_requests", no_filters(as_of=last_day, limit=None))
    db.close()
    assert len(closed) > 50
    app = run_page("app_pages/requests.py")
    assert not app.exception
    shown = app.table[0].value
    assert len(shown) == 50
    latest = closed.sort_values(["closed_on", "request_id"], ascending=[False, True]).head(50)
    # the 50 latest closed (ties by id), in the full list's order: date, then country and material
    assert (
        shown["request_id"].tolist()
        == closed.loc[closed["request_id"].isin(latest["request_id"]), "request_id"].tolist()
    )
    assert f"The 50 most recently closed of {len(closed):,}" in " ".join(c.value for c in app.caption)
