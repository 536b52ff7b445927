"""Relief Hub: the entry point. Sets up the pages, the shared filters and the chrome.

Each page file is named like its URL path and starts with chrome.start_page(),
which keeps deep links working on a freshly started server (see there).
"""

import streamlit as st

from reliefhub import access, oidc
from reliefhub.ui import chrome, shared_filters

st.set_page_config(page_title="Relief Hub", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", default=True),
        st.Page("pages/movements.py", title="Movements", url_path="movements"),
        st.Page("pages/requests.py", title="Open requests", url_path="requests"),
        st.Page("pages/data.py", title="Data", url_path="data"),
        st.Page("pages/record.py", title="Record", url_path="record"),
        st.Page("pages/import.py", title="Import", url_path="import"),
        st.Page("pages/audit.py", title="Audit", url_path="audit"),
        st.Page("pages/wall.py", title="Wall screen", url_path="wall"),
        st.Page("pages/users.py", title="Users", url_path="users"),
        st.Page(access.SIGN_IN_PAGE, title="Sign in", url_path=access.SIGN_IN_PATH),
    ]
)
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
