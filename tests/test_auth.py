"""Accounts, sign-in, throttling, wall keys and the identity provider's claims,
through reliefhub.auth and the command line, with exact rows for their queries."""

import getpass
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from reliefhub import REPO_DIR, auth, oidc
from reliefhub.auth import Identity
from tests.conftest import ADMIN, PASSWORD

STAFF = Identity("test:staff", "A staff member", "staff")


def cli(*args, password: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reliefhub", *args],
        cwd=REPO_DIR,
        input=password,
        capture_output=True,
        text=True,
        timeout=120,
    )


def events(db) -> list[tuple]:
    frame = auth.read(db, "sign_in_events", {"limit": 100})
    frame = frame.astype(object).where(frame.notna(), None)
    return list(frame[["event", "account", "client", "by_name", "detail"]].itertuples(index=False, name=None))


def test_a_fresh_database_has_no_account(writable_db):
    assert auth.read(writable_db, "users_list").empty
    assert auth.read(writable_db, "wall_keys_list").empty


def test_users_from_the_command_line(fixture_db_path, tmp_path):
    db = str(tmp_path / "cli.duckdb")
    (tmp_path / "cli.duckdb").write_bytes(fixture_db_path.read_bytes())
    added = cli("users", "add", "Ana Novak", "--role", "staff", "--countries", "ita,esp", "--password-stdin",
                "--db", db, password=PASSWORD + "\n")  # fmt: skip
    assert (added.returncode, added.stdout) == (0, "Added Ana Novak (staff).\n")
    short = cli("users", "add", "bo", "--role", "admin", "--password-stdin", "--db", db, password="short\n")
    assert (short.returncode, short.stderr) == (1, "Refused: a password needs at least 10 characters\n")
    twice = cli(
        "users", "add", "Ana Novak", "--role", "viewer", "--password-stdin", "--db", db, password=PASSWORD
    )
    assert twice.stderr == "Refused: there is already an account named 'Ana Novak'\n"
    unknown = cli("users", "add", "cy", "--role", "staff", "--countries", "XXX", "--password-stdin",
                  "--db", db, password=PASSWORD)  # fmt: skip
    assert unknown.stderr == "Refused: unknown country code(s): XXX (ISO 3166 alpha-3, e.g. ITA)\n"
    assert (
        cli("users", "set-role", "Ana Novak", "analyst", "--db", db).stdout == "Ana Novak is now analyst.\n"
    )
    assert cli("users", "disable", "Ana Novak", "--db", db).stdout == "Ana Novak is disabled.\n"
    reset = cli(
        "users", "reset-password", "Ana Novak", "--password-stdin", "--db", db, password="another long one"
    )
    assert reset.returncode == 0
    assert (
        cli("users", "disable", "nobody", "--db", db).stderr
        == "Refused: there is no account named 'nobody'\n"
    )
    listed = cli("users", "list", "--db", db).stdout.splitlines()
    assert listed[0].split() == ["name", "role", "countries", "disabled", "external_id", "created_at"]
    assert listed[1].split()[:5] == ["Ana", "Novak", "analyst", "False", "None"] or "True" in listed[1]
    assert PASSWORD not in " ".join(listed)


def test_managing_accounts_needs_an_admin(writable_db):
    with pytest.raises(PermissionError, match="managing accounts needs the admin role"):
        auth.add_user(writable_db, "x", "admin", PASSWORD, by=STAFF)
    with pytest.raises(PermissionError):
        auth.add_wall_key(writable_db, "Ops room", by=STAFF)
    assert auth.read(writable_db, "users_list").empty


def test_accounts_and_their_events_exact_rows(writable_db):
    user_id = auth.add_user(writable_db, "Eva Ruiz", "staff", PASSWORD, by=ADMIN, countries=["esp", "ITA"])
    auth.set_role(writable_db, "Eva Ruiz", "analyst", by=ADMIN)
    auth.set_disabled(writable_db, "Eva Ruiz", True, by=ADMIN)
    users = auth.read(writable_db, "users_list")
    assert users[["name", "role", "countries", "disabled", "external_id", "user_id"]].values.tolist() == [
        ["Eva Ruiz", "analyst", "", True, None, user_id]
    ]
    stored = writable_db.connection.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert events(writable_db) == [
        ("disabled", "Eva Ruiz", None, "Test admin", "disabled"),
        ("role_changed", "Eva Ruiz", None, "Test admin", "analyst"),
        ("user_added", "Eva Ruiz", None, "Test admin", "staff for ESP, ITA"),
    ]


def test_sign_in_right_wrong_and_disabled(writable_db):
    user_id = auth.add_user(writable_db, "ana", "staff", PASSWORD, by=ADMIN, countries=["ITA"])
    assert auth.sign_in(writable_db, "ana", PASSWORD, "10.0.0.1").identity == Identity(
        user_id, "ana", "staff", ("ITA",)
    )
    assert auth.sign_in(writable_db, "ana", "wrong password", "10.0.0.1") == auth.SignIn(
        None, "Wrong account name or password."
    )
    assert (
        auth.sign_in(writable_db, "nobody", PASSWORD, "10.0.0.1").message == "Wrong account name or password."
    )
    auth.set_disabled(writable_db, "ana", True, by=ADMIN)
    assert auth.sign_in(writable_db, "ana", PASSWORD, "10.0.0.1").message == (
        "This account is disabled. Ask an administrator."
    )
    assert auth.user_identity(writable_db, user_id) is None
    assert [e[:3] for e in events(writable_db)[:4]] == [
        ("failed", "ana", "10.0.0.1"),
        ("disabled", "ana", None),
        ("failed", "nobody", "10.0.0.1"),
        ("failed", "ana", "10.0.0.1"),
    ]


def test_failures_slow_down_per_account_and_per_client(writable_db):
    auth.add_user(writable_db, "ana", "staff", PASSWORD, by=ADMIN)
    for _ in range(auth.FAILURES_BEFORE_WAIT):
        assert auth.sign_in(writable_db, "ana", "wrong password", "10.0.0.1").message.startswith("Wrong")
    # The right password, from anywhere, now waits: the account is throttled.
    refused = auth.sign_in(writable_db, "ana", PASSWORD, "10.0.0.2")
    assert refused.identity is None and refused.message.startswith("Too many failed sign-ins. Try again in ")
    # The client is throttled for every account it tries.
    auth.add_user(writable_db, "bo", "staff", PASSWORD, by=ADMIN)
    assert auth.sign_in(writable_db, "bo", PASSWORD, "10.0.0.1").identity is None
    assert auth.sign_in(writable_db, "bo", PASSWORD, "10.0.0.3").identity is not None
    assert events(writable_db)[1][:3] == ("throttled", "bo", "10.0.0.1")


def test_the_wait_doubles_and_ends(writable_db):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert auth._wait_after(4, now, now) == timedelta(0)
    assert auth._wait_after(5, now, now) == timedelta(seconds=30)
    assert auth._wait_after(7, now, now) == timedelta(seconds=120)
    assert auth._wait_after(30, now, now) == timedelta(minutes=15)
    assert auth._wait_after(5, now, now + timedelta(seconds=31)) == timedelta(0)


def test_wall_keys_are_stored_hashed_and_revocable(writable_db):
    key_id, key = auth.add_wall_key(writable_db, "Ops room 1", by=ADMIN)
    stored = writable_db.connection.execute("SELECT * EXCLUDE (created_at) FROM wall_keys").fetchall()
    assert key not in str(stored)
    assert auth.wall_key_label(writable_db, key, "10.0.0.9") == "Ops room 1"
    assert auth.wall_key_label(writable_db, "not-a-key", "10.0.0.9") is None
    keys = auth.read(writable_db, "wall_keys_list")
    assert keys[["key_id", "label", "created_by"]].values.tolist() == [[key_id, "Ops room 1", "Test admin"]]
    assert keys["last_used_at"].notna().all() and keys["revoked_at"].isna().all()
    auth.revoke_wall_key(writable_db, key_id, by=ADMIN)
    assert auth.wall_key_label(writable_db, key, "10.0.0.9") is None
    with pytest.raises(auth.AuthError, match="no wall key"):
        auth.revoke_wall_key(writable_db, key_id, by=ADMIN)
    assert [e[0] for e in events(writable_db)] == [
        "wall_key_refused", "wall_key_revoked", "wall_key_refused", "wall_key_added"
    ]  # fmt: skip


def test_wall_key_from_the_command_line(fixture_db_path, tmp_path):
    db = str(tmp_path / "cli.duckdb")
    (tmp_path / "cli.duckdb").write_bytes(fixture_db_path.read_bytes())
    added = cli("wall-key", "add", "Ops room 1", "--base-url", "https://hub.example.org/", "--db", db)
    assert added.returncode == 0
    link = added.stdout.splitlines()[-1]
    assert link.startswith("https://hub.example.org/wall?key=") and len(link) > 40
    key_id = added.stdout.split()[2]
    assert key_id in cli("wall-key", "list", "--db", db).stdout
    assert cli("wall-key", "revoke", key_id, "--db", db).returncode == 0
    assert cli("wall-key", "revoke", key_id, "--db", db).returncode == 1


CLAIMS = {"sub": "248289761001", "name": "Jane Doe", "email": "jane@example.org"}


def test_role_from_a_claim_mapped_to_hub_roles(writable_db):
    settings = {"role_claim": "groups", "roles": {"relief-staff": "staff", "relief-admins": "admin"}}
    jane = oidc.identity_from_claims(writable_db, CLAIMS | {"groups": ["relief-staff", "other"]}, settings)
    assert jane == Identity("oidc:248289761001", "Jane Doe", "staff", ())
    both = CLAIMS | {"groups": ["relief-staff", "relief-admins"], "countries": "ITA, esp"}
    assert oidc.identity_from_claims(writable_db, both, settings) == Identity(
        "oidc:248289761001", "Jane Doe", "admin", ("ITA", "ESP")
    )
    assert oidc.identity_from_claims(writable_db, CLAIMS | {"groups": ["other"]}, settings) is None


def test_role_from_the_hubs_table_by_subject_or_email(writable_db):
    user_id = auth.add_user(writable_db, "jane", "analyst", None, by=ADMIN, external_id="jane@example.org")
    assert oidc.identity_from_claims(writable_db, CLAIMS, {}) == Identity(user_id, "Jane Doe", "analyst", ())
    found = auth.read(writable_db, "user_by_external_id", {"subject": "x", "email": "jane@example.org"})
    assert found[["user_id", "role"]].values.tolist() == [[user_id, "analyst"]]
    auth.set_disabled(writable_db, "jane", True, by=ADMIN)
    assert oidc.identity_from_claims(writable_db, CLAIMS, {}) is None


GOOD_AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 40,
    "client_id": "reliefhub",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        (
            {"redirect_uri": "http://localhost:8501/"},
            "[auth] redirect_uri must be the dashboard's URL ending",
        ),
        ({"cookie_secret": "short"}, "[auth] cookie_secret must be a random string of at least 32"),
        ({"client_id": None}, "[auth] client_id is missing"),
        ({"server_metadata_url": "idp.example.org"}, "[auth] server_metadata_url must be an http(s) URL"),
    ],
)
def test_a_malformed_auth_section_names_its_key(change, problem):
    section = {k: v for k, v in (GOOD_AUTH | change).items() if v is not None}
    problems = oidc.config_problems({"auth": section})
    assert problems == [] if problem is None else problems[0].startswith(problem), problems


def test_a_named_provider_and_the_role_map_are_checked():
    provider = {k: GOOD_AUTH[k] for k in ("client_id", "server_metadata_url")}
    shared = {k: GOOD_AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    secrets = {"auth": shared | {"keycloak": provider}, "reliefhub_sign_in": {"roles": {"ops": "boss"}}}
    assert oidc.config_problems(secrets) == [
        "[auth.keycloak] client_secret is missing",
        "[reliefhub_sign_in.roles] 'ops' must map to one of viewer, analyst, staff, admin",
    ]


def test_a_provider_that_does_not_answer_is_reported():
    problem = oidc.provider_problem("http://127.0.0.1:9/.well-known/openid-configuration")
    assert problem.startswith("The identity provider does not answer (http://127.0.0.1:9/")


def test_a_command_line_import_is_audited_as_the_operating_system_user(fixture_db_path, tmp_path):
    db = tmp_path / "cli.duckdb"
    db.write_bytes(fixture_db_path.read_bytes())
    example = REPO_DIR / "data" / "examples" / "requests.csv"
    done = cli("import", str(example), "--kind", "requests", "--who", "Ana at the console", "--db", str(db))
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(db), read_only=True)
    audit = con.execute(
        "SELECT DISTINCT changed_by_id, changed_by, via, source_file FROM audit_log"
    ).fetchall()
    con.close()
    assert audit == [(f"os:{getpass.getuser()}", "Ana at the console", "cli", "requests.csv")]
