"""Two dashboard servers on one PostgreSQL store, in headless Chromium: a
record imported by staff on server A shows on server B's wall."""

from __future__ import annotations

import time

import playwright.sync_api as playwright
import pytest

from reliefhub import DATA_DIR
from reliefhub.bench import CHROMIUM, CHROMIUM_ARGS
from reliefhub.loader import build_database
from reliefhub.store import init, replica
from tests.test_browser import NEW_SHIPMENT, Server, add_account, hand_over, open_import_page, open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def two_servers(store_url, tmp_path):
    """The built-in data moved into a store (with a staff account), and two
    servers, each on its own replica."""
    embedded = tmp_path / "embedded.duckdb"
    build_database(DATA_DIR, embedded)
    add_account(embedded, "staff")
    init.init_from(embedded, store_url)
    servers = []
    try:
        for name in ("a", "b"):
            path = tmp_path / f"replica-{name}.duckdb"
            replica.ensure_filled(path, store_url)
            servers.append(Server(path, RELIEFHUB_STORE=store_url))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_shipment_imported_on_one_server_shows_on_the_other_servers_wall(two_servers, tmp_path):
    a, b = two_servers
    upload = tmp_path / "new-shipment.csv"
    upload.write_text(NEW_SHIPMENT)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        wall = open_page(browser, b, "/wall?refresh=5")
        in_transit = wall.locator(".wall-figure", has_text="Shipments in transit").locator(".value")
        in_transit.wait_for(timeout=60_000)
        before = int(in_transit.inner_text().replace(",", ""))

        # A's first page on a loaded machine may take longer than the sign-in helper waits.
        warm = open_page(browser, a, "/sign_in")
        warm.get_by_role("textbox", name="Account").wait_for(timeout=120_000)
        warm.close()
        staff = open_import_page(browser, a, "Shipments")
        hand_over(staff, str(upload)).click()
        new_rows = staff.get_by_test_id("stMetric").filter(has_text="New").get_by_test_id("stMetricValue")
        new_rows.wait_for(timeout=120_000)
        assert new_rows.inner_text() == "1"
        written = time.monotonic()

        wall.wait_for_function(
            """expected => [...document.querySelectorAll('.wall-figure')].some(figure =>
                figure.innerText.includes('Shipments in transit')
                && figure.querySelector('.value').innerText === expected)""",
            arg=str(before + 1),
            timeout=30_000,
        )
        shown_after = time.monotonic() - written
        print(f"\nB's wall showed A's import {shown_after:.1f} s after it was written (refresh 5 s)")
        # Within one of the wall's refreshes plus the 2 s the replica may take.
        assert shown_after <= 5 + 2
        assert not wall.get_by_text("store unreachable").count()
        browser.close()
