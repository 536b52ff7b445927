"""The filters every page shares (country, material, mode, dates): drawn in
the sidebar, kept in the link, and bound to every query a page runs."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from reliefhub import shared_figures
from reliefhub.filters import MODES, Filters
from reliefhub.ui import dataset, url_state

FILTERS_KEY = "reliefhub_filters"


def sidebar_filters(*, show: bool = True) -> Filters:
    """Draw the shared filters and remember them for the page about to run.

    The filters live in the URL (?country=ITA&country=ESP&material=...&dates=
    FROM&dates=TO), so a filtered view is a link. Values from a link are
    checked against the database first; anything unknown is dropped with a
    notice, so nothing from a URL reaches a query but known codes and dates.
    With show=False (the wall screen) the link still sets them, without widgets.
    """
    db = dataset.database()
    countries = db.query("filter_countries")
    materials = db.query("filter_materials")
    first, last = dataset.data_bounds()
    country_names = dict(zip(countries["iso3"], countries["name"], strict=True))
    material_names = dict(zip(materials["material_code"], materials["name"], strict=True))

    url_state.adopt_from_url("country", url_state.known_codes(country_names, "country"), "countries")
    url_state.adopt_from_url("material", url_state.known_codes(material_names, "material"), "materials")
    url_state.adopt_from_url("mode", url_state.known_codes(MODES, "mode"), "modes")
    url_state.adopt_from_url("dates", url_state.date_range_within(first, last), "date range")
    st.session_state.setdefault("dates", (first, last))
    if show:
        _draw_filters(country_names, material_names, first, last)
    filters = _chosen_filters(first, last)
    st.session_state[FILTERS_KEY] = filters
    return filters


def _draw_filters(country_names: dict, material_names: dict, first: date, last: date) -> None:
    """The filters' widgets in the sidebar, their values mirrored in the link.
    Each keeps its value in session state under the key _chosen_filters reads."""
    with st.sidebar:
        st.header("Filters")
        # Codes first, so a typed code is the best match and Enter picks that
        # country alone; no "Select all matches" for Enter to land on.
        pickers = (
            ("Country", "country", country_names, lambda code: f"{code} — {country_names[code]}",
             "Requests from, and movements to, from or for these countries. Type a name or an ISO code."),
            ("Material", "material", material_names, material_names.get, None),
            ("Transport mode", "mode", MODES, MODES.get, "Movements by these modes (requests have no mode)."),
        )  # fmt: skip
        for label, key, names, shown, help_text in pickers:
            chosen = st.multiselect(
                label, list(names), format_func=shown, key=key, select_all=False, help=help_text
            )
            url_state.publish_to_url(key, chosen)
        picked = st.date_input(
            "Dates",
            min_value=url_state.around(first, last)[0],
            max_value=url_state.around(first, last)[1],
            key="dates",
            format="YYYY-MM-DD",
        )
    start, end = [*picked, None, None][:2]
    url_state.publish_to_url(
        "dates", None if (start, end) == (first, last) or not end else [str(start), str(end)]
    )


def _chosen_filters(first: date, last: date) -> Filters:
    """The filters this session holds: the widgets' values, or on the wall the link's.
    A date at the data's own edge filters nothing, so it is left out."""
    # While a range is being picked the widget holds only its first day.
    start, end = [*st.session_state["dates"], None, None][:2]
    return Filters(
        countries=tuple(st.session_state.get("country", ())),
        materials=tuple(st.session_state.get("material", ())),
        modes=tuple(st.session_state.get("mode", ())),
        date_from=None if start == first else start,
        date_to=None if end in (last, None) else end,
    )


def current_filters() -> Filters:
    return st.session_state.get(FILTERS_KEY, Filters())


def filters_summary(filters: Filters) -> str:
    parts = []
    if filters.countries:
        parts.append("countries " + ", ".join(filters.countries))
    if filters.materials:
        parts.append("materials " + ", ".join(filters.materials))
    if filters.modes:
        parts.append("modes " + ", ".join(filters.modes))
    if filters.date_from or filters.date_to:
        parts.append(f"dates {filters.date_from or '…'} to {filters.date_to or '…'}")
    return "Filtered to " + "; ".join(parts) if parts else "All countries, materials and dates"


def shared_params(**extra) -> dict:
    """The shared filters and any extra parameters. A date bound at or beyond
    the data's span filters nothing, so it is left out: without a date the
    queries read the stored groups (views.sql, filtered_movement_groups)."""
    params = current_filters().params() | extra
    first, last = dataset.data_bounds()
    if pd.isna(first):  # no data yet: nothing to compare with
        return params
    if params.get("date_from") is not None and params["date_from"] <= first:
        params["date_from"] = None
    if params.get("date_to") is not None and params["date_to"] >= last:
        params["date_to"] = None
    return params


def query(name: str, **extra) -> pd.DataFrame:
    """Run a query with the shared filters (and any extra parameters) bound."""
    return dataset.database().query(name, shared_params(**extra))


def figure(
    query_name: str, build: Callable[[pd.DataFrame], Any], *, drawn: Hashable = (), **extra
) -> tuple[Any, pd.DataFrame]:
    """`build(rows)` and the rows of a query with the shared filters bound,
    the figure built once per data version, query,
    filters and `drawn` (what else shapes the figure: a measure, a size) and
    shared by every session of this server (shared_figures.py)."""
    db = dataset.database()
    params = shared_params(**extra)
    version = db.data_version  # before the query: the rows are at least this new
    rows = db.query(query_name, params)
    asked = (query_name, shared_figures.freeze(params), drawn)
    return shared_figures.shared().get(db, asked, lambda: build(rows), version=version), rows
