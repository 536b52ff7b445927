"""The database as pages see it: brought up to date before a figure is read,
and the span of dates it holds."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from reliefhub.db import Database, shared_database

# The years a page's date widgets show; far-off stored dates are drawn at these ends.
SHOWN_YEARS = (1700, 2250)


def database() -> Database:
    """The shared database, its figures brought up to date first when they
    need it (a change made outside the hub, a new definition): the page says
    so while that runs, and a page opened meanwhile waits with it."""
    db = shared_database()
    if db.stale:
        with st.status("Updating figures …") as status:

            def say(done: float, text: str) -> None:
                status.update(label=f"Updating figures: {text} ({done:.0%})")

            db.refresh(progress=say)
            status.update(label="Figures updated", state="complete")
    return db


def data_bounds() -> tuple[date, date]:
    bounds = database().query("data_bounds")
    return python_date(bounds.at[0, "first_date"]), python_date(bounds.at[0, "last_date"])


def python_date(stamp: pd.Timestamp) -> date:
    """A stored date as a date the pages' widgets can hold.

    A database from before the date rules may hold year 1 or 10000, beyond
    Streamlit's date widgets (1684-07-29 to 2255-06-04) and even Python's
    dates. A bound moved inwards still filters nothing (see shared_params).
    """
    if pd.isna(stamp):
        return stamp
    if stamp.year < SHOWN_YEARS[0]:
        return date(SHOWN_YEARS[0], 1, 1)
    if stamp.year > SHOWN_YEARS[1]:
        return date(SHOWN_YEARS[1], 12, 31)
    return stamp.date()
