"""Relief Hub: the entry point. Sets up the pages, the shared filters and the chrome.

Each page file in app_pages/ is named like its URL path and starts with
chrome.start_page(). The folder is not named pages/: Streamlit would take a
folder of that name for its legacy multipage mode, which a deep link as a fresh
server's first request switches on, and then run a page without this file.
"""

from contextlib import nullcontext

import streamlit as st

from reliefhub import access, oidc, page_runs
from reliefhub.ui import chrome, shared_filters

st.set_page_config(page_title="Relief Hub", layout="wide")

navigation = st.navigation(
    [
        st.Page("app_pages/overview.py", title="Overview", default=True),
        st.Page("app_pages/movements.py", title="Movements", url_path="movements"),
        st.Page("app_pages/requests.py", title="Open requests", url_path="requests"),
        st.Page("app_pages/data.py", title="Data", url_path="data"),
        st.Page("app_pages/record.py", title="Record", url_path="record"),
        st.Page("app_pages/import.py", title="Import", url_path="import"),
        st.Page("app_pages/audit.py", title="Audit", url_path="audit"),
        st.Page("app_pages/wall.py", title="Wall screen", url_path="wall"),
        st.Page("app_pages/users.py", title="Users", url_path="users"),
        st.Page(access.SIGN_IN_PAGE, title="Sign in", url_path=access.SIGN_IN_PATH),
    ]
)
# Pages that read take turns for the cores (reliefhub/page_runs.py); a page that
# writes neither waits behind readers nor holds them up through a long import.
turn = nullcontext() if navigation.url_path in access.PAGE_ROLES else page_runs.slot()
with turn:
    try:
        # Sign-in: who is here, and whether this page is theirs to see (reliefhub/access.py).
        oidc.stop_if_misconfigured()
        access.admit(navigation.url_path)
        # The wall screen takes its filters from its link alone: nobody is at the keyboard.
        shared_filters.sidebar_filters(show=navigation.url_path != "wall")
        if navigation.url_path != "wall":
            access.sidebar_account()
        access.require_role(navigation.url_path)
        navigation.run()
    except Exception as error:  # a page shows a fault in words; its traceback goes to the log
        chrome.show_fault(error)
