"""Sign in: a local account's name and password, or the identity provider (when configured)."""

import streamlit as st

from reliefhub import access, oidc
from reliefhub.ui import chrome

chrome.start_page(None)
st.title("Sign in")
if notice := st.session_state.pop(access.NOTICE_KEY, None):
    st.info(notice)

who = access.identity()
if who is not None:
    st.success(f"Signed in as **{who.name}** ({who.role}).")
    st.button("Sign out", key="sign_in_page_sign_out", on_click=access.sign_out)
    st.stop()

if oidc.configured():
    name, metadata_url = oidc.provider()
    if oidc.signed_in():
        st.warning(
            "Your identity provider signed you in, but gives you no Relief Hub role. Ask an administrator."
        )
        st.button("Sign out of the identity provider", key="oidc_sign_out", on_click=oidc.sign_out)
    elif problem := oidc.provider_problem(metadata_url):
        st.error(f"{problem} Sign-in through it is not possible now; try again later.")
    elif st.button(f"Sign in with {name or 'the identity provider'}", key="oidc_sign_in"):
        oidc.sign_in()
    st.caption("Or with a local account:")

with st.form("sign_in", enter_to_submit=True):
    account = st.text_input("Account", key="sign_in_account", max_chars=64, autocomplete="username")
    password = st.text_input(
        "Password", type="password", key="sign_in_password", max_chars=256, autocomplete="current-password"
    )
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    refused = access.sign_in_local(account, password)
    if refused:
        st.error(refused)
    else:
        # Back to the page that sent here, keeping the link's filters.
        st.switch_page(
            access.page_after_sign_in(), query_params={k: st.query_params.get_all(k) for k in st.query_params}
        )
