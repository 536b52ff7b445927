"""CSV exports that open cleanly in Excel and pandas, and that a spreadsheet cannot run.

One function writes the bytes for both the page's download button and
`python -m reliefhub export`, so the two are identical for the same filters.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import datetime

import pandas as pd

BOM = "\ufeff"

# OWASP CSV injection: a cell starting with one of these may run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

EXPORTABLE = ("requests", "shipments", "flights", "open_requests")

# Humanitarian Exchange Language hashtags, for tools that read HXL.
HXL_TAGS = {
    "request_id": "#meta+id+request",
    "shipment_id": "#meta+id+shipment",
    "flight_id": "#meta+id+flight",
    "requester_iso3": "#country+code+requester",
    "requester_country": "#country+name+requester",
    "recipient_iso3": "#country+code+recipient",
    "recipient_country": "#country+name+recipient",
    "provider": "#org+name+provider",
    "provider_iso3": "#country+code+provider",
    "channel": "#channel",
    "addressed_to": "#org+name+addressed",
    "material_code": "#item+code",
    "material_name": "#item+name",
    "material_category": "#item+type",
    "quantity": "#indicator+num+quantity",
    "requested_quantity": "#indicator+num+requested",
    "delivered_quantity": "#indicator+num+delivered",
    "missing_quantity": "#indicator+num+missing",
    "unit": "#indicator+unit",
    "origin_place_id": "#loc+code+origin",
    "origin_name": "#loc+name+origin",
    "origin_iso3": "#country+code+origin",
    "destination_place_id": "#loc+code+dest",
    "destination_name": "#loc+name+dest",
    "destination_iso3": "#country+code+dest",
    "mode": "#delivery+mode",
    "aircraft_type": "#delivery+aircraft",
    "operator": "#org+name+operator",
    "operator_kind": "#org+type+operator",
    "requested_on": "#date+requested",
    "dispatched_on": "#date+start",
    "delivered_on": "#date+end",
    "flight_date": "#date+flight",
    "closed_on": "#date+closed",
    "date_precision": "#meta+date_precision",
    "days_waiting": "#indicator+num+days_waiting",
    "status": "#status",
    "status_as_of": "#status+as_of",
    "payload_tonnes": "#indicator+num+payload_tonnes",
    "patients": "#affected+num+patients",
    "description": "#description",
    "source_urls": "#meta+source",
    "source_note": "#meta+source_note",
}


def neutralise(text: str) -> str:
    """Prefix a would-be formula with an apostrophe; leave genuine numbers alone."""
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def cell(value) -> str:
    """One value as CSV text: ISO dates, plain numbers, empty for unknown."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.strftime("%Y-%m-%d")
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def to_csv_bytes(frame: pd.DataFrame, *, hxl: bool = False) -> bytes:
    """The whole frame as UTF-8 CSV with a byte-order mark, so Excel reads accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(frame.columns)
    if hxl:
        writer.writerow([HXL_TAGS.get(c, "") for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([cell(v) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def file_name(table: str, filter_slug: str, when: datetime) -> str:
    """'relief-hub_shipments_ITA_2026-11-30T1402.csv'"""
    return f"relief-hub_{table}_{filter_slug}_{when:%Y-%m-%dT%H%M}.csv"
