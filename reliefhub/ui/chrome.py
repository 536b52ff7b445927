"""What every page does around its content: the header, the synthetic-data
notice, and faults said in words."""

from __future__ import annotations

import streamlit as st

from reliefhub import access, backups, faults, imports
from reliefhub.db import database_path
from reliefhub.ui import dataset, shared_filters

# How often a page showing a database fault checks whether it has cleared.
RETRY_SECONDS = 10


def start_page(title: str | None) -> None:
    """First call of every page: faults, the synthetic-data notice, then the header (if titled)."""
    remove_stale_upload_copies()
    if dataset.database().fault:
        st.error(dataset.database().fault, icon="⚠️")
    if notice := store_notice():
        st.warning(notice, icon="⚠️")
    synthetic_notice()
    if title is None:
        return
    first, last = dataset.data_bounds()
    st.title(title)
    summary = shared_filters.filters_summary(shared_filters.current_filters())
    st.caption(f"{summary} · data from {first:%d %b %Y} to {last:%d %b %Y}")


def start_writing_page(title: str, caption: str):
    """start_page for a page that writes, with its caption: returns the database, who is signed in,
    and a slot at the top for refusing that person (their role changed since the page was drawn)."""
    start_page(title)
    st.caption(caption)
    return dataset.database(), access.identity(), st.empty()


def store_notice() -> str | None:
    """ "store unreachable: figures as of HH:MM" while a shared store is away (store/replica.py)."""
    store = dataset.database().store
    return None if store is None else store.notice()


def latest_backup() -> str | None:
    found = backups.latest(database_path())
    return None if found is None else str(found)


def fault_message(error: BaseException) -> str:
    """A fault in words for the screen; its traceback goes to the server log."""
    faults.log.error("%s", type(error).__name__, exc_info=error)
    return faults.plain_message(error, latest_backup()) or faults.UNEXPECTED


def show_fault(error: Exception) -> None:
    """Say what went wrong instead of drawing the page, and, when it is the
    database, come back by itself once the database answers again."""
    st.error(fault_message(error), icon="⚠️")
    if faults.plain_message(error) is not None:
        _rerun_when_the_database_answers()


@st.fragment(run_every=RETRY_SECONDS)
def _rerun_when_the_database_answers() -> None:
    try:
        dataset.database().query("data_bounds")
    except Exception:  # still away: try again at the next tick
        return
    st.rerun(scope="app")


@st.cache_resource(show_spinner=False)
def remove_stale_upload_copies() -> None:
    """Once per server: copies of uploads left by a server that crashed mid-import."""
    imports.remove_stale_copies()


def synthetic_notice() -> None:
    """Issue 7: a database made by `python -m reliefhub generate` says so on every page."""
    info = dataset.database().query("dataset_info")
    if len(info) and bool(info.at[0, "synthetic"]):
        st.error(
            f"SYNTHETIC DATA: generated for load tests (seed {info.at[0, 'seed']}, "
            f"{int(info.at[0, 'scale']):,} shipments). Nothing on this page is a real event.",
            icon="⚠️",
        )
