"""Sign-in as a person meets it, in headless Chromium against `streamlit run`:
local accounts (right and wrong password, a disabled account, throttling,
expiry, sign-out), reading with public reading off, and wall-screen keys."""

import shutil

import pytest

from reliefhub import auth
from reliefhub.db import Database
from tests.conftest import ADMIN, PASSWORD
from tests.test_browser import (  # noqa: F401 (browser and real_db are fixtures)
    Server,
    assert_no_error_on_page,
    browser,
    new_page,
    real_db,
    save,
    settle,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def accounts_db(real_db, tmp_path):  # noqa: F811
    """The real data with a staff account, a disabled one and a wall key in use and one revoked."""
    path = tmp_path / "accounts.duckdb"
    shutil.copy(real_db, path)
    db = Database(path)
    auth.add_user(db, "ana", "staff", PASSWORD, by=ADMIN, countries=["ITA"])
    auth.add_user(db, "bo", "staff", PASSWORD, by=ADMIN)
    auth.set_disabled(db, "bo", True, by=ADMIN)
    auth.add_user(db, "cy", "viewer", PASSWORD, by=ADMIN)
    _, db.wall_key = auth.add_wall_key(db, "Ops room 1", by=ADMIN)
    revoked_id, db.revoked_key = auth.add_wall_key(db, "Old screen", by=ADMIN)
    auth.revoke_wall_key(db, revoked_id, by=ADMIN)
    keys = db.wall_key, db.revoked_key
    db.close()
    return path, keys


NOT_SIGNED_IN = "You are not signed in: this page needs a staff or higher account."


def visit(browser, server, path: str):  # noqa: F811
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(server.base + path)
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    settle(page)
    return page


def go_to(page, label: str) -> None:
    """Follow a sidebar link: the same browser session, as a person clicks."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=label).first.click()
    settle(page)


def test_local_sign_in_wrong_password_disabled_throttled_and_sign_out(browser, accounts_db):  # noqa: F811
    path, _ = accounts_db
    server = Server(path)
    try:
        # The Record page sends a signed-out person to sign in; signing in goes back to it.
        page = visit(browser, server, "/record")
        page.get_by_text(NOT_SIGNED_IN).wait_for()
        go_to(page, "Sign in")
        sign_in(page, "ana", "not the password")
        page.get_by_text("Wrong account name or password.").wait_for(timeout=20_000)
        sign_in(page, "bo", PASSWORD)
        page.get_by_text("This account is disabled. Ask an administrator.").wait_for(timeout=20_000)
        sign_in(page, "ana", PASSWORD)
        page.get_by_text("Signed in as ana (staff for ITA)").wait_for(timeout=20_000)
        page.get_by_role("tab", name="New request").wait_for()
        assert page.get_by_role("textbox", name="Your name").count() == 0
        save(page, "sign-in-staff-record")
        page.get_by_role("button", name="Sign out").click()
        settle(page)
        page.get_by_text(NOT_SIGNED_IN).wait_for()
        assert page.get_by_role("tab", name="New request").count() == 0
        assert_no_error_on_page(page)
        page.close()

        other = visit(browser, server, "/sign_in")
        for _ in range(auth.FAILURES_BEFORE_WAIT):
            sign_in(other, "cy", "wrong password")
        sign_in(other, "cy", PASSWORD)
        other.get_by_text("Too many failed sign-ins. Try again in").wait_for(timeout=20_000)
        assert other.get_by_text("Signed in as").count() == 0
        save(other, "sign-in-throttled")
        other.close()
    finally:
        server.stop()


def test_a_session_ends_after_inactivity(browser, accounts_db):  # noqa: F811
    path, _ = accounts_db
    server = Server(path, RELIEFHUB_SESSION_IDLE_HOURS=str(4 / 3600))  # four seconds
    try:
        page = visit(browser, server, "/record")
        page.get_by_text(NOT_SIGNED_IN).wait_for()
        go_to(page, "Sign in")
        sign_in(page, "ana", PASSWORD)
        page.get_by_role("tab", name="New request").wait_for()
        page.wait_for_timeout(5_000)
        go_to(page, "Import")
        page.get_by_text(NOT_SIGNED_IN).wait_for()
        go_to(page, "Sign in")
        page.get_by_text("You were signed out after").wait_for(timeout=20_000)
        page.close()
    finally:
        server.stop()


def test_public_reading_off_and_wall_keys(browser, accounts_db):  # noqa: F811
    path, (key, revoked) = accounts_db
    server = Server(path, RELIEFHUB_PUBLIC_READ="0")
    try:
        # A wall screen opens its deep link first, straight after a reboot.
        wall = visit(browser, server, f"/wall?key={key}")
        wall.locator(".wall-figure", has_text="Shipments in transit").wait_for(timeout=60_000)
        save(wall, "wall-with-key")
        wall.close()
        for link in (f"/wall?key={revoked}", "/wall?key=not-a-key", "/wall"):
            page = visit(browser, server, link)
            page.get_by_text("This screen's link is not valid.").wait_for(timeout=30_000)
            assert page.locator(".wall-figure").count() == 0
            assert page.get_by_test_id("stMetric").count() == 0
            page.close()
        home = visit(browser, server, "/")
        home.get_by_text("Sign in to see the dashboard.").wait_for(timeout=30_000)
        assert home.get_by_test_id("stMetric").count() == 0
        assert home.get_by_test_id("stDeckGlJsonChart").count() == 0
        home.get_by_role("link", name="Sign in").first.click()
        settle(home)
        sign_in(home, "cy", PASSWORD)
        home.get_by_test_id("stMetric").first.wait_for(timeout=30_000)
        assert_no_error_on_page(home)
        home.close()
    finally:
        server.stop()
