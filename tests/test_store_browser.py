"""Two dashboard servers on one PostgreSQL store, in headless Chromium: a
record imported by staff on server A shows on server B's wall."""

from __future__ import annotations

import time

import playwright.sync_api as playwright
import pytest

from reliefhub import DATA_DIR
from reliefhub.bench.server import launch_chromium
from reliefhub.loader import build_database
from reliefhub.store import cluster
from tests.test_browser import (
    NEW_SHIPMENT,
    PATIENCE_MS,
    WATCHED_WALL,
    add_account,
    assert_refreshes_read_after_show,
    hand_over,
    open_import_page,
    open_page,
    watch_wall_refreshes,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def two_servers(store_url, tmp_path):
    """The built-in data moved into a store (with a staff account), and two
    servers, each on its own replica (reliefhub/store/cluster.py)."""
    embedded = tmp_path / "embedded.duckdb"
    build_database(DATA_DIR, embedded)
    add_account(embedded, "staff")
    with cluster.servers_on_store(embedded, store_url, tmp_path, 2) as servers:
        yield servers


def test_a_shipment_imported_on_one_server_shows_on_the_other_servers_wall(two_servers, tmp_path):
    a, b = two_servers
    upload = tmp_path / "new-shipment.csv"
    upload.write_text(NEW_SHIPMENT)
    with playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        wall = open_page(browser, b, WATCHED_WALL)
        in_transit = wall.locator(".wall-figure", has_text="Shipments in transit").locator(".value")
        in_transit.wait_for(timeout=60_000)
        before = int(in_transit.inner_text().replace(",", ""))
        watch_wall_refreshes(wall)

        # A's first page on a loaded machine may take longer than the sign-in helper waits.
        warm = open_page(browser, a, "/sign_in")
        warm.get_by_role("textbox", name="Account").wait_for(timeout=120_000)
        warm.close()
        staff = open_import_page(browser, a, "Shipments")
        hand_over(staff, str(upload)).click()
        new_rows = staff.get_by_test_id("stMetric").filter(has_text="New").get_by_test_id("stMetricValue")
        new_rows.wait_for(timeout=120_000)
        assert new_rows.inner_text() == "1"
        written = time.time()

        # Counted in B's wall's own refreshes, not seconds of drawing: every
        # refresh that began to read more than the replica's 2 s after the
        # write shows it (a refresh drawn on a loaded machine may be late).
        assert_refreshes_read_after_show(wall, written + 2, before, before + 1)
        assert not wall.get_by_text("store unreachable").count()
        browser.close()


def test_two_servers_behind_nginx_with_tls_sticky_sessions_and_safe_headers(two_servers, tmp_path):
    proxy = cluster.Proxy([s.address for s in two_servers], tmp_path / "nginx")
    try:
        policy = proxy.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert proxy.headers["X-Content-Type-Options"] == "nosniff"
        with playwright.sync_playwright() as p:
            browser = launch_chromium(p)
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 1920, "height": 1080})
            context.set_default_timeout(PATIENCE_MS)
            page = context.new_page()
            refused = []
            page.on(
                "console",
                lambda message: (
                    refused.append(message.text) if "Content Security Policy" in message.text else None
                ),
            )
            page.goto(proxy.base + "/movements")
            page.wait_for_selector("[data-testid='stSidebar']", timeout=120_000)
            page.locator("canvas").first.wait_for(timeout=120_000)  # deck.gl drew the map
            page.get_by_text("Wall screen").first.click()  # a rerun over the same websocket
            page.wait_for_selector(".wall-figure", timeout=120_000)
            assert refused == []
            (route,) = [c["value"] for c in context.cookies() if c["name"] == "reliefhub_route"]
            browser.close()
        # Sticky: every request of this browser, the first included, reached one server.
        reached = proxy.reached(route)
        assert len(reached) == 1 and reached <= {s.address for s in two_servers}
    finally:
        proxy.stop()
