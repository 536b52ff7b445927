"""Sign-in through an identity provider: OpenID Connect by Streamlit's st.login / st.user.

Streamlit reads the provider from `.streamlit/secrets.toml`, section [auth]
(redirect_uri, cookie_secret, and client_id, client_secret and
server_metadata_url for one provider, at the top or in [auth.NAME]). Relief
Hub reads its own part from [reliefhub_sign_in]:

    role_claim = "roles"          # the claim holding the role (a string or a list)
    countries_claim = "countries" # optional: staff limited to these ISO3 codes
    [reliefhub_sign_in.roles]     # the provider's values -> hub roles
    "relief-admins" = "admin"
    "relief-staff" = "staff"

With no role in the claim, the hub's own users table decides: an account
whose external_id is the person's subject (`sub`) or e-mail.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlparse

import streamlit as st

from reliefhub import auth
from reliefhub.auth import Identity
from reliefhub.db import Database

SETTINGS = "reliefhub_sign_in"
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET = 32
CLAIM_KEY = "reliefhub_oidc_identity"


def _secrets() -> Mapping:
    try:
        return st.secrets.to_dict() if "auth" in st.secrets else {}
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def config_problems(secrets: Mapping) -> list[str]:
    """What is wrong with [auth] and [reliefhub_sign_in], each naming its key."""
    section = secrets.get("auth")
    if section is None:
        return []
    if not isinstance(section, Mapping):
        return ["[auth] must be a table of settings"]
    problems = []
    redirect = section.get("redirect_uri")
    if not _is_url(redirect) or not str(redirect).endswith("/oauth2callback"):
        problems.append("[auth] redirect_uri must be the dashboard's URL ending in /oauth2callback")
    if not isinstance(section.get("cookie_secret"), str) or len(section["cookie_secret"]) < MIN_COOKIE_SECRET:
        problems.append(
            f"[auth] cookie_secret must be a random string of at least {MIN_COOKIE_SECRET} characters"
        )
    providers = {name: value for name, value in section.items() if isinstance(value, Mapping)}
    if any(key in section for key in PROVIDER_KEYS) or not providers:
        providers = {"": section}
    for name, provider in providers.items():
        where = f"[auth.{name}]" if name else "[auth]"
        for key in PROVIDER_KEYS:
            if not isinstance(provider.get(key), str) or not provider[key].strip():
                problems.append(f"{where} {key} is missing")
        if "server_metadata_url" in provider and not _is_url(provider["server_metadata_url"]):
            problems.append(f"{where} server_metadata_url must be an http(s) URL")
    roles = secrets.get(SETTINGS, {}).get("roles", {})
    for value, role in roles.items() if isinstance(roles, Mapping) else []:
        if role not in auth.ROLES:
            problems.append(f"[{SETTINGS}.roles] {value!r} must map to one of {', '.join(auth.ROLES)}")
    return problems


def _is_url(value) -> bool:
    parsed = urlparse(str(value or ""))
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


_checked = False


def stop_if_misconfigured() -> None:
    """On the server's first page run: a malformed [auth] stops the server,
    saying which key is wrong, instead of failing at someone's sign-in."""
    global _checked
    if _checked:
        return
    problems = config_problems(_secrets())
    _checked = not problems
    if problems:
        message = "Relief Hub cannot start: .streamlit/secrets.toml " + "; ".join(problems)
        print(message, file=sys.stderr, flush=True)
        st.error(message)
        os.kill(os.getpid(), signal.SIGTERM)
        st.stop()


def configured() -> bool:
    return bool(_secrets().get("auth"))


def provider() -> tuple[str | None, str]:
    """(the name st.login takes, None for the default; the metadata URL)."""
    section = _secrets()["auth"]
    if "server_metadata_url" in section:
        return None, section["server_metadata_url"]
    name, values = next((n, v) for n, v in section.items() if isinstance(v, Mapping))
    return name, values["server_metadata_url"]


@st.cache_data(ttl=30, show_spinner=False)
def provider_problem(metadata_url: str) -> str | None:
    """Why the provider cannot be used now, or None when it answers."""
    try:
        with urllib.request.urlopen(metadata_url, timeout=3) as answer:
            json.load(answer)["authorization_endpoint"]
    except (OSError, ValueError, KeyError) as error:
        return f"The identity provider does not answer ({metadata_url}: {error})."
    return None


def signed_in() -> bool:
    return configured() and bool(st.user.is_logged_in)


def sign_in() -> None:
    st.login(provider()[0])


def sign_out() -> None:
    st.session_state.pop(CLAIM_KEY, None)
    st.logout()


def signed_in_identity(db: Database) -> Identity | None:
    """The identity of a provider's sign-in, worked out once per sign-in."""
    if not signed_in():
        return None
    claims = st.user.to_dict()
    known = st.session_state.get(CLAIM_KEY)
    if known is None or known[0] != claims.get("sub"):
        known = (claims.get("sub"), identity_from_claims(db, claims, _secrets().get(SETTINGS, {})))
        st.session_state[CLAIM_KEY] = known
    return known[1]


def _values(claim) -> list[str]:
    if isinstance(claim, str):
        return [v.strip() for v in claim.replace(",", " ").split() if v.strip()]
    return [str(v) for v in claim or []]


def identity_from_claims(db: Database, claims: Mapping, settings: Mapping) -> Identity | None:
    """The role from the configured claim (mapped to hub roles), else from the
    hub's users table by subject or e-mail; None when neither gives one."""
    subject = str(claims.get("sub") or "")
    name = str(claims.get("name") or claims.get("email") or subject)
    mapping = settings.get("roles") or {role: role for role in auth.ROLES}
    granted = [mapping[v] for v in _values(claims.get(settings.get("role_claim", "roles"))) if v in mapping]
    if granted:
        role = max(granted, key=auth.ROLES.index)
        countries = tuple(
            c.upper() for c in _values(claims.get(settings.get("countries_claim", "countries")))
        )
        return Identity(f"oidc:{subject}", name, role, countries)
    keyed = auth.read(db, "user_by_external_id", {"subject": subject, "email": claims.get("email")})
    if keyed.empty:
        return None
    row = keyed.iloc[0]
    return Identity(row["user_id"], name, row["role"], tuple(row["countries"]))
