"""Audit: every change made in the dashboard or by an import, who made it, when, before and after."""

from datetime import datetime

import streamlit as st

from reliefhub import access, exports, operations, writes
from reliefhub.ui import chrome, dataset, tables

chrome.start_page("Audit")
st.caption(
    "Every save and every import, newest first, with the account that made it, the time (UTC), and "
    "each record before and after. The country, material and date filters do not apply here."
)
db = dataset.database()
SHOWN = 1000

if not writes.audit_available(db):
    st.info("No changes have been recorded in this database yet.")
    st.stop()

left, middle, right = st.columns(3)
chosen_tables = left.multiselect("Tables", list(operations.RECORD_TABLES), key="audit_tables")
people = db.query("audit_people", {"tables": chosen_tables})["changed_by"].tolist()
changed_by = middle.selectbox("Changed by", people, index=None, placeholder="Anyone", key="audit_who")
record_id = right.text_input("Record ID", key="audit_record").strip() or None
params = {"tables": chosen_tables, "changed_by": changed_by, "record_id": record_id}

st.subheader("Saves and imports")
change_sets = db.query("audit_change_sets", params | {"limit": 200})
WHEN = st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss")
picked = st.dataframe(
    change_sets,
    hide_index=True,
    key="audit_change_sets",
    on_select="rerun",
    selection_mode="single-row",
    column_config={c: tables.readable(c) for c in change_sets.columns}
    | {"change_set": None, "changed_at": WHEN},
)
rows = picked.selection.rows if picked else []
change_set = change_sets.iloc[rows[0]]["change_set"] if rows else None
st.caption("Select a row to list only its changes.")

st.subheader("Changes")
changes = db.query("audit_log", params | {"change_set": change_set, "limit": SHOWN})
matching = int(changes["matching_changes"].iat[0]) if len(changes) else 0
st.markdown(
    f"**{matching:,} change{'' if matching == 1 else 's'}**"
    + (f", the latest {SHOWN:,} shown; the download holds them all." if matching > SHOWN else "")
)
shown = tables.audit_shown(changes)
st.dataframe(
    shown,
    hide_index=True,
    key="audit_changes",
    column_config={c: tables.readable(c) for c in shown.columns}
    | {"change_id": st.column_config.NumberColumn("Change ID", pinned=True), "changed_at": WHEN},
)


def everything() -> bytes:
    """Every matching change, built only when the button is pressed."""
    frame = db.query("audit_log", params | {"change_set": change_set, "limit": None})
    return exports.to_csv_bytes(frame.drop(columns=["matching_changes"]))


if not access.may("analyst"):
    st.caption("Downloading needs an analyst account: sign in to download these changes as CSV.")
    st.stop()
st.download_button(
    f"Download {matching:,} change{'' if matching == 1 else 's'} as CSV",
    data=everything,
    file_name=exports.file_name("audit", "-".join(chosen_tables) or "all", datetime.now()),
    mime="text/csv",
    on_click="ignore",
    key="audit_download",
)
