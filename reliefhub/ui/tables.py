"""Tables as people read them: paged in SQL, readable headers and numbers,
sources as links, audit changes as before and after, and CSV downloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from reliefhub import access, exports
from reliefhub.ui import dataset, shared_filters

# Rows a table shows at a time. Tables are paged in SQL: a browser holding a
# million rows takes a minute per rerun, and nobody reads past a few hundred.
PAGE_SIZE = 500


def download_csv(table: str, params: dict, count: int, *, key: str) -> None:
    """A download of every row of an export for these parameters, with an
    optional HXL hashtag row.

    The rows are fetched and the file written only when the button is
    pressed: a million rows take seconds, which a page rerun must not pay.
    Downloads need an analyst account or higher.
    """
    if not access.may("analyst"):
        st.caption("Downloading needs an analyst account: sign in to download these rows as CSV.")
        return
    hxl = st.checkbox("Add HXL hashtag row", key=f"{key}_hxl", help="For humanitarian tools that read HXL.")
    st.download_button(
        f"Download {count:,} row{'' if count == 1 else 's'} as CSV",
        data=lambda: exports.to_csv_bytes(exports.export_rows(dataset.database(), table, params), hxl=hxl),
        file_name=exports.file_name(table, shared_filters.current_filters().slug(), datetime.now()),
        mime="text/csv",
        key=key,
    )


@dataclass(frozen=True)
class TablePage:
    """One page of a table query's rows, and where it lies among all the matches."""

    key: str  # the table's widget key; its page number is kept under f"{key}_page"
    params: dict  # the query's parameters, without $limit and $offset
    rows: pd.DataFrame  # this page's rows, without the matching_rows column
    matching: int  # every matching row, on every page
    number: int  # 1 for the first page
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.size))

    @property
    def paged(self) -> bool:
        return self.matching > self.size

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1


def table_page(name: str, *, key: str, **extra) -> TablePage:
    """The page of rows of a table query (with the shared filters and `extra`
    parameters bound) that the person is looking at.

    The query takes $limit and $offset and counts every match in a
    matching_rows column (see queries/shipments_table.sql). The page number
    lives in session state per table key, and goes back to 1 when the filters
    or parameters change, or when the rows run out before it. It is kept
    apart from the page picker's own state too, which Streamlit drops on a
    run that does not draw the picker (another tab open).
    """
    params = shared_filters.shared_params(**extra)
    number_key, seen_key, kept_key = f"{key}_page", f"{key}_page_of", f"{key}_page_kept"
    asked = repr(sorted(params.items()))
    if st.session_state.get(seen_key) != asked:
        st.session_state[seen_key] = asked
        st.session_state[number_key] = 1
    elif number_key not in st.session_state and kept_key in st.session_state:
        st.session_state[number_key] = st.session_state[kept_key]
    number = st.session_state[kept_key] = max(1, int(st.session_state.get(number_key) or 1))
    size = PAGE_SIZE
    frame = dataset.database().query(name, params | {"limit": size, "offset": (number - 1) * size})
    if frame.empty and number > 1:
        number = st.session_state[number_key] = st.session_state[kept_key] = 1
        frame = dataset.database().query(name, params | {"limit": size, "offset": 0})
    matching = int(frame["matching_rows"].iat[0]) if len(frame) else 0
    return TablePage(key, params, exports.without_paging(frame), matching, number, size)


def show_table_page(
    page: TablePage,
    *,
    export: str | None = None,
    first_columns: tuple[str, ...] = (),
    height: int | None = None,
) -> None:
    """A page of a table: which rows of how many and a page picker (when there
    is more than one page), the table, and the download of every row of
    `export` (if given). A table of one page looks as it always did."""
    if page.paged:
        last_row = page.first_row + len(page.rows) - 1
        shown = f"Row {last_row:,}" if last_row == page.first_row else f"Rows {page.first_row:,}–{last_row:,}"
        where, picker = st.columns([4, 1], vertical_alignment="bottom")
        where.markdown(f"{shown} of {page.matching:,}")
        picker.number_input(
            f"Page (of {page.pages:,})", min_value=1, max_value=page.pages, step=1, key=f"{page.key}_page"
        )
        st.caption(
            f"{page.size:,} rows to a page. Sorting by a column header orders the rows shown on this page"
            + ("; the download holds every row." if export else ".")
        )
    show_table(page.rows, key=page.key, first_columns=first_columns, height=height)
    if export:
        download_csv(export, page.params, page.matching, key=f"download_{export}")


def readable(column: str) -> str:
    """'requester_iso3' -> 'Requester ISO3', for table headers."""
    return column.replace("_", " ").capitalize().replace("iso3", "ISO3").replace(" id", " ID")


NOT_STATED = "not stated"


def table_shown(frame: pd.DataFrame, first_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows as a table shows them: `first_columns` first, each row's first
    source as a link, what was delivered of what was asked as a share, and
    "not stated" where a text the source gives is missing (a missing link to
    another record, an ID, stays empty: it means there is none)."""
    shown = frame[[*first_columns, *(c for c in frame.columns if c not in first_columns)]].copy()
    if "source_urls" in shown.columns:
        # Only a web link is offered as one (older databases may hold others).
        first = shown["source_urls"].str.split(" ; ").str[0]
        shown.insert(0, "source", first.where(first.str.match(r"https?://", na=False)))
    if {"requested_quantity", "delivered_quantity"} <= set(shown.columns):
        asked = shown["requested_quantity"].where(shown["requested_quantity"] > 0)
        shown.insert(
            shown.columns.get_loc("delivered_quantity") + 1,
            "delivered_share",
            (shown["delivered_quantity"] / asked).clip(upper=1),
        )
    for column in shown.columns:
        if pd.api.types.is_string_dtype(shown[column]) and not column.endswith("_id"):
            shown[column] = shown[column].fillna(NOT_STATED)
    return shown


def changed_fields(before_json: str | None, after_json: str | None) -> tuple[str, str]:
    """An audit row's before and after, the changed fields only:
    ('status: open', 'status: fulfilled'); a new record shows all it holds."""
    before = json.loads(before_json) if isinstance(before_json, str) else {}
    after = json.loads(after_json) if isinstance(after_json, str) else {}
    keys = [k for k in after if before.get(k) != after.get(k)] if before else list(after)

    def listed(row: dict) -> str:
        return "; ".join(f"{k}: {NOT_STATED if row.get(k) is None else row[k]}" for k in keys)

    return (listed(before) if before else "new record", listed(after))


def audit_shown(changes: pd.DataFrame) -> pd.DataFrame:
    """The audit rows as the page shows them: before and after of the changed fields."""
    pairs = [changed_fields(b, a) for b, a in zip(changes["before_row"], changes["after_row"], strict=True)]
    shown = changes.drop(columns=["before_row", "after_row", "matching_changes"], errors="ignore")
    shown["before"] = [before for before, _ in pairs]
    shown["after"] = [after for _, after in pairs]
    return shown


def column_config(column: str, values: pd.Series):
    """How a table shows a column: readable header, IDs pinned, numbers with
    thousands separators, dates as ISO dates, shares as progress bars."""
    label = readable(column)
    if column == "source":
        return st.column_config.LinkColumn("Source", display_text="open source", pinned=True)
    if column == "source_urls":
        return st.column_config.TextColumn("All sources")
    if column == "delivered_share":
        return st.column_config.ProgressColumn(
            "Delivered of requested",
            format="percent",
            min_value=0,
            max_value=1,
            help="Empty: quantity not stated",
        )
    if column.endswith("_id"):
        return st.column_config.TextColumn(label, pinned=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        return st.column_config.DateColumn(label, format="YYYY-MM-DD")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return st.column_config.NumberColumn(
            label, format="localized", help="Empty: not stated by the source"
        )
    return st.column_config.Column(label)


def show_table(
    frame: pd.DataFrame, *, key: str, first_columns: tuple[str, ...] = (), height: int | None = None
) -> None:
    """A sortable table with readable headers and each row's first source as a link."""
    shown = table_shown(frame, first_columns)
    config = {c: column_config(c, shown[c]) for c in shown.columns}
    st.dataframe(shown, hide_index=True, column_config=config, key=key, height=height or "auto")
