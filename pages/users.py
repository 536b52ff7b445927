"""Users (admins only): accounts and roles, wall-screen keys, and the record of sign-ins.

Every action goes through reliefhub.auth, which checks again that the one
asking is an admin and records the change with their name.
"""

import streamlit as st

from reliefhub import access, auth
from reliefhub.ui import chrome, dataset

chrome.start_page(None)
st.title("Users")
db = dataset.database()
me = access.identity()


def attempt(action, done: str) -> None:
    """Run an account or key change; say what happened, or why not."""
    try:
        action()
    except (auth.AuthError, PermissionError) as error:
        st.error(f"Refused: {error}")
        return
    st.success(done)


def countries_picker(key: str) -> list[str]:
    return st.multiselect(
        "Countries (staff only; none: every country)",
        auth.read(db, "known_countries")["iso3"].tolist(),
        key=key,
    )


accounts, keys, events = st.tabs(["Accounts", "Wall keys", "Sign-ins"])

with accounts:
    with st.form("add_user", clear_on_submit=True):
        st.markdown("**New local account**")
        name = st.text_input("Account name", key="new_user_name")
        role = st.selectbox("Role", auth.ROLES, key="new_user_role")
        countries = countries_picker("new_user_countries")
        password = st.text_input(
            "Password", type="password", key="new_user_password", autocomplete="new-password"
        )
        if st.form_submit_button("Add account"):
            attempt(
                lambda: auth.add_user(db, name, role, password, by=me, countries=countries), f"Added {name}."
            )
    listed = auth.read(db, "users_list")
    names = listed["name"].tolist()
    with st.form("change_user"):
        st.markdown("**Change an account**")
        picked = st.selectbox("Account", names, index=None, key="change_user_name")
        new_role = st.selectbox("Role", auth.ROLES, key="change_user_role")
        new_countries = countries_picker("change_user_countries")
        new_password = st.text_input(
            "New password (leave empty to keep)", type="password", key="change_user_password"
        )
        role_col, disable_col, enable_col, password_col = st.columns(4)
        if role_col.form_submit_button("Set role") and picked:
            attempt(lambda: auth.set_role(db, picked, new_role, by=me, countries=new_countries), "Role set.")
        if disable_col.form_submit_button("Disable") and picked:
            attempt(lambda: auth.set_disabled(db, picked, True, by=me), f"{picked} is disabled.")
        if enable_col.form_submit_button("Enable") and picked:
            attempt(lambda: auth.set_disabled(db, picked, False, by=me), f"{picked} is enabled.")
        if password_col.form_submit_button("Reset password") and picked:
            attempt(lambda: auth.reset_password(db, picked, new_password, by=me), "Password set.")
    st.dataframe(auth.read(db, "users_list"), hide_index=True, key="users_table")

with keys:
    with st.form("add_wall_key", clear_on_submit=True):
        label = st.text_input("Screen", placeholder="Ops room 1", key="wall_key_label")
        if st.form_submit_button("Make a wall key"):
            try:
                key_id, key = auth.add_wall_key(db, label, by=me)
                st.success(f"Key {key_id}. Open this link on the screen; it is shown only now:")
                here = (st.context.url or "").split("?")[0].rsplit("/", 1)[0]  # unknown under AppTest
                st.code(f"{here}/wall?key={key}", language=None)
            except (auth.AuthError, PermissionError) as error:
                st.error(f"Refused: {error}")
    wall_keys = auth.read(db, "wall_keys_list")
    in_use = wall_keys[wall_keys["revoked_at"].isna()]["key_id"].tolist()
    revoke = st.selectbox("Key to revoke", in_use, index=None, key="wall_key_revoke")
    if st.button("Revoke", disabled=revoke is None, key="wall_key_revoke_go"):
        attempt(lambda: auth.revoke_wall_key(db, revoke, by=me), f"Revoked {revoke}.")
        wall_keys = auth.read(db, "wall_keys_list")
    st.dataframe(wall_keys, hide_index=True, key="wall_keys_table")

with events:
    st.caption("Sign-ins, failed and throttled tries, sign-outs, expiries, and changes to accounts and keys.")
    st.dataframe(
        auth.read(db, "sign_in_events", {"limit": 1000}), hide_index=True, key="sign_in_events_table"
    )
