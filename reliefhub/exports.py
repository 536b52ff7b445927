"""CSV exports that open cleanly in Excel and pandas, and that a spreadsheet cannot run.

One function fetches the rows and one writes the bytes, for both the page's
download button and `python -m reliefhub export`, so the two are identical for
the same filters.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pandas as pd

BOM = "\ufeff"

# OWASP CSV injection: a cell starting with one of these may run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

# Each export and the query behind it. The queries page their rows ($limit,
# $offset) and count every match (matching_rows); an export is every row.
EXPORT_QUERIES = {
    "requests": "requests_table",
    "shipments": "shipments_table",
    "flights": "flights_table",
    "open_requests": "open_requests",
}
EXPORTABLE = tuple(EXPORT_QUERIES)
PAGING_COLUMNS = ("matching_rows",)

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
    "confidence": "#meta+confidence",
    "quantity_precision": "#meta+precision+quantity",
    "payload_precision": "#meta+precision+payload",
}


def without_paging(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as an export or a page shows them: without the match count."""
    return frame.drop(columns=[c for c in PAGING_COLUMNS if c in frame.columns])


def export_rows(db, table: str, params: dict) -> pd.DataFrame:
    """Every row of an export for these filters (and as_of, for open_requests),
    in the table's order, with exactly the columns the README lists."""
    return without_paging(db.query(EXPORT_QUERIES[table], params | {"limit": None, "offset": 0}))


def neutralise(text: str) -> str:
    """Prefix a would-be formula with an apostrophe; leave genuine numbers alone."""
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def text_column(values: pd.Series) -> pd.Series:
    """One column as CSV text, for all rows at once: ISO dates, plain numbers,
    empty cells for unknown values, formulas neutralised."""
    missing = values.isna()
    if pd.api.types.is_bool_dtype(values):
        text = values.map({True: "true", False: "false"})
    elif pd.api.types.is_datetime64_any_dtype(values):
        midnight = (values.dt.floor("D") == values) | missing
        text = values.dt.strftime("%Y-%m-%d")
        if not midnight.all():
            text = text.where(midnight, values.map(lambda v: v.isoformat()))
    elif pd.api.types.is_integer_dtype(values):
        text = values.astype("string")
    elif pd.api.types.is_float_dtype(values):
        whole = (values == values.round()).fillna(False)
        text = values.astype(str).where(~whole, values.where(whole, 0).astype("int64").astype(str))
    elif pd.api.types.is_string_dtype(values.dtype) and values.dropna().map(type).eq(str).all():
        text = values.astype("string")
        formula = text.str.startswith(FORMULA_START) & ~text.str.fullmatch(PLAIN_NUMBER.pattern)
        text = text.where(~formula.fillna(False), "'" + text)
    else:  # dates, decimals and other objects, one by one
        text = values.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else neutralise(str(v)))
    return text.astype(object).where(~missing, "")


def to_csv_bytes(frame: pd.DataFrame, *, hxl: bool = False) -> bytes:
    """The whole frame as UTF-8 CSV with a byte-order mark, so Excel reads accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(frame.columns)
    if hxl:
        writer.writerow([HXL_TAGS.get(c, "") for c in frame.columns])
    if len(frame):
        text = pd.DataFrame({i: text_column(frame[c]) for i, c in enumerate(frame.columns)})
        text.to_csv(buffer, header=False, index=False, lineterminator="\r\n")
    return (BOM + buffer.getvalue()).encode("utf-8")


def file_name(table: str, filter_slug: str, when: datetime) -> str:
    """'relief-hub_shipments_ITA_2026-11-30T1402.csv'"""
    return f"relief-hub_{table}_{filter_slug}_{when:%Y-%m-%dT%H%M}.csv"
