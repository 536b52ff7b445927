"""Issue 13, finding 3, in a real browser: stored text is shown as text.

Markdown image syntax in every free-text field of the data, and in an
uploaded file's name, must never make the browser fetch anything from
outside the dashboard's own server: on any page, selections included.
"""

import csv
import shutil
from pathlib import Path

import pytest

from reliefhub import DATA_DIR
from reliefhub.loader import build_database
from tests.test_browser import (
    Server,
    add_account,
    assert_no_error_on_page,
    browser,  # noqa: F401 - a fixture
    hand_over,
    map_screen,
    new_page,
    open_import_page,
    open_page,
    requests_outside,
    select_arc,
    settle,
    wait_for_drawn_map,
)

pytestmark = pytest.mark.browser

IMAGE = "![i](http://evil.example/i.png)"
FREE_TEXT = {
    "countries": ["name"],
    "materials": ["name", "unit"],
    "places": ["name", "coordinate_source"],
    "requests": ["addressed_to", "description", "source_note"],
    "flights": ["aircraft_type", "operator", "description", "source_note"],
    "shipments": ["provider", "description", "source_note"],
}


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    """The real data with Markdown image syntax after every free-text value."""
    folder = tmp_path_factory.mktemp("hostile")
    data = folder / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("*.duckdb*", "backups"))
    for table, columns in FREE_TEXT.items():
        path = data / f"{table}.csv"
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row.update({c: f"{row[c]} {IMAGE}" for c in columns if row[c]})
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    path = folder / "hostile.duckdb"
    build_database(data, path)
    return path


@pytest.fixture(scope="module")
def hostile_map(hostile_db):
    return map_screen(hostile_db)


@pytest.fixture(scope="module")
def hostile_server(hostile_db, hostile_map):
    add_account(hostile_db, "staff")
    running = Server(hostile_db)
    yield running
    running.stop()


def assert_nothing_fetched_from_outside(page, server) -> None:
    page.wait_for_timeout(2500)
    assert_no_error_on_page(page)
    assert page.locator("img[src*='evil.example']").count() == 0
    assert requests_outside(page, server) == []


@pytest.mark.parametrize(
    "path", ["/", "/movements", "/requests", "/data", "/record", "/import", "/audit", "/wall"]
)
def test_stored_markdown_fetches_nothing_on_any_page(browser, hostile_server, path):  # noqa: F811
    if path == "/wall":  # no sidebar to wait for
        page = new_page(browser, viewport={"width": 1920, "height": 1080})
        page.requests_made = []
        page.on("request", lambda request: page.requests_made.append(request.url))
        page.goto(hostile_server.base + path)
        page.wait_for_selector(".wall-figure", timeout=60_000)
    else:
        page = open_page(browser, hostile_server, path)
    settle(page)
    for tab in ("Shipments", "Flights") if path == "/data" else ():  # it draws only the open tab
        page.get_by_role("tab", name=tab).click()
        settle(page)
    assert_nothing_fetched_from_outside(page, hostile_server)
    page.close()


def test_a_selected_route_shows_its_names_as_text(browser, hostile_server, hostile_map):  # noqa: F811
    flows, screen = hostile_map
    pardubice = flows["origin_name"].str.startswith("Pardubice") & flows["destination_name"].str.startswith(
        "Torrejón"
    )
    page = open_page(browser, hostile_server, "/movements")
    wait_for_drawn_map(page)
    select_arc(page, screen, flows[pardubice].iloc[0])  # the C-130 arc, leaving Pardubice airport
    heading = page.locator("h3", has_text="Records on this route")
    heading.wait_for(timeout=45_000)
    assert f"Pardubice Airport {IMAGE} → Torrejón" in heading.inner_text()
    assert_nothing_fetched_from_outside(page, hostile_server)
    page.close()


def test_an_uploaded_file_name_is_shown_as_text(browser, hostile_server, tmp_path):  # noqa: F811
    page = open_import_page(browser, hostile_server, "Requests")
    name = f"partner {IMAGE}.csv"
    hand_over(page, [{"name": name, "mimeType": "text/csv", "buffer": b"request_id\nx\n"}]).click()
    heading = page.locator("h3", has_text="partner")
    heading.wait_for(timeout=60_000)
    assert heading.inner_text().startswith(f"{name}: requests")
    assert_nothing_fetched_from_outside(page, hostile_server)
    page.close()
