"""Who may do what: identities, roles, local accounts, sign-ins and wall-screen keys.

No Streamlit here: the command line, the pages (through reliefhub/access.py)
and the write path (operations, imports) all ask this module.

Roles rise viewer < analyst < staff < admin; each may do what the one below
may, and more (the README's "Sign-in and roles" has the table). Staff may be
limited to some countries: they then write only records of those countries
(`country_problems`, part of the validation that forms and imports share).

Passwords are hashed with Argon2id; wall keys, which are long random strings,
with SHA-256. Neither is ever stored or logged in clear.

Accounts, keys and sign-in events live in the tables of migration 0003
(reliefhub/migrations/0003_sign_in.sql). They are written in
Database.sign_in_transaction(), not in Database.transaction(), whose commit
marks the data as changed: a sign-in is not a data change. With a shared
store (RELIEFHUB_STORE), that transaction lands each write in PostgreSQL,
their system of record, and the other servers' replicas follow
(store/sign_ins.py); while the store is away, signing in is refused, wall keys
are checked against the replica without noting their use, and sign-outs are
not recorded.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reliefhub import faults
from reliefhub.db import Database, parameter_names, query_text
from reliefhub.store.postgres import StoreUnreachable
from reliefhub.validation import LINE, Problem, quote

ROLES = ("viewer", "analyst", "staff", "admin")
WRITE_ROLE = "staff"
# The queries of the sign-in tables (admins' Users page, sign-in): not part
# of reading the data, so the benchmark leaves them out.
QUERIES = ("known_countries", "users_list", "wall_keys_list", "sign_in_events", "user_by_external_id")
MIN_PASSWORD = 10
# Failed sign-ins allowed in a row (per account, and per client) before each
# further try must wait: 30 s, doubling with every failure, at most 15 minutes.
FAILURES_BEFORE_WAIT = 5
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
# A wall screen's "last used" is written at most this often.
LAST_USE_EVERY = timedelta(minutes=1)
# Which countries a record concerns, for staff limited to some countries:
# the columns a refusal is shown under, and the countries as a list over row `r`.
RECORD_COUNTRIES = {
    "requests": ("requester_iso3", "[r.requester_iso3]"),
    "shipments": ("recipient_iso3, provider_iso3", "[r.recipient_iso3, r.provider_iso3]"),
    "flights": (
        "origin_place_id, destination_place_id",
        "[(SELECT iso3 FROM places p WHERE p.place_id = r.origin_place_id), "
        "(SELECT iso3 FROM places p WHERE p.place_id = r.destination_place_id)]",
    ),
    "places": ("iso3", "[r.iso3]"),
}

_hasher = PasswordHasher()  # Argon2id, the library's RFC 9106 parameters
# An account read since the Database's sign_ins_version last moved (a write
# to the sign-in tables here, or one the replica took from the store) is
# still current: page runs look it up here instead of in the database.
_accounts: dict[tuple[str, int, str], tuple[int, Identity | None]] = {}


class AuthError(ValueError):
    """A request about accounts or keys that cannot be done; the message says why."""


@dataclass(frozen=True)
class Identity:
    """Who is asking: `id` is stable (the audit keeps it), `name` is for people."""

    id: str
    name: str
    role: str
    countries: tuple[str, ...] = ()
    via: str = "web"  # web | cli

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def cli_identity(who: str | None = None) -> Identity:
    """The command line acts as whoever can open the database file: an admin,
    named by the operating-system user and, if given, --who."""
    user = getpass.getuser()
    return Identity(f"os:{user}", (who or "").strip() or user, "admin", via="cli")


def idle_timeout() -> timedelta:
    """Sessions end after this long without a page run ($RELIEFHUB_SESSION_IDLE_HOURS, default 12)."""
    return timedelta(hours=float(os.environ.get("RELIEFHUB_SESSION_IDLE_HOURS") or 12))


def public_read() -> bool:
    """Reading without signing in, unless $RELIEFHUB_PUBLIC_READ is 0."""
    return os.environ.get("RELIEFHUB_PUBLIC_READ", "1").strip() != "0"


# ---------------------------------------------------------------- the write path's checks


def write_refusal(who: Identity, label: str) -> list[Problem]:
    """A problem when `who` may not record or import at all."""
    if not isinstance(who, Identity):
        raise TypeError(f"a write needs the caller's auth.Identity, not {type(who).__name__}")
    if who.may(WRITE_ROLE):
        return []
    reason = f"{who.name} is signed in as {who.role}: recording and importing need the staff role"
    return [Problem(label, 0, "who", None, reason)]


def country_problems(
    cur: duckdb.DuckDBPyConnection, table: str, typed: str, key: str, label: str, who: Identity
) -> list[Problem]:
    """For staff limited to some countries: each row, as it would be written and
    as it is stored now, must concern one of their countries."""
    if not who.countries or table not in RECORD_COUNTRIES:
        return []
    columns, countries = RECORD_COUNTRIES[table]
    theirs = ", ".join(who.countries)
    k, rows = quote(key), quote(typed)
    outside = f"NOT list_has_any({countries}, $theirs)"
    params = {"theirs": list(who.countries)}
    new = cur.execute(f"SELECT r.{LINE}, r.{k} FROM {rows} r WHERE {outside}", params).fetchall()  # noqa: S608
    stored = cur.execute(
        f"SELECT t.{LINE}, t.{k} FROM {rows} t JOIN {quote(table)} r ON r.{k} = t.{k} WHERE {outside}",  # noqa: S608
        params,
    ).fetchall()
    noun = table.removesuffix("s")
    return [
        Problem(
            label, line, columns, value, f"you record only for {theirs}, and this {noun} is for none of them"
        )
        for line, value in new
    ] + [
        Problem(
            label,
            line,
            columns,
            value,
            f"you record only for {theirs}: the stored {noun} is for none of them",
        )
        for line, value in stored
    ]


# ---------------------------------------------------------------- storage


def read(db: Database, name: str, params: dict | None = None) -> pd.DataFrame:
    """Run queries/<name>.sql uncached: sign-ins change these tables without
    telling the result cache, which follows data changes only."""
    sql = query_text(name)
    bound = {p: (params or {})[p] for p in parameter_names(sql)}
    cur = db.connection.cursor()
    try:
        return cur.execute(sql, bound).df()
    finally:
        cur.close()


def record_event(
    cur: duckdb.DuckDBPyConnection,
    event: str,
    *,
    account: str | None = None,
    user_id: str | None = None,
    client: str | None = None,
    by: Identity | None = None,
    detail: str | None = None,
) -> None:
    cur.execute(
        "INSERT INTO sign_in_events SELECT coalesce(max(event_id), 0) + 1, $now, $event, $account, "
        "$user_id, $client, $by_id, $by_name, $detail FROM sign_in_events",
        {
            "now": datetime.now(UTC),
            "event": event,
            "account": account,
            "user_id": user_id,
            "client": client,
            "by_id": by.id if by else None,
            "by_name": by.name if by else None,
            "detail": detail,
        },
    )


# ---------------------------------------------------------------- accounts


def _require_admin(by: Identity) -> None:
    if not by.may("admin"):
        raise PermissionError(f"{by.name} is signed in as {by.role}: managing accounts needs the admin role")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_countries(db: Database, countries: list[str] | tuple[str, ...]) -> list[str]:
    codes = sorted({c.strip().upper() for c in countries if c.strip()})
    known = set(read(db, "known_countries")["iso3"])
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise AuthError(f"unknown country code(s): {', '.join(unknown)} (ISO 3166 alpha-3, e.g. ITA)")
    return codes


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _user_row(cur: duckdb.DuckDBPyConnection, name: str) -> tuple | None:
    return cur.execute(
        "SELECT user_id, name, role, countries, password_hash, disabled FROM users WHERE name = $name",
        {"name": name},
    ).fetchone()


def add_user(
    db: Database,
    name: str,
    role: str,
    password: str | None,
    *,
    by: Identity,
    countries: list[str] = (),
    external_id: str | None = None,
) -> str:
    """A new account; returns its stable id. With `external_id` (the identity
    provider's subject or e-mail) the person signs in there, without a password."""
    _require_admin(by)
    check_role(role)
    codes = check_countries(db, countries)
    if external_id is None and password is None:
        raise AuthError("a local account needs a password")
    password_hash = None if password is None else hash_password(password)
    user_id = f"local:{uuid.uuid4()}"
    with db.sign_in_transaction() as cur:
        if _user_row(cur, name) is not None:
            raise AuthError(f"there is already an account named {name!r}")
        try:
            cur.execute(
                "INSERT INTO users VALUES ($id, $name, $role, $countries, $hash, $external, false, $now)",
                {"id": user_id, "name": name, "role": role, "countries": codes, "hash": password_hash}
                | {"external": external_id, "now": datetime.now(UTC)},
            )
        except duckdb.ConstraintException as error:
            reason = "letters, digits, spaces inside, and . _ @ ' - only, at most 64"
            raise AuthError(f"{name!r} cannot be an account name: {reason}") from error
        record_event(cur, "user_added", account=name, user_id=user_id, by=by, detail=_role_text(role, codes))
    return user_id


def _role_text(role: str, countries: list[str]) -> str:
    return role + (f" for {', '.join(countries)}" if countries else "")


def _change_user(db: Database, name: str, event: str, update: str, params: dict, by: Identity, detail: str):
    _require_admin(by)
    with db.sign_in_transaction() as cur:
        row = _user_row(cur, name)
        if row is None:
            raise AuthError(f"there is no account named {name!r}")
        cur.execute(f"UPDATE users SET {update} WHERE user_id = $id", params | {"id": row[0]})  # noqa: S608
        record_event(cur, event, account=name, user_id=row[0], by=by, detail=detail)


def set_role(db: Database, name: str, role: str, *, by: Identity, countries: list[str] = ()) -> None:
    check_role(role)
    codes = check_countries(db, countries)
    params = {"role": role, "countries": codes}
    detail = _role_text(role, codes)
    _change_user(db, name, "role_changed", "role = $role, countries = $countries", params, by, detail)


def set_disabled(db: Database, name: str, disabled: bool, *, by: Identity) -> None:
    detail = "disabled" if disabled else "enabled again"
    _change_user(db, name, "disabled", "disabled = $disabled", {"disabled": disabled}, by, detail)


def reset_password(db: Database, name: str, password: str, *, by: Identity) -> None:
    params = {"hash": hash_password(password)}
    _change_user(db, name, "password_reset", "password_hash = $hash", params, by, None)


def user_identity(db: Database, user_id: str) -> Identity | None:
    """The identity of an account that may still sign in, or None. Runs on
    every page run of a signed-in session, so it answers from `_accounts`
    while no sign-in table has changed since."""
    key = (str(db.path), id(db), user_id)
    generation, known = _accounts.get(key, (-1, None))
    if generation == db.sign_ins_version:
        return known
    generation = db.sign_ins_version
    cur = db._cursor()  # the thread's own
    row = cur.execute(
        "SELECT user_id, name, role, countries FROM users WHERE user_id = $id AND NOT disabled",
        {"id": user_id},
    ).fetchone()
    known = None if row is None else Identity(row[0], row[1], row[2], tuple(row[3]))
    _accounts[key] = (generation, known)
    return known


# ---------------------------------------------------------------- signing in


@dataclass(frozen=True)
class SignIn:
    identity: Identity | None
    message: str = ""


def _wait_after(failures: int, last_failure: datetime | None, now: datetime) -> timedelta:
    if failures < FAILURES_BEFORE_WAIT or last_failure is None:
        return timedelta(0)
    wait = min(FIRST_WAIT * 2 ** (failures - FAILURES_BEFORE_WAIT), LONGEST_WAIT)
    return max(timedelta(0), last_failure + wait - now)


def throttle_wait(
    cur: duckdb.DuckDBPyConnection, account: str, client: str | None, now: datetime
) -> timedelta:
    """How long the next try for this account, or from this client, must wait:
    failures count since the last sign-in that worked, within the longest wait."""
    since = now - LONGEST_WAIT - FIRST_WAIT
    waits = [timedelta(0)]
    for column, value in (("account", account), ("client", client)):
        if value is None:
            continue
        failures, last = cur.execute(
            f"SELECT count(*), epoch(max(happened_at)) FROM sign_in_events WHERE {column} = $value "  # noqa: S608
            "AND event = 'failed' AND happened_at > $since AND happened_at > coalesce(("
            f"SELECT max(happened_at) FROM sign_in_events WHERE {column} = $value "
            "AND event = 'sign_in'), $since)",
            {"value": value, "since": since},
        ).fetchone()
        waits.append(_wait_after(failures, last and datetime.fromtimestamp(last, UTC), now))
    return max(waits)


def sign_in(db: Database, name: str, password: str, client: str | None) -> SignIn:
    """Check a local account's password; every outcome is recorded, so
    without the store (when there is one) nobody signs in."""
    try:
        return _checked_sign_in(db, name, password, client)
    except StoreUnreachable as error:
        return SignIn(None, f"Cannot sign in now. {error}")


def _checked_sign_in(db: Database, name: str, password: str, client: str | None) -> SignIn:
    now = datetime.now(UTC)
    with db.sign_in_transaction() as cur:
        wait = throttle_wait(cur, name, client, now)
        if wait:
            record_event(cur, "throttled", account=name, client=client, detail=f"wait {wait.seconds} s")
            seconds = max(1, round(wait.total_seconds()))
            return SignIn(None, f"Too many failed sign-ins. Try again in {seconds} seconds.")
        row = _user_row(cur, name)
        try:
            _hasher.verify(row[4] if row and row[4] else _unknown_account_hash(), password)
            right = row is not None and row[4] is not None
        except (VerificationError, InvalidHashError):
            right = False
        if not right:
            record_event(cur, "failed", account=name, client=client, detail="wrong name or password")
            return SignIn(None, "Wrong account name or password.")
        if row[5]:
            detail = "account disabled"
            record_event(cur, "failed", account=name, user_id=row[0], client=client, detail=detail)
            return SignIn(None, "This account is disabled. Ask an administrator.")
        record_event(cur, "sign_in", account=name, user_id=row[0], client=client, detail="password")
    return SignIn(Identity(row[0], row[1], row[2], tuple(row[3])))


def note_session_end(db: Database, who: Identity, event: str, client: str | None) -> None:
    """A sign-out or an expiry, for the record (not while the store is away:
    the session ends all the same)."""
    try:
        with db.sign_in_transaction() as cur:
            record_event(cur, event, account=who.name, user_id=who.id, client=client)
    except StoreUnreachable as error:
        faults.log.warning("%s of %s not recorded: %s", event, who.id, error)


# ---------------------------------------------------------------- wall keys


@cache
def _unknown_account_hash() -> str:
    """Compared against when the account does not exist, so a wrong name takes
    as long to refuse as a wrong password."""
    return _hasher.hash(secrets.token_hex(16))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_wall_key(db: Database, label: str, *, by: Identity) -> tuple[str, str]:
    """A new key for one screen: (key id, the key itself, shown only now)."""
    _require_admin(by)
    if not label.strip():
        raise AuthError("a wall key needs a label that says which screen it is for")
    key_id, key = f"wall-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    with db.sign_in_transaction() as cur:
        cur.execute(
            "INSERT INTO wall_keys VALUES ($id, $label, $hash, $now, $by, NULL, NULL)",
            {"id": key_id, "label": label.strip(), "hash": _key_hash(key), "now": datetime.now(UTC)}
            | {"by": by.name},
        )
        record_event(cur, "wall_key_added", by=by, detail=f"{key_id}: {label.strip()}")
    return key_id, key


def revoke_wall_key(db: Database, key_id: str, *, by: Identity) -> None:
    _require_admin(by)
    with db.sign_in_transaction() as cur:
        found = cur.execute(
            "UPDATE wall_keys SET revoked_at = $now "
            "WHERE key_id = $id AND revoked_at IS NULL RETURNING label",
            {"id": key_id, "now": datetime.now(UTC)},
        ).fetchone()
        if found is None:
            raise AuthError(f"there is no wall key {key_id!r} in use")
        record_event(cur, "wall_key_revoked", by=by, detail=f"{key_id}: {found[0]}")


def wall_key_label(db: Database, key: str, client: str | None) -> str | None:
    """The screen's label when `key` is a key in use (noting its use), else
    None. While the store is away, the replica's keys answer, unnoted: the
    wall keeps showing its figures."""
    now = datetime.now(UTC)
    try:
        with db.sign_in_transaction() as cur:
            row = _key_in_use(cur, key, now)
            if row is None:
                record_event(cur, "wall_key_refused", client=client, detail="unknown or revoked key")
                return None
            if row[2]:
                used = {"now": now, "id": row[0]}
                cur.execute("UPDATE wall_keys SET last_used_at = $now WHERE key_id = $id", used)
    except StoreUnreachable:
        row = _key_in_use(db.connection.cursor(), key, now)
    return None if row is None else row[1]


def _key_in_use(cur: duckdb.DuckDBPyConnection, key: str, now: datetime) -> tuple | None:
    """(key id, label, whether its last use is to be noted) of a key in use, or None."""
    return cur.execute(
        "SELECT key_id, label, coalesce(last_used_at < $now - $every, true) FROM wall_keys "
        "WHERE key_hash = $hash AND revoked_at IS NULL",
        {"hash": _key_hash(key), "now": now, "every": LAST_USE_EVERY},
    ).fetchone()
