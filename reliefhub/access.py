"""Sign-in on the pages: who is at this browser, what each page needs, sign-in and sign-out.

app.py calls `admit(url_path)` before anything is drawn: it works out the
session's identity once per page run (`identity()` then reads it), lets a
wall screen in by its key, and stops a page whose role the session lacks.
Hiding a page is not the check: the write path checks the role again itself.

A local account's sign-in lasts as long as the browser tab's session (a
reload asks again) and ends after `auth.idle_timeout()` without a page run.
An identity provider's sign-in (st.login) lives in Streamlit's own cookie;
see reliefhub/oidc.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from reliefhub import auth, oidc
from reliefhub.auth import Identity
from reliefhub.db import shared_database

SESSION_KEY = "reliefhub_session"
IDENTITY_KEY = "reliefhub_identity"
NOTICE_KEY = "reliefhub_sign_in_notice"
WALL_KEY = "reliefhub_wall_key"
# The last page this session opened before the sign-in page: signing in goes back to it.
RETURN_KEY = "reliefhub_return_to"
SIGN_IN_PATH = "sign_in"
SIGN_IN_PAGE = "app_pages/sign_in.py"
# Pages that need more than reading, by url_path.
PAGE_ROLES = {"record": "staff", "import": "staff", "users": "admin"}
NOT_VALID = "This screen's link is not valid."


@dataclass
class LocalSession:
    identity: Identity
    last_seen: datetime


def client() -> str | None:
    """The browser's address, as the server sees it (a proxy's, behind one)."""
    return st.context.ip_address


def identity() -> Identity | None:
    """Who is signed in at this browser, as `admit` found at the start of this run."""
    return st.session_state.get(IDENTITY_KEY)


def may(role: str) -> bool:
    who = identity()
    return who is not None and who.may(role)


def _local_identity(now: datetime) -> Identity | None:
    session: LocalSession | None = st.session_state.get(SESSION_KEY)
    if session is None:
        return None
    if now - session.last_seen > auth.idle_timeout():
        del st.session_state[SESSION_KEY]
        auth.note_session_end(shared_database(), session.identity, "expired", client())
        hours = auth.idle_timeout().total_seconds() / 3600
        st.session_state[NOTICE_KEY] = f"You were signed out after {hours:g} hours without activity."
        return None
    # Read again every run: a disabled account or a changed role counts at once.
    current = auth.user_identity(shared_database(), session.identity.id)
    if current is None:
        del st.session_state[SESSION_KEY]
        return None
    session.identity, session.last_seen = current, now
    return current


def _resolve() -> Identity | None:
    now = datetime.now(UTC)
    return _local_identity(now) or oidc.signed_in_identity(shared_database())


def admit(url_path: str) -> None:
    """Decide whether this page run may go on, before it draws anything
    (`require_role` then checks the page's role, after the sidebar)."""
    who = _resolve()
    st.session_state[IDENTITY_KEY] = who
    if url_path == SIGN_IN_PATH:
        return
    st.session_state[RETURN_KEY] = url_path
    if url_path == "wall" and _wall_admitted(who):
        return
    if who is None and not auth.public_read():
        st.title("Relief Hub")
        st.info("Sign in to see the dashboard.")
        st.page_link(SIGN_IN_PAGE, label="Sign in", icon="🔑")
        st.stop()


def require_role(url_path: str) -> None:
    """Stop a page whose role the session lacks, saying which role it needs."""
    who = identity()
    needed = PAGE_ROLES.get(url_path)
    if needed and not may(needed):
        st.title("Relief Hub")
        whom = f"You are signed in as {who.name} ({who.role})" if who else "You are not signed in"
        st.warning(f"{whom}: this page needs a {needed} or higher account.")
        if who is None:
            st.page_link(SIGN_IN_PAGE, label="Sign in", icon="🔑")
        st.stop()


def _wall_admitted(who: Identity | None) -> bool:
    """A wall screen opens with a key in use; a link whose key is unknown or
    revoked shows only that it is not valid. Without a key, the screen opens
    as any page does (public reading, or a session)."""
    key = st.query_params.get("key")
    if key is None:
        if who is None and not auth.public_read():
            _not_valid()
        return False
    known = st.session_state.get(WALL_KEY)
    if known is None or known[0] != key:
        label = auth.wall_key_label(shared_database(), key, client())
        if label is None:
            _not_valid()
        st.session_state[WALL_KEY] = (key, label)
    return True


def _not_valid() -> None:
    st.markdown(f"## {NOT_VALID}")
    st.markdown("Ask an administrator for a new wall-screen link.")
    st.stop()


def sign_in_local(name: str, password: str) -> str | None:
    """Sign in with a local account; returns the reason when refused."""
    outcome = auth.sign_in(shared_database(), name.strip(), password, client())
    if outcome.identity is None:
        return outcome.message
    st.session_state[SESSION_KEY] = LocalSession(outcome.identity, datetime.now(UTC))
    st.session_state[IDENTITY_KEY] = outcome.identity
    return None


def page_after_sign_in() -> str:
    """The page to go on to once signed in: the one this session came from
    (the Overview when the sign-in page was its first). Each page file is
    named after its URL path (app.py)."""
    return f"app_pages/{st.session_state.get(RETURN_KEY) or 'overview'}.py"


def sign_out() -> None:
    session: LocalSession | None = st.session_state.pop(SESSION_KEY, None)
    st.session_state[IDENTITY_KEY] = None
    if session is not None:
        auth.note_session_end(shared_database(), session.identity, "sign_out", client())
        st.session_state[NOTICE_KEY] = "You have signed out."
    elif oidc.signed_in():
        oidc.sign_out()


def sidebar_account() -> None:
    """Who is signed in, and the way to sign in or out, at the foot of the sidebar."""
    who = identity()
    with st.sidebar:
        st.divider()
        if who is None:
            st.page_link(SIGN_IN_PAGE, label="Sign in", icon="🔑")
            return
        countries = f" for {', '.join(who.countries)}" if who.countries else ""
        st.caption(f"Signed in as **{who.name}** ({who.role}{countries})")
        st.button("Sign out", key="sign_out", on_click=sign_out)
