"""Roles on the write path itself (forms' and imports' functions called directly,
as a viewer, an analyst, staff of another country and staff of the right one),
and every role on every kind of page under AppTest."""

import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, access, auth, imports, operations
from reliefhub.auth import Identity
from reliefhub.db import shared_database
from tests.conftest import ADMIN, PASSWORD, sign_in_as, staff
from tests.test_imports import write
from tests.test_operations import BASE, audit_rows, count
from tests.test_pages import app_db, data_downloads  # noqa: F401 (app_db: a fixture)

SPAIN = staff("Eva Ruiz", countries=("ESP",))


def refusal(who: Identity) -> str:
    return f"{who.name} is signed in as {who.role}: recording and importing need the staff role"


def every_write(db, who: Identity) -> list[operations.Change]:
    """One of each form's saves, each of which staff of any country may make."""
    return [
        operations.add_record(db, "places", BASE["places"], who=who),
        operations.update_record(db, "requests", "req-esp-ventilators", {"quantity": "600"}, who=who),
        operations.change_status(db, "shipments", "shp-vent-esp", "cancelled", who=who),
        operations.link_shipment(db, "shp-vent-esp", request_id=None, flight_id=None, who=who),
    ]


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_forms_write_path_refuses_roles_below_staff(writable_db, role):
    who = Identity(f"test:{role}", f"A {role}", role)
    for change in every_write(writable_db, who):
        assert change.by_field() == {"who": [refusal(who)[0].upper() + refusal(who)[1:]]}
        assert change.action is None
    assert count(writable_db, "places") == 8
    assert audit_rows(writable_db) == []


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_forms_write_path_lets_staff_and_admins_write(writable_db, role):
    who = Identity(f"test:{role}", f"A {role}", role)
    assert [change.action for change in every_write(writable_db, who)] == [
        "add",
        "update",
        "status",
        "update",
    ]


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_import_refuses_roles_below_staff(writable_db, tmp_path, role):
    who = Identity(f"test:{role}", f"A {role}", role)
    path = write(tmp_path / "requests.csv", [BASE["requests"]])
    report = imports.import_file(writable_db, path, "requests", who=who)
    assert [(p.column, p.problem) for p in report.problems] == [("who", refusal(who))]
    assert not report.written
    assert count(writable_db, "requests") == 4


def test_staff_of_another_country_cannot_add_change_or_import_its_records(writable_db, tmp_path):
    italian_request = BASE["requests"]  # requested by ITA
    added = operations.add_record(writable_db, "requests", italian_request, who=SPAIN)
    assert added.by_field() == {
        "requester_iso3": ["You record only for ESP, and this request is for none of them"]
    }
    # An Italian request may not be taken over by making it Spanish either.
    moved = operations.update_record(
        writable_db, "requests", "req-ita-respirators", {"requester_iso3": "ESP"}, who=SPAIN
    )
    assert moved.by_field() == {
        "requester_iso3": ["You record only for ESP: the stored request is for none of them"]
    }
    closed = operations.change_status(writable_db, "requests", "req-fra-patients", "cancelled", who=SPAIN)
    assert not closed.ok
    italian_shipment = BASE["shipments"]  # to ITA from CZE
    assert not operations.add_record(writable_db, "shipments", italian_shipment, who=SPAIN).ok
    french_flight = operations.update_record(writable_db, "flights", "flt-nh90-1", {"patients": 3}, who=SPAIN)
    assert "origin_place_id" in french_flight.by_field()
    assert not operations.add_record(writable_db, "places", BASE["places"], who=SPAIN).ok  # Brno, CZE

    rows = [BASE["requests"] | {"request_id": "req-esp-new", "requester_iso3": "ESP"}, italian_request]
    report = imports.import_file(writable_db, write(tmp_path / "mixed.csv", rows), "requests", who=SPAIN)
    assert [(p.line, p.column, p.value, p.problem) for p in report.problems] == [
        (3, "requester_iso3", "req-new", "you record only for ESP, and this request is for none of them")
    ]
    assert count(writable_db, "requests") == 4
    assert audit_rows(writable_db) == []


def test_staff_write_records_of_their_countries_as_requester_recipient_provider_or_place(writable_db):
    spanish = BASE["requests"] | {"requester_iso3": "ESP", "request_id": ""}
    assert operations.add_record(writable_db, "requests", spanish, who=SPAIN).action == "add"
    to_spain = operations.change_status(writable_db, "shipments", "shp-vent-esp", "cancelled", who=SPAIN)
    assert to_spain.action == "status"
    from_spain = BASE["shipments"] | {"provider": "Spain", "provider_iso3": "ESP", "request_id": None}
    assert operations.add_record(writable_db, "shipments", from_spain, who=SPAIN).action == "add"
    flight_to_torrejon = operations.update_record(
        writable_db, "flights", "flt-c130", {"payload_tonnes": 9}, who=SPAIN
    )
    assert flight_to_torrejon.action == "update"
    assert {row["changed_by"] for row in audit_rows(writable_db)} == {"Eva Ruiz"}


def test_the_audit_names_the_account_and_the_command_line_marks_itself(writable_db, tmp_path):
    operations.add_record(writable_db, "places", BASE["places"], who=staff("Ana Novak"))
    cli = auth.cli_identity("Ana at the console")
    imports.import_file(writable_db, write(tmp_path / "r.csv", [BASE["requests"]]), "requests", who=cli)
    rows = writable_db.connection.execute(
        "SELECT changed_by_id, changed_by, via FROM audit_log ORDER BY change_id"
    ).fetchall()
    assert rows == [("test:Ana Novak", "Ana Novak", "form"), (cli.id, "Ana at the console", "cli")]
    assert cli.id.startswith("os:")


# ---------------------------------------------------------------- role x page x action, under AppTest

PAGE_NEEDS = {
    "app_pages/overview.py": None,
    "app_pages/data.py": None,
    "app_pages/audit.py": None,
    "app_pages/record.py": "staff",
    "app_pages/import.py": "staff",
    "app_pages/users.py": "admin",
}


def page_as(page: str, role: str | None) -> AppTest:
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    if role:
        sign_in_as(app, role)
    app.switch_page(page)
    return app.run()


@pytest.mark.parametrize("role", [None, *auth.ROLES])
@pytest.mark.parametrize("page", list(PAGE_NEEDS))
def test_each_role_sees_the_pages_and_downloads_it_may(app_db, page, role):  # noqa: F811
    app = page_as(page, role)
    assert not app.exception
    needs = PAGE_NEEDS[page]
    allowed = needs is None or (role is not None and auth.ROLES.index(role) >= auth.ROLES.index(needs))
    refusals = [w.value for w in app.warning if "this page needs" in w.value]
    if allowed:
        assert refusals == []
        assert app.title[0].value != "Relief Hub"
    else:
        whom = "You are not signed in" if role is None else f"You are signed in as {role} account ({role})"
        assert refusals == [f"{whom}: this page needs a {needs} or higher account."]
        assert not app.tabs and not app.dataframe
    if page == "app_pages/data.py":
        may_download = role in ("analyst", "staff", "admin")
        assert len(data_downloads(app)) == (3 if may_download else 0)  # one a tab
        assert any("Downloading needs an analyst account" in c.value for c in app.caption) != may_download


def test_public_reading_off_shows_nothing_without_a_session(app_db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("RELIEFHUB_PUBLIC_READ", "0")
    anonymous = page_as("app_pages/overview.py", None)
    assert [i.value for i in anonymous.info] == ["Sign in to see the dashboard."]
    assert not anonymous.metric and not anonymous.get("deck_gl_json_chart")
    assert page_as("app_pages/overview.py", "viewer").metric


def test_an_admin_manages_accounts_and_wall_keys_on_the_users_page(app_db):  # noqa: F811
    app = page_as("app_pages/users.py", "admin")
    app.text_input(key="new_user_name").input("Eva Ruiz")
    app.selectbox(key="new_user_role").select("staff")
    app.multiselect(key="new_user_countries").select("ESP")
    app.text_input(key="new_user_password").input("a long enough password")
    app.button(key="FormSubmitter:add_user-Add account").click().run()
    assert "Added Eva Ruiz." in [s.value for s in app.success]
    listed = app.dataframe[0].value
    assert listed[["name", "role", "countries"]].values.tolist() == [
        ["Eva Ruiz", "staff", "ESP"],
        ["admin account", "admin", ""],
    ]
    app.text_input(key="wall_key_label").input("Ops room 1")
    app.button(key="FormSubmitter:add_wall_key-Make a wall key").click().run()
    assert not app.exception, app.exception
    link = app.code[0].value
    assert "/wall?key=" in link
    key = link.split("key=")[1]
    assert auth.wall_key_label(shared_database(), key, None) == "Ops room 1"
    events = app.dataframe[2].value["event"].tolist()
    assert events[:2] == ["wall_key_added", "user_added"]


@pytest.mark.parametrize(
    ("came_from", "lands_on"), [(None, "Relief Hub: overview"), ("app_pages/import.py", "Import")]
)
def test_signing_in_goes_back_to_the_page_that_sent_there(app_db, monkeypatch, came_from, lands_on):  # noqa: F811
    monkeypatch.setattr(access, "client", lambda: None)  # AppTest has no browser address
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    auth.add_user(shared_database(), "staff account", "staff", PASSWORD, by=ADMIN)
    if came_from:
        app.switch_page(came_from)
        app.run()
        assert "this page needs a staff or higher account" in app.warning[0].value
    app.switch_page("app_pages/sign_in.py")
    app.run()
    app.text_input(key="sign_in_account").input("staff account")
    app.text_input(key="sign_in_password").input(PASSWORD)
    app.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert not app.exception
    assert app.title[0].value == lands_on
