"""The Import page in headless Chromium: the places a file needs are shown to confirm at 1920x1080."""

import shutil
from contextlib import contextmanager

from playwright.sync_api import expect

from tests.test_browser import (
    NEW_SHIPMENT,
    Server,
    add_account,
    assert_no_error_on_page,
    browser,
    open_import_page,
    real_db,
    save,
    settle,
)

__all__ = ["browser", "real_db"]  # fixtures, shared with the other browser tests

# The same shipment as the wall test, from an airfield by ICAO code to a city
# by name: places the built-in data does not hold.
NEEDS_PLACES = NEW_SHIPMENT.replace("pardubice-airport,milan", "LKMT,Piacenza").replace(
    "shp-wall-refresh-test", "shp-new-places-test"
)


@contextmanager
def server_on_a_copy(real_db, tmp_path):
    """A dashboard of its own on a copy of the built-in data, to write to."""
    live = tmp_path / "live.duckdb"
    shutil.copy(real_db, live)
    add_account(live, "staff")
    server = Server(live)
    try:
        yield server
    finally:
        server.stop()


def test_the_import_page_shows_the_places_to_create_and_creates_them_when_confirmed(
    browser, real_db, tmp_path
):
    upload = tmp_path / "needs-places.csv"
    upload.write_text(NEEDS_PLACES)
    with server_on_a_copy(real_db, tmp_path) as server:
        page = open_import_page(browser, server, "Shipments", width=1920, height=1080)
        page.locator("input[type=file]").set_input_files(str(upload))
        settle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        confirm = page.get_by_role("button", name="Create these 2 places and import")
        confirm.wait_for(timeout=60_000)
        table = page.get_by_test_id("stDataFrame").first
        expect(table).to_be_visible()
        assert table.bounding_box()["width"] > 800  # the table is wide enough to read at 1920x1080
        expect(page.get_by_text("Places to create: check them before confirming")).to_be_visible()
        expect(page.get_by_text("nothing was written. Confirm the places to create")).to_be_visible()
        assert_no_error_on_page(page)
        settle(page)
        confirm.scroll_into_view_if_needed()
        save(page, "import-places-to-create-1920x1080")

        confirm.click()
        expect(page.get_by_text("Imported needs-places.csv: 1 shipments")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Places created")).to_be_visible()
        settle(page)
        save(page, "import-places-created-1920x1080")
