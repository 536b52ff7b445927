"""The Import page in headless Chromium: the places a file needs are shown to confirm at 1920x1080."""

import shutil

from playwright.sync_api import expect

from tests.test_browser import (
    NEW_SHIPMENT,
    Server,
    assert_no_error_on_page,
    browser,
    open_page,
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


def test_the_import_page_shows_the_places_to_create_and_creates_them_when_confirmed(
    browser, real_db, tmp_path
):
    live = tmp_path / "live.duckdb"
    shutil.copy(real_db, live)
    upload = tmp_path / "needs-places.csv"
    upload.write_text(NEEDS_PLACES)
    server = Server(live)
    try:
        page = open_page(browser, server, "/import", width=1920, height=1080)
        settle(page)
        page.get_by_role("textbox", name="Your name").fill("Browser Test")
        page.get_by_role("textbox", name="Your name").press("Enter")
        settle(page)
        page.locator("[data-testid=stRadio] label", has_text="Shipments").first.click()
        settle(page)
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
    finally:
        server.stop()
