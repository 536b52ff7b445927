"""Data: the requests, shipments and flights behind every view, filtered, for export."""

import streamlit as st

from reliefhub import confidence
from reliefhub.ui import chrome, tables

chrome.start_page("Data")
st.caption(
    "Every table follows the filters. Downloads hold every filtered row, with ISO 3166 "
    "alpha-3 country codes and ISO 8601 dates; column names are listed in the README. "
    "`confidence` says how far a row goes beyond its sources (stated, derived, inferred); "
    "`as_stated` shows a figure as the source gave it (about, at least)."
)

TABLES = ("requests", "shipments", "flights")
# Only the open tab's table is read and drawn (a tab change reruns the page):
# each table reads a page and counts every match, and reading all three on
# every run put the page over its budget at a million shipments.
tabs = st.tabs([t.capitalize() for t in TABLES], key="data_tab", on_change="rerun")
for tab, table in zip(tabs, TABLES, strict=True):
    if tab.open:
        with tab:
            page = tables.table_page(f"{table}_table", key=f"{table}_table")
            st.markdown(f"**{page.matching:,} {table}**")
            tables.show_table_page(confidence.shown_page(page), export=table)
