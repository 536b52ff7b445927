"""The shared PostgreSQL store: its schema, `store init`, replicas filling and
following, writes landing in the store, optimistic concurrency, and a store
that goes away and comes back. Every test runs against a real PostgreSQL
(reliefhub/store/local_server.py), one server per test session, one database per test."""

from __future__ import annotations

import getpass
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata

import duckdb
import pandas as pd
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reliefhub.db
from reliefhub import REPO_DIR, auth, generate, imports, migrations, models, operations
from reliefhub.__main__ import main
from reliefhub.auth import Identity
from reliefhub.db import Database, open_database_at, shared_database
from reliefhub.loader import build_database
from reliefhub.store import init, postgres, replica
from tests.conftest import ADMIN, FIXTURE_DATA, new_request, no_filters, staff
from tests.test_pages import run_page

# ---------------------------------------------------------------- helpers


@pytest.fixture
def store(store_url, fixture_db_path) -> str:
    """A store holding the fixture database, moved in with `store init`."""
    init.init_from(_copy(fixture_db_path, fixture_db_path.parent / f"init-{id(store_url)}.duckdb"), store_url)
    return store_url


def _copy(source, target):
    import shutil

    shutil.copy(source, target)
    return target


@pytest.fixture
def replicas(store, tmp_path, monkeypatch):
    """Two servers' replicas of the store, as two Databases with their own files."""
    monkeypatch.setenv("RELIEFHUB_STORE", store)
    opened = []
    for name in ("a", "b"):
        path = tmp_path / f"replica-{name}.duckdb"
        replica.ensure_filled(path, store)
        opened.append(open_database_at(path))
    yield opened
    for db in opened:
        db.close()


def store_rows(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as pg:
        return pg.execute(sql, params).fetchall()


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def catch_up(db: Database) -> int:
    with postgres.connect(db.store.url, autocommit=True) as pg:
        return db.follow_store(pg)


# ---------------------------------------------------------------- schema


def test_store_schema_has_duckdbs_tables_columns_and_keys(store_url, fixture_db):
    postgres.prepare(store_url)
    con = fixture_db.connection.cursor()
    for table in init.TABLES:
        duck = con.execute(
            "SELECT column_name, is_nullable FROM duckdb_columns() "
            "WHERE table_name = $t AND schema_name = 'main' ORDER BY column_index",
            {"t": table},
        ).fetchall()
        pg = store_rows(
            store_url,
            "SELECT column_name, is_nullable::bool FROM information_schema.columns "
            "WHERE table_name = %s AND table_schema = 'public' ORDER BY ordinal_position",
            (table,),
        )
        assert pg == [(name, bool(nullable)) for name, nullable in duck], table
    duck_keys = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table "
        "FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY', 'UNIQUE') "
        "AND database_name = current_database()"
    ).fetchall()
    pg_keys = store_rows(
        store_url,
        """SELECT c.conrelid::regclass::text,
                  CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'f' THEN 'FOREIGN KEY' ELSE 'UNIQUE' END,
                  array_agg(a.attname ORDER BY a.attnum), c.confrelid::regclass::text
           FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
           WHERE c.contype IN ('p', 'f', 'u') AND c.connamespace = 'public'::regnamespace
           GROUP BY c.oid, c.conrelid, c.contype, c.confrelid""",
    )
    wanted = {
        (t, kind, tuple(cols), ref if kind == "FOREIGN KEY" else None) for t, kind, cols, ref in duck_keys
    }
    found = {(t, kind, tuple(cols), ref if kind == "FOREIGN KEY" else None) for t, kind, cols, ref in pg_keys}
    # The store's audit trail is keyed by change_id (see store/schema.sql); the rest is DuckDB's.
    assert found - wanted == {("audit_log", "PRIMARY KEY", ("change_id",), None)}
    assert wanted - {k for k in wanted if k[0] not in init.TABLES} <= found


def test_every_duckdb_migration_after_the_baseline_has_a_postgresql_variant():
    wanted = [(m.number, m.name) for m in migrations.all_migrations() if m.number > postgres.BASELINE]
    assert [(number, name) for number, name, _ in postgres.variants()] == wanted
    assert migrations.latest() >= postgres.BASELINE


@pytest.fixture(scope="module")
def rule_checkers(postgres_server, tmp_path_factory):
    """Whether DuckDB's CHECK (read from the schema) and the store's domain accept a text."""
    url = postgres_server.new_database()
    postgres.prepare(url)
    pg = psycopg.connect(url, autocommit=True)
    path = tmp_path_factory.mktemp("rules") / "rules.duckdb"
    build_database(FIXTURE_DATA, path)
    con = duckdb.connect(str(path), read_only=True)

    def checkers(table: str, column: str, domain: str):
        expression = con.execute(
            "SELECT expression FROM duckdb_constraints() WHERE table_name = $t AND constraint_type = 'CHECK' "
            "AND constraint_column_names = [$c]",
            {"t": table, "c": column},
        ).fetchone()[0]

        def duck(value: str) -> bool:
            checked = f"SELECT {expression} FROM (SELECT $v AS {column})"  # noqa: S608 (the schema's own rule)
            return bool(con.execute(checked, {"v": value}).fetchone()[0])

        def store(value: str) -> bool:
            try:
                pg.execute(f"SELECT %s::{domain}", (value,))  # a domain's CHECK runs on the cast
            except psycopg.errors.CheckViolation:
                return False
            return True

        return duck, store

    yield checkers
    pg.close()
    con.close()


# Text as people and files send it: any character PostgreSQL can hold (not
# U+0000, not surrogates), with the troublesome ones made likely.
TRICKY = st.sampled_from(
    [
        "\t",
        "\n",
        "\r",
        "\x1f",
        "\x7f",
        "\x85",
        "\xa0",
        "\u200b",
        "\u202e",
        "\u2066",
        "\ufeff",
        "\ue000",
        "\U000f0001",
        "\u0378",
        " ",
        "é",
        "日",
    ]
)
TEXT = st.lists(
    st.one_of(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), TRICKY),
    min_size=1,
    max_size=6,
).map("".join)


@pytest.mark.parametrize(
    "table, column, domain",
    [
        ("requests", "request_id", "record_id"),
        ("places", "name", "plain_name"),
        ("requests", "description", "free_text"),
    ],
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=TEXT)
def test_the_store_refuses_the_text_duckdb_refuses(rule_checkers, table, column, domain, value):
    """The same verdict, except that an unassigned code point, which only
    DuckDB's rule refuses (see store/schema.sql), is the store's to let through."""
    duck, store = rule_checkers(table, column, domain)
    if any(unicodedata.category(c) == "Cn" for c in value):
        assert store(value) or not duck(value)
    else:
        assert duck(value) == store(value)


# ---------------------------------------------------------------- store init


def test_store_init_moves_every_table_and_refuses_a_second_time(store_url, fixture_db_path, tmp_path, capsys):
    source = _copy(fixture_db_path, tmp_path / "embedded.duckdb")
    assert main(["store", "init", "--from", str(source), "--store", store_url]) == 0
    with duckdb.connect(str(source), read_only=True) as con:
        postgres.attach(con, store_url, read_only=True)
        for table in init.TABLES:
            differ = con.execute(
                f"SELECT count(*) FROM ((FROM main.{table} EXCEPT ALL FROM store.public.{table}) "  # noqa: S608
                f"UNION ALL (FROM store.public.{table} EXCEPT ALL FROM main.{table}))"
            ).fetchone()[0]
            assert differ == 0, table
        assert con.execute("SELECT count(*) FROM store.public.shipments").fetchone()[0] == 8
    assert main(["store", "init", "--from", str(source), "--store", store_url]) == 1
    assert "already holds data" in capsys.readouterr().err


# ---------------------------------------------------------------- replicas


def test_a_new_server_fills_its_replica_and_check_passes(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RELIEFHUB_STORE", store)
    path = tmp_path / "new-server.duckdb"
    steps = []
    replica.ensure_filled(path, store, lambda done, text: steps.append((done, text)))
    assert steps[0] == (0.0, "filling the replica: no replica yet")
    assert [text for _, text in steps if text.startswith("copying")][:2] == [
        "copying countries from the store",
        "copying places from the store",
    ]
    assert main(["check", "--db", str(path)]) == 0
    assert "equals its definition" in capsys.readouterr().out
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM shipments").fetchone()[0] == 8
    # The same file follows from now on: not filled again.
    assert replica.needs_fill(path, psycopg.connect(store, autocommit=True)) is None


def test_a_new_server_joins_a_store_of_100000_shipments_and_matches_the_others(
    store_url, tmp_path, monkeypatch, capsys
):
    source = tmp_path / "synthetic.duckdb"
    generate.generate(100_000, source, seed=7)
    init.init_from(source, store_url)
    monkeypatch.setenv("RELIEFHUB_STORE", store_url)
    first = tmp_path / "server-a.duckdb"
    replica.ensure_filled(first, store_url)
    a = open_database_at(first)
    assert operations.add_record(a, "requests", new_request("req-before-join", "ITA"), who=staff()).ok
    a.close()
    joining = tmp_path / "server-new.duckdb"
    replica.ensure_filled(joining, store_url)
    for path in (first, joining):
        assert main(["check", "--db", str(path)]) == 0
        assert "equals its definition" in capsys.readouterr().out
    with duckdb.connect(str(joining)) as con:
        con.execute(f"ATTACH '{first}' AS other (READ_ONLY)")
        assert con.execute("SELECT count(*) FROM shipments").fetchone() == (100_000,)
        for table in (*init.TABLES, *models.SOURCE_TABLES):
            differ = con.execute(
                f"SELECT count(*) FROM ((FROM main.{table} EXCEPT ALL FROM other.{table}) "  # noqa: S608
                f"UNION ALL (FROM other.{table} EXCEPT ALL FROM main.{table}))"
            ).fetchone()[0]
            assert differ == 0, table


def test_a_replica_of_another_store_is_filled_anew(store, postgres_server, tmp_path):
    path = tmp_path / "replica.duckdb"
    replica.ensure_filled(path, store)
    other = postgres_server.new_database()
    postgres.prepare(other)
    with psycopg.connect(other, autocommit=True) as pg:
        assert replica.needs_fill(path, pg) == "the file is not a replica of this store"


def test_a_form_saved_on_one_server_lands_in_the_store_and_on_the_other(replicas):
    a, b = replicas
    change = operations.add_record(a, "requests", new_request("req-store-1", "ITA"), who=staff("Ana Novak"))
    assert change.ok, change.problems
    assert store_rows(
        a.store.url, "SELECT request_id, requester_iso3 FROM requests WHERE request_id = 'req-store-1'"
    ) == [("req-store-1", "ITA")]
    assert store_rows(a.store.url, "SELECT changed_by, via, action FROM audit_log") == [
        ("Ana Novak", "form", "add")
    ]

    def listed(db: Database) -> bool:
        return "req-store-1" in set(
            db.query("requests_table", no_filters(limit=None, offset=0))["request_id"]
        )

    assert listed(a) and not listed(b)
    assert catch_up(b) == 1
    assert listed(b)
    assert operations.current_row(b, "requests", "req-store-1")["requester_iso3"] == "ITA"
    assert models.differences(b.connection.cursor()) == {}
    assert models.last_change(b.connection.cursor()) == models.last_change(a.connection.cursor())


def test_a_follower_shows_a_change_from_another_server_within_2_seconds(replicas):
    a, b = replicas
    b.following = replica.start_following(b)
    operations.add_record(a, "requests", new_request("req-store-2", "ESP"), who=staff())
    assert wait_until(lambda: operations.current_row(b, "requests", "req-store-2") is not None, 2.0)


def test_a_write_checks_against_what_other_servers_wrote(replicas):
    a, b = replicas
    assert operations.add_record(a, "requests", new_request("req-store-3", "ITA"), who=staff()).ok
    # b has not followed yet, but its write pulls the store first: the ID is taken.
    second = operations.add_record(b, "requests", new_request("req-store-3", "ESP"), who=staff("Ben Ortiz"))
    assert not second.ok
    assert "already exists" in second.problems[0].problem
    assert store_rows(
        b.store.url, "SELECT requester_iso3 FROM requests WHERE request_id = 'req-store-3'"
    ) == [("ITA",)]


def test_a_record_changed_since_the_form_was_opened_is_not_overwritten(replicas):
    a, b = replicas
    record = "req-ita-respirators"
    opened_a = operations.seen_change(a, "requests", record)
    opened_b = operations.seen_change(b, "requests", record)
    first = operations.update_record(
        b, "requests", record, {"quantity": "1234"}, who=staff("Ben Ortiz"), seen_change=opened_b
    )
    assert first.ok, first.problems
    second = operations.update_record(
        a, "requests", record, {"quantity": "99"}, who=staff("Ana Novak"), seen_change=opened_a
    )
    assert not second.ok
    problem = second.problems[0].problem
    assert "Ben Ortiz" in problem and "changed" in problem
    assert store_rows(a.store.url, "SELECT quantity FROM requests WHERE request_id = %s", (record,)) == [
        (1234.0,)
    ]


def test_imports_at_once_from_two_servers_and_the_command_line_each_land_whole(replicas, tmp_path):
    a, b = replicas
    files = []
    for n in range(3):
        path = tmp_path / f"requests-{n}.csv"
        rows = [new_request(f"req-bulk-{n}-{i}", "ITA") for i in range(200)]
        pd.DataFrame(rows).to_csv(path, index=False)
        files.append(path)
    own = tmp_path / "cli-replica.duckdb"
    replica.ensure_filled(own, a.store.url)
    command = [
        sys.executable,
        "-m",
        "reliefhub",
        "import",
        str(files[2]),
        "--kind",
        "requests",
        "--db",
        str(own),
    ]
    reports = [None, None]

    def run(index: int) -> None:
        reports[index] = imports.import_file((a, b)[index], files[index], "requests", who=staff())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    cli = subprocess.Popen(command, cwd=REPO_DIR, env=os.environ | {"RELIEFHUB_STORE": a.store.url})
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cli.wait(timeout=300) == 0
    assert [r.ok for r in reports] == [True, True], [r.problems for r in reports]
    counts = store_rows(
        a.store.url,
        "SELECT split_part(request_id, '-', 3), count(*) FROM requests "
        "WHERE request_id LIKE 'req-bulk-%%' GROUP BY 1 ORDER BY 1",
    )
    assert counts == [("0", 200), ("1", 200), ("2", 200)]
    # Each import's changes are numbered together, after the one before.
    sets = store_rows(
        a.store.url,
        "SELECT min(change_id), max(change_id), count(*) FROM audit_log GROUP BY change_set ORDER BY 1",
    )
    assert [count for _, _, count in sets] == [200, 200, 200]
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(sets))
    for db in (a, b):
        catch_up(db)
        assert models.differences(db.connection.cursor()) == {}


# ---------------------------------------------------------------- accounts, wall keys, sign-ins

PASSWORD = "correct horse battery"


EVENT_COLUMNS = "event_id, event, account, client, by_id, by_name, detail"


def store_events(url: str) -> list[tuple]:
    return store_rows(url, f"SELECT {EVENT_COLUMNS} FROM sign_in_events ORDER BY event_id")  # noqa: S608


def test_an_account_added_or_changed_on_one_server_is_in_effect_on_the_other_within_2_seconds(replicas):
    a, b = replicas
    a.following, b.following = replica.start_following(a), replica.start_following(b)
    user_id = auth.add_user(a, "Eva Ruiz", "staff", PASSWORD, by=ADMIN, countries=["ESP"])
    assert store_rows(a.store.url, "SELECT user_id, name, role, countries, disabled FROM users") == [
        (user_id, "Eva Ruiz", "staff", ["ESP"], False)
    ]
    assert store_events(a.store.url) == [
        (1, "user_added", "Eva Ruiz", None, ADMIN.id, ADMIN.name, "staff for ESP")
    ]
    eva = Identity(user_id, "Eva Ruiz", "staff", ("ESP",))
    assert wait_until(lambda: auth.user_identity(b, user_id) == eva, 2.0)
    # b now answers from its cache of accounts; a change on a must reach it through the replica.
    auth.set_role(a, "Eva Ruiz", "viewer", by=ADMIN)
    assert wait_until(lambda: auth.user_identity(b, user_id) == Identity(user_id, "Eva Ruiz", "viewer"), 2.0)
    auth.set_disabled(b, "Eva Ruiz", True, by=ADMIN)
    assert wait_until(lambda: auth.user_identity(a, user_id) is None, 2.0)
    assert store_events(a.store.url) == [
        (1, "user_added", "Eva Ruiz", None, ADMIN.id, ADMIN.name, "staff for ESP"),
        (2, "role_changed", "Eva Ruiz", None, ADMIN.id, ADMIN.name, "viewer"),
        (3, "disabled", "Eva Ruiz", None, ADMIN.id, ADMIN.name, "disabled"),
    ]
    for db in (a, b):
        assert db.connection.execute("SELECT role, disabled FROM users").fetchall() == [("viewer", True)]


def test_a_wall_key_revoked_on_one_server_stops_working_on_the_other(replicas):
    a, b = replicas
    key_id, key = auth.add_wall_key(a, "Ops room 1", by=ADMIN)
    assert auth.wall_key_label(b, key, "10.0.0.7") == "Ops room 1"  # b pulls the store first
    # b's use of the key is noted in the store, and reaches a.
    assert store_rows(b.store.url, "SELECT key_id, label, last_used_at IS NOT NULL FROM wall_keys") == [
        (key_id, "Ops room 1", True)
    ]
    catch_up(a)
    assert a.connection.execute("SELECT last_used_at IS NOT NULL FROM wall_keys").fetchall() == [(True,)]
    b.following = replica.start_following(b)
    auth.revoke_wall_key(a, key_id, by=ADMIN)
    revoked = "SELECT count(*) FROM wall_keys WHERE revoked_at IS NOT NULL"
    assert wait_until(lambda: b.connection.execute(revoked).fetchone() == (1,), 2.0)
    assert auth.wall_key_label(b, key, "10.0.0.7") is None
    assert store_events(a.store.url) == [
        (1, "wall_key_added", None, None, ADMIN.id, ADMIN.name, f"{key_id}: Ops room 1"),
        (2, "wall_key_revoked", None, None, ADMIN.id, ADMIN.name, f"{key_id}: Ops room 1"),
        (3, "wall_key_refused", None, "10.0.0.7", None, None, "unknown or revoked key"),
    ]


def test_account_writes_check_the_role_and_a_name_taken_on_another_server(replicas):
    a, b = replicas
    with pytest.raises(PermissionError, match="needs the admin role"):
        auth.add_user(a, "Eva Ruiz", "admin", PASSWORD, by=staff())
    auth.add_user(a, "Eva Ruiz", "staff", PASSWORD, by=ADMIN)
    # b has not followed, but its write pulls the store's accounts first.
    with pytest.raises(auth.AuthError, match="already an account named 'Eva Ruiz'"):
        auth.add_user(b, "Eva Ruiz", "admin", PASSWORD, by=ADMIN)
    assert store_rows(a.store.url, "SELECT name, role FROM users") == [("Eva Ruiz", "staff")]
    assert [e[1] for e in store_events(a.store.url)] == ["user_added"]


def test_failed_sign_ins_count_across_servers(replicas):
    a, b = replicas
    auth.add_user(a, "Eva Ruiz", "staff", PASSWORD, by=ADMIN)
    for n in range(auth.FAILURES_BEFORE_WAIT):
        assert auth.sign_in((a, b)[n % 2], "Eva Ruiz", "wrong password", "10.0.0.8").identity is None
    refused = auth.sign_in(b, "Eva Ruiz", PASSWORD, "10.0.0.9")
    assert refused.identity is None and refused.message.startswith("Too many failed sign-ins")
    events = store_events(a.store.url)
    assert [(e[0], e[1]) for e in events] == [
        (1, "user_added"),
        *((n, "failed") for n in range(2, 2 + auth.FAILURES_BEFORE_WAIT)),
        (2 + auth.FAILURES_BEFORE_WAIT, "throttled"),
    ]
    for db in (a, b):
        catch_up(db)
        assert (
            db.connection.execute(
                "SELECT event_id, event, account, client, by_id, by_name, detail FROM sign_in_events "
                "ORDER BY event_id"
            ).fetchall()
            == events
        )


def test_an_account_added_on_the_command_line_reaches_the_running_servers(replicas, tmp_path, capsys):
    a, _ = replicas
    own = tmp_path / "cli-replica.duckdb"
    command = ["users", "add", "Jo Lee", "--role", "analyst", "--external-id", "jo@example.org"]
    assert main([*command, "--db", str(own), "--who", "Ops desk"]) == 0
    assert "Added Jo Lee (analyst)." in capsys.readouterr().out
    assert store_events(a.store.url) == [
        (1, "user_added", "Jo Lee", None, f"os:{getpass.getuser()}", "Ops desk", "analyst")
    ]
    catch_up(a)
    assert a.connection.execute("SELECT name, role, external_id FROM users").fetchall() == [
        ("Jo Lee", "analyst", "jo@example.org")
    ]


# ---------------------------------------------------------------- a store that goes away


def test_a_store_that_stops_refuses_writes_and_recovers_without_a_restart(
    fixture_db_path, tmp_path, monkeypatch
):
    from reliefhub.store.local_server import PostgresServer

    with PostgresServer.temporary() as server:
        url = server.new_database()
        init.init_from(_copy(fixture_db_path, tmp_path / "embedded.duckdb"), url)
        monkeypatch.setenv("RELIEFHUB_STORE", url)
        replica.ensure_filled(tmp_path / "replica.duckdb", url)
        db = open_database_at(tmp_path / "replica.duckdb")
        db.following = replica.start_following(db)
        auth.add_user(db, "Eva Ruiz", "staff", PASSWORD, by=ADMIN)
        _, key = auth.add_wall_key(db, "Ops room 1", by=ADMIN)
        server.stop()
        assert wait_until(lambda: not db.store.reachable, 5.0)
        assert db.store.notice().startswith("store unreachable: figures as of ")
        assert not db.query("data_bounds").empty  # the replica still answers
        with pytest.raises(postgres.StoreUnreachable, match="nothing was saved"):
            operations.add_record(db, "requests", new_request("req-away", "ITA"), who=staff())
        assert operations.current_row(db, "requests", "req-away") is None
        # Signing in is refused (its outcome could not be recorded); wall screens keep showing.
        refused = auth.sign_in(db, "Eva Ruiz", PASSWORD, None)
        assert (refused.identity, refused.message) == (
            None,
            "Cannot sign in now. The shared store (PostgreSQL) is unreachable: nothing was saved. "
            "Try again once it is back.",
        )
        assert auth.wall_key_label(db, key, None) == "Ops room 1"
        # A dashboard server started meanwhile on the replica says so on its pages.
        monkeypatch.setenv("RELIEFHUB_DB", str(tmp_path / "replica.duckdb"))
        page = run_page("app_pages/overview.py", role=None)  # read without signing in
        assert [w.value for w in page.warning if w.value.startswith("store unreachable: figures as of ")]
        assert page.metric  # the figures are still shown, from the replica
        server.start()
        assert wait_until(lambda: db.store.reachable, 5.0)
        assert db.store.notice() is None
        assert operations.add_record(db, "requests", new_request("req-back", "ITA"), who=staff()).ok
        assert wait_until(lambda: shared_database().store.reachable, 5.0)
        assert not [w for w in run_page("app_pages/overview.py").warning if "store unreachable" in w.value]
        shared_database().close()
        monkeypatch.setattr(reliefhub.db, "_shared", None)  # the next test opens its own
        db.close()


def test_a_command_line_import_killed_midway_leaves_none_of_it_in_the_store(replicas, tmp_path):
    a, b = replicas
    path = tmp_path / "requests.csv"
    pd.DataFrame([new_request(f"req-killed-{i}", "ITA") for i in range(20_000)]).to_csv(path, index=False)
    own = tmp_path / "cli-replica.duckdb"
    replica.ensure_filled(own, a.store.url)
    command = [sys.executable, "-m", "reliefhub", "import", str(path), "--kind", "requests", "--db", str(own)]
    importer = subprocess.Popen(command, cwd=REPO_DIR, env=os.environ | {"RELIEFHUB_STORE": a.store.url})
    with psycopg.connect(a.store.url, autocommit=True) as pg:
        # Killed while it copies its rows into the store, inside the store's transaction.
        copying = "SELECT tuples_processed FROM pg_stat_progress_copy WHERE command = 'COPY FROM'"
        assert wait_until(lambda: (pg.execute(copying).fetchone() or (0,))[0] > 0, 120)
        importer.send_signal(signal.SIGKILL)
        importer.wait()
        assert pg.execute(
            "SELECT count(*) FROM requests WHERE request_id LIKE 'req-killed-%'"
        ).fetchone() == (0,)
        assert pg.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)
    # The lock died with it: the other servers write and serve at once.
    assert operations.add_record(b, "requests", new_request("req-after-kill", "ESP"), who=staff()).ok
    catch_up(a)
    assert operations.current_row(a, "requests", "req-after-kill") is not None
    assert models.differences(a.connection.cursor()) == {}


def test_a_store_backed_up_with_pg_dump_and_restored_serves_new_replicas(replicas, postgres_server, tmp_path):
    a, _ = replicas
    assert operations.add_record(a, "requests", new_request("req-before-dump", "ITA"), who=staff()).ok
    dump = tmp_path / "store.dump"
    tools = postgres_server.bin
    subprocess.run([tools / "pg_dump", "-Fc", "-f", dump, "-d", a.store.url], check=True)
    assert operations.add_record(a, "requests", new_request("req-after-dump", "ITA"), who=staff()).ok
    restored = postgres_server.new_database()
    subprocess.run([tools / "pg_restore", "--no-owner", "-d", restored, dump], check=True)
    # A server that saw the lost change refuses to write, says so, and is filled anew on restart.
    a.store.url = restored
    with pytest.raises(replica.StoreBehind):
        operations.add_record(a, "requests", new_request("req-on-restored", "ITA"), who=staff())
    assert a.store.notice().startswith("The shared store holds fewer changes than this server's replica")
    a.close()
    with psycopg.connect(restored, autocommit=True) as pg:
        assert replica.needs_fill(a.path, pg).startswith("the file holds changes the store does not")
    fresh = tmp_path / "after-restore.duckdb"
    replica.ensure_filled(fresh, restored)
    with duckdb.connect(str(fresh), read_only=True) as con:
        ids = {
            r
            for (r,) in con.execute(
                "SELECT request_id FROM requests WHERE request_id LIKE 'req-%-dump'"
            ).fetchall()
        }
        assert ids == {"req-before-dump"}
        assert models.differences(con) == {}
