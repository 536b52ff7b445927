"""Widget values that live in the page's link, so a view can be shared: read
once from the URL (checked, with a notice for what is dropped) and mirrored back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import streamlit as st

from reliefhub.filters import check_date_range, known_in_any_case


def around(first: date, last: date) -> tuple[date, date]:
    """The years either side of the data that the date pickers offer."""
    return date(first.year - 1, 1, 1), date(last.year + 1, 12, 31)


def adopt_from_url(key: str, parse: Callable[[list[str]], object], what: str) -> None:
    """On a session's first run, set a widget's value from the link.

    `parse` turns the raw URL values into the widget's value, or raises
    ValueError with the reason, which the person who opened the link sees.
    Later runs keep whatever the person chose.
    """
    if key in st.session_state or key not in st.query_params:
        return
    try:
        st.session_state[key] = parse(st.query_params.get_all(key))
    except ValueError as reason:
        st.warning(f"Ignored the {what} from the link: {reason}", icon="⚠️")


def publish_to_url(key: str, values: list[str] | None) -> None:
    """Mirror a widget's value in the URL (None: leave it out), so the view is a link."""
    if values:
        if st.query_params.get_all(key) != values:
            st.query_params[key] = values
    elif key in st.query_params:
        del st.query_params[key]


def known_codes(known: dict[str, str], what: str) -> Callable[[list[str]], list[str]]:
    def parse(raw: list[str]) -> list[str]:
        codes, notices = known_in_any_case(raw, set(known), what)
        for notice in notices:
            st.warning(notice, icon="⚠️")
        return codes

    return parse


def date_range_within(first: date, last: date) -> Callable[[list[str]], tuple[date, date]]:
    low, high = around(first, last)

    def parse(raw: list[str]) -> tuple[date, date]:
        picked, notices = check_date_range(raw)
        if notices:
            raise ValueError(notices[0].removeprefix("Ignored the date range from the link: "))
        if not (low <= picked[0] and picked[1] <= high):
            raise ValueError(f"dates must lie between {low} and {high}.")
        return picked

    return parse


def one_of(options) -> Callable[[list[str]], str]:
    def parse(raw: list[str]) -> str:
        if len(raw) != 1 or raw[0] not in options:
            raise ValueError(f"expected one of {', '.join(options)}.")
        return raw[0]

    return parse


def day_within(first: date, last: date) -> Callable[[list[str]], date]:
    def parse(raw: list[str]) -> date:
        try:
            day = date.fromisoformat(raw[0]) if len(raw) == 1 else None
        except ValueError:
            day = None
        if day is None or not first <= day <= last:
            raise ValueError(f"expected one day (YYYY-MM-DD) between {first} and {last}.")
        return day

    return parse
