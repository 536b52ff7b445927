"""Issue 13, findings 1 and 7: no stored value and no fault of the database
file takes a page down; faults read as messages, tracebacks go to the log."""

import csv
import errno
import re
import shutil
import subprocess
import sys
import tomllib

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from reliefhub import REPO_DIR, faults, loader, migrations, models
from tests.conftest import on_tab

EVERY_PAGE = [
    "app_pages/overview.py",
    "app_pages/movements.py",
    "app_pages/requests.py",
    "app_pages/data.py",
    "app_pages/record.py",
    "app_pages/import.py",
    "app_pages/audit.py",
    "app_pages/wall.py",
]
IMAGE = "![i](http://evil.example/i.png)"

# Rows a database built before the value rules could hold: far-off dates,
# numbers that are not finite, links that are not web links, Markdown.
# fmt: off
EDGE_ROWS = {
    "places": [["evil-place", f"Evil {IMAGE}", "city", "ITA", "45", "9", "", "", f"gazetteer {IMAGE}"]],
    "requests": [
        ["req-inf", "ITA", "eadrcc", f"NATO {IMAGE}", "respirators", "inf", f"Masks {IMAGE}",
         "0001-01-01", "day", "open", "", "javascript:alert(1)", f"note {IMAGE}"],
    ],
    "flights": [
        ["flt-far", "evil-place", "cologne-bonn-airport", f"A400M {IMAGE}", f"Air {IMAGE}", "air_force",
         "9999-12-31", "day", "landed", "1e308", "", f"Flight {IMAGE}", "javascript:alert(1)", IMAGE],
    ],
    "shipments": [
        ["shp-far", "DEU", f"Provider {IMAGE}", "ITA", "respirators", "NaN", f"Masks {IMAGE}", "evil-place",
         "cologne-bonn-airport", "air", "9999-12-30", "10000-01-01", "day", "delivered", "", "flt-far",
         "javascript:alert(1)", f"note {IMAGE}"],
    ],
}
# fmt: on
# The value rules of issue 13 (their CHECKs name these, as DuckDB words them),
# left out to build an older database.
NEWER_RULES = ("'1990-01-01'", "1000000000000", "BETWEEN 0 AND 1000", "regexp_matches", "\\p{C}", "https?://")


def checks(statement: str) -> list[str]:
    """The CHECK constraints of a CREATE TABLE statement, each to its closing bracket."""
    found = []
    for start in (m.start() for m in re.finditer(r"CHECK\(", statement)):
        depth = 0
        for end in range(start + len("CHECK"), len(statement)):
            depth += {"(": 1, ")": -1}.get(statement[end], 0)
            if depth == 0:
                found.append(statement[start : end + 1])
                break
    return found


def schema_before_the_value_rules() -> str:
    """Today's tables without the value rules: the schema of a database built before them."""
    statements = []
    for statement in migrations.schema():
        for check in checks(statement):
            if any(rule in check for rule in NEWER_RULES):
                statement = statement.replace(f", {check}", "", 1)
        statements.append(statement)
    return "\n".join(statements)


@pytest.fixture
def edge_db(fixture_copy, tmp_path, monkeypatch):
    """A database from before the value rules, holding every kind of value they now refuse."""
    for table, rows in EDGE_ROWS.items():
        with (fixture_copy / f"{table}.csv").open("a", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)

    def create_older_schema(con):
        con.execute(schema_before_the_value_rules())
        # At the latest version, as if the values had got in behind the rules' back.
        migrations.mark_current(con)
        models.define(con)

    path = tmp_path / "edge.duckdb"
    with monkeypatch.context() as patch:
        patch.setattr(loader, "create_schema", create_older_schema)
        loader.build_database(fixture_copy, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    return path


def run_page(page: str) -> AppTest:
    app = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
    app.switch_page(page)
    return app.run()


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_every_page_draws_a_database_full_of_edge_values(edge_db, page):
    app = run_page(page)
    # The Data page draws only its open tab: each of its tables in turn.
    for tab in ("Shipments", "Flights") if page == "app_pages/data.py" else ():
        assert not app.exception and [e.value for e in app.error] == []
        on_tab(app, "data_tab", tab)
    assert not app.exception
    assert [e.value for e in app.error] == []


def test_the_edge_database_holds_what_it_should(edge_db):
    with duckdb.connect(str(edge_db), read_only=True) as con:
        far = "SELECT year(delivered_on), isnan(quantity) FROM shipments WHERE shipment_id = 'shp-far'"
        assert con.execute(far).fetchone() == (10000, True)


# ---------------------------------------------------------------- faults of the database file


@pytest.fixture
def app_db(fixture_db_path, tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    shutil.copy(fixture_db_path, path)
    monkeypatch.setenv("RELIEFHUB_DB", str(path))
    monkeypatch.setenv("RELIEFHUB_BACKUPS", str(tmp_path / "backups"))
    return path


def no_traceback(app: AppTest) -> str:
    """The page's one error message, after checking it shows no traceback or path."""
    assert not app.exception
    messages = [e.value for e in app.error]
    assert len(messages) == 1, messages
    assert "Traceback" not in messages[0] and "PID" not in messages[0] and ".py" not in messages[0]
    return messages[0]


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_a_database_held_by_another_process_is_a_plain_message_on_every_page(app_db, page):
    hold = f"import duckdb, sys; c = duckdb.connect({str(app_db)!r}); print(1, flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        holder.stdout.readline()
        message = no_traceback(run_page(page))
        assert "open in another program" in message
    finally:
        holder.communicate("")


@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/record.py", "app_pages/wall.py"])
def test_a_corrupt_database_is_a_plain_message_naming_the_latest_backup(app_db, tmp_path, page):
    backups = tmp_path / "backups"
    backups.mkdir()
    shutil.copy(app_db, backups / "app-20200401T120000000000Z.duckdb")
    data = bytearray(app_db.read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)
    app_db.write_bytes(bytes(data))
    message = no_traceback(run_page(page))
    assert "damaged" in message
    assert str(backups / "app-20200401T120000000000Z.duckdb") in message


def test_the_configuration_hides_error_details_and_skips_the_ip_probe(monkeypatch):
    config = tomllib.loads((REPO_DIR / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"

    from streamlit import config as st_config
    from streamlit import net_util
    from streamlit.web import bootstrap

    probed = []
    monkeypatch.setattr(net_util, "get_external_ip", lambda: probed.append(1))
    monkeypatch.chdir(REPO_DIR)
    st_config.get_config_options(force_reparse=True)
    try:
        bootstrap._print_url(False)
    finally:
        monkeypatch.undo()
        st_config.get_config_options(force_reparse=True)
    assert probed == []


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        duckdb.IOException('IO Error: Could not write file "x.duckdb.wal": No space left on device'),
    ],
)
def test_a_full_disk_is_named_as_such(error):
    assert faults.plain_message(error) == faults.disk_full()


def test_an_unknown_fault_is_not_guessed_at():
    assert faults.plain_message(ZeroDivisionError("division by zero")) is None
