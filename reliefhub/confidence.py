"""How far a row goes beyond its sources, and what a closed request left unmet, in words.

A figure reads as its source gave it ("about 73 t", "at least 100,000
pieces"), a derived or inferred row says so, and a request that was closed or
withdrawn says how much of it had arrived, so a closed file never reads as a
met need.
"""

from __future__ import annotations

import html
import itertools
import math
from dataclasses import replace
from datetime import date

import pandas as pd

PRECISION_WORDS = {"approximate": "about ", "at_least": "at least "}
SHORT_UNITS = {"tonnes": "t"}
# The columns each table query names its figure, precision and unit by.
FIGURE_COLUMNS = (
    ("quantity", "quantity_precision", "unit"),
    ("payload_tonnes", "payload_precision", None),
)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def number(value: float) -> str:
    """1500000 -> '1,500,000'; 1.2 -> '1.2': no invented decimals."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def stated_figure(value, precision, unit: str | None) -> str:
    """A figure as its source stated it: 'about 73 t', 'at least 100,000 pieces', 'not stated'."""
    if _missing(value):
        return "not stated"
    words = PRECISION_WORDS.get(precision, "") if isinstance(precision, str) else ""
    return f"{words}{number(value)} {SHORT_UNITS.get(unit, unit or '')}".rstrip()


def with_stated_figures(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with an `as_stated` column right after their figure, for reading on
    screen (downloads keep the plain number and its precision code)."""
    for value, precision, unit in FIGURE_COLUMNS:
        if value in frame.columns and precision in frame.columns:
            units = frame[unit] if unit else pd.Series("tonnes", index=frame.index)
            stated = [
                stated_figure(v, p, u) for v, p, u in zip(frame[value], frame[precision], units, strict=True)
            ]
            shown = frame.copy()
            shown.insert(shown.columns.get_loc(value) + 1, "as_stated", stated)
            return shown
    return frame


def shown_page(page):
    """A ui.tables.TablePage with its rows as they are read on screen."""
    return replace(page, rows=with_stated_figures(page.rows))


def _share(delivered: float, requested: float) -> str:
    """Delivered as a whole percentage of requested, rounded down so it never says more."""
    percent = math.floor(100 * delivered / requested)
    return "under 1 %" if percent == 0 and delivered > 0 else f"{percent} %"


def closed_when(status: str, closed_on: date | None, *, year: bool = True) -> str:
    """'withdrawn 22 Apr 2020'; 'closed on a date not stated' when the record gives none."""
    if closed_on is None or pd.isna(closed_on):
        return f"{status} on a date not stated"
    return f"{status} {closed_on.day} {closed_on:%b}" + (f" {closed_on.year}" if year else "")


def closure_summary(
    status: str, closed_on: date | None, requested, delivered: float, unstated_deliveries: int, unit: str
) -> str:
    """'withdrawn 22 Apr 2020 with 10 % delivered (50 of 500 units)'. Deliveries of
    unstated quantity make the share a lower bound, and say so."""
    when = closed_when(status, closed_on)
    unit = SHORT_UNITS.get(unit, unit)
    plural = "y" if unstated_deliveries == 1 else "ies"
    deliveries = f"{unstated_deliveries} deliver{plural} of unstated quantity"
    unstated = f", plus {deliveries}" if unstated_deliveries else ""
    if _missing(requested) or requested == 0:
        got = f"{number(delivered)} {unit} delivered" if delivered else "no stated quantity delivered"
        return f"{when}; quantity asked for not stated; {got}{unstated}"
    of = f"{number(delivered)} of {number(requested)} {unit}"
    if not delivered and not unstated_deliveries:
        return f"{when} with nothing recorded as delivered (0 of {number(requested)} {unit})"
    if not delivered:
        return f"{when}; how much of {number(requested)} {unit} arrived is not known ({deliveries})"
    least = "at least " if unstated_deliveries else ""
    return f"{when} with {least}{_share(delivered, requested)} delivered ({of}{unstated})"


CLOSED_SHOWN = 50  # closed requests the Open requests page lists (queries/closed_requests.sql's $limit)


def closure_summaries(closed: pd.DataFrame) -> list[str]:
    """closure_summary for each row of queries/closed_requests.sql."""
    return [
        closure_summary(
            r.status_as_of,
            None if pd.isna(r.closed_on) else pd.Timestamp(r.closed_on).date(),
            r.requested_quantity,
            r.delivered_quantity,
            int(r.unstated_deliveries),
            r.unit,
        )
        for r in closed.itertuples()
    ]


def closed_table(closed: pd.DataFrame) -> pd.DataFrame:
    """queries/closed_requests.sql as the Open requests page lists it."""
    return pd.DataFrame(
        {
            "requester_country": closed["requester_country"],
            "material_name": closed["material_name"],
            "outcome": closure_summaries(closed),
            "request_id": closed["request_id"],
        }
    )


def closures_html(closed: pd.DataFrame | None, limit: int = 3) -> str:
    """For the wall: who closed requests before all of them arrived, and how many
    of those had nothing recorded as delivered. Empty when there are none."""
    if closed is None or closed.empty:
        return ""
    rows = []
    groups = closed.groupby(["requester_country", "status_as_of", "closed_on"], sort=False, dropna=False)
    # Only the first few groups are cut out of the frame: at a million shipments
    # there are thousands, and cutting them all made each wall screen's run take seconds.
    for (country, status, closed_on), group in itertools.islice(groups, limit):
        nothing = int(((group["delivered_quantity"] == 0) & (group["unstated_deliveries"] == 0)).sum())
        when = closed_when(status, None if pd.isna(closed_on) else pd.Timestamp(closed_on), year=False)
        line = f"{len(group)} {when} with needs unmet" + (
            f", {nothing} with nothing recorded as delivered" if nothing else ""
        )
        rows.append(
            f"<div class='row'><span>{html.escape(country)}<br>"
            f"<span class='sub'>{html.escape(line)}</span></span></div>"
        )
    return "<div class='wall-side'><h3>Closed before all of it arrived</h3>" + "".join(rows) + "</div>"
