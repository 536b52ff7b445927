"""Streamlit glue shared by every page: the database, the shared filters, the
page header, the movements map and CSV downloads. Pages stay thin: they read
filters, call queries, and draw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from reliefhub import access, backups, exports, faults, figures, flowmap, imports
from reliefhub.db import Database, database_path, shared_database
from reliefhub.filters import MODES, Filters, check_date_range, known_in_any_case

BASEMAP_URL = "/app/static/basemap/countries-50m.geojson"
# The years a page's date widgets show; far-off stored dates are drawn at these ends.
SHOWN_YEARS = (1700, 2250)
# How often a page showing a database fault checks whether it has cleared.
RETRY_SECONDS = 10
FILTERS_KEY = "reliefhub_filters"
# Rows a table shows at a time. Tables are paged in SQL: a browser holding a
# million rows takes a minute per rerun, and nobody reads past a few hundred.
PAGE_SIZE = 500


def escape_markdown(text: str) -> str:
    """Stored or uploaded text, shown as itself where Streamlit reads Markdown.

    The marks that open Markdown's links, images, HTML, emphasis, code and
    headings, and Streamlit's :colour[] and $maths$, are backslash-escaped:
    an image in a place name would otherwise make the browser fetch it."""
    return re.sub(r"([\\`*_{}\[\]<>!~|$#])", r"\\\1", str(text))


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame for st.table, which reads its text cells as Markdown: every text
    cell (and the index) escaped, so stored text shows as itself."""

    def escaped(values):
        return values.map(lambda v: v if pd.isna(v) else escape_markdown(v))

    shown = frame.apply(lambda c: escaped(c) if c.dtype == object or pd.api.types.is_string_dtype(c) else c)
    if frame.index.dtype == object or pd.api.types.is_string_dtype(frame.index):
        shown.index = pd.Index(escaped(frame.index.to_series()), name=frame.index.name)
    return shown


def code_span(text: str) -> str:
    """Text as Markdown code, shown literally: fenced by more backticks than it holds in a row."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"{fence}{text}{fence}"


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


def shared_params(**extra) -> dict:
    """The shared filters and any extra parameters. A date bound at or beyond
    the data's span filters nothing, so it is left out: without a date the
    queries read the stored groups (views.sql, filtered_movement_groups)."""
    params = current_filters().params() | extra
    first, last = data_bounds()
    if pd.isna(first):  # no data yet: nothing to compare with
        return params
    if params.get("date_from") is not None and params["date_from"] <= first:
        params["date_from"] = None
    if params.get("date_to") is not None and params["date_to"] >= last:
        params["date_to"] = None
    return params


def query(name: str, **extra) -> pd.DataFrame:
    """Run a query with the shared filters (and any extra parameters) bound."""
    return database().query(name, shared_params(**extra))


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


def sidebar_filters(*, show: bool = True) -> Filters:
    """Draw the shared filters and remember them for the page about to run.

    The filters live in the URL (?country=ITA&country=ESP&material=...&dates=
    FROM&dates=TO), so a filtered view is a link. Values from a link are
    checked against the database first; anything unknown is dropped with a
    notice, so nothing from a URL reaches a query but known codes and dates.
    With show=False (the wall screen) the link still sets them, without widgets.
    """
    db = database()
    countries = db.query("filter_countries")
    materials = db.query("filter_materials")
    first, last = data_bounds()
    country_names = dict(zip(countries["iso3"], countries["name"], strict=True))
    material_names = dict(zip(materials["material_code"], materials["name"], strict=True))

    adopt_from_url("country", known_codes(country_names, "country"), "countries")
    adopt_from_url("material", known_codes(material_names, "material"), "materials")
    adopt_from_url("mode", known_codes(MODES, "mode"), "modes")
    adopt_from_url("dates", date_range_within(first, last), "date range")
    st.session_state.setdefault("dates", (first, last))
    if not show:
        start, end = st.session_state["dates"]
        filters = Filters(
            countries=tuple(st.session_state.get("country", ())),
            materials=tuple(st.session_state.get("material", ())),
            modes=tuple(st.session_state.get("mode", ())),
            date_from=None if start == first else start,
            date_to=None if end == last else end,
        )
        st.session_state[FILTERS_KEY] = filters
        return filters

    with st.sidebar:
        st.header("Filters")
        # Codes first, so a typed code is the best match and Enter picks that
        # country alone; no "Select all matches" for Enter to land on.
        chosen_countries = st.multiselect(
            "Country",
            list(country_names),
            format_func=lambda code: f"{code} — {country_names[code]}",
            key="country",
            select_all=False,
            help="Requests from, and movements to, from or for these countries. Type a name or an ISO code.",
        )
        chosen_materials = st.multiselect(
            "Material",
            list(material_names),
            format_func=material_names.get,
            key="material",
            select_all=False,
        )
        chosen_modes = st.multiselect(
            "Transport mode",
            list(MODES),
            format_func=MODES.get,
            key="mode",
            select_all=False,
            help="Movements by these modes (requests have no mode).",
        )
        picked = st.date_input(
            "Dates",
            min_value=around(first, last)[0],
            max_value=around(first, last)[1],
            key="dates",
            format="YYYY-MM-DD",
        )
    # While a range is being picked the widget holds only its first day.
    start, end = [*picked, None, None][:2]
    publish_to_url("country", chosen_countries)
    publish_to_url("material", chosen_materials)
    publish_to_url("mode", chosen_modes)
    publish_to_url("dates", None if (start, end) == (first, last) or not end else [str(start), str(end)])
    filters = Filters(
        countries=tuple(chosen_countries),
        materials=tuple(chosen_materials),
        modes=tuple(chosen_modes),
        date_from=None if start == first else start,
        date_to=None if end in (last, None) else end,
    )
    st.session_state[FILTERS_KEY] = filters
    return filters


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


def start_page(title: str | None) -> None:
    """First call of every page: make deep links safe, then draw the header (if titled).

    Because the page files live in a folder named pages/, a fresh server whose
    first request is a deep link (/wall after a reboot) runs in Streamlit's
    legacy pages-folder mode: it runs the page file alone, without app.py and
    its navigation, and stays in that mode. Leaving the mode and rerunning
    sends this and every later request through app.py.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    remove_stale_upload_copies()
    if database().fault:
        st.error(database().fault, icon="⚠️")
    if notice := store_notice():
        st.warning(notice, icon="⚠️")
    synthetic_notice()
    if title is None:
        return
    first, last = data_bounds()
    st.title(title)
    st.caption(f"{filters_summary(current_filters())} · data from {first:%d %b %Y} to {last:%d %b %Y}")


def store_notice() -> str | None:
    """ "store unreachable: figures as of HH:MM" while a shared store is away (store/replica.py)."""
    store = database().store
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
        database().query("data_bounds")
    except Exception:  # still away: try again at the next tick
        return
    st.rerun(scope="app")


@st.cache_resource(show_spinner=False)
def remove_stale_upload_copies() -> None:
    """Once per server: copies of uploads left by a server that crashed mid-import."""
    imports.remove_stale_copies()


def synthetic_notice() -> None:
    """Issue 7: a database made by `python -m reliefhub generate` says so on every page."""
    info = database().query("dataset_info")
    if len(info) and bool(info.at[0, "synthetic"]):
        st.error(
            f"SYNTHETIC DATA: generated for load tests (seed {info.at[0, 'seed']}, "
            f"{int(info.at[0, 'scale']):,} shipments). Nothing on this page is a real event.",
            icon="⚠️",
        )


def map_frame() -> figures.MapFrame:
    frame = database().query("map_frame")
    if frame.empty or pd.isna(frame.at[0, "south"]):
        return figures.MapFrame(50.0, 10.0, 3.5)
    return flowmap.frame_bounds(*(float(frame.at[0, c]) for c in ("south", "north", "west", "east")))


def movements_deck(
    colour_by: str,
    *,
    size_px: tuple[int, int],
    label_px: int = 18,
    scale: float = 1.0,
    replay_day: date | None = None,
    **extra,
):
    """The movements map for the shared filters (and extra parameters), with
    its flows, framed on them in a map of `size_px` (the whole data's frame
    when nothing matches)."""
    flows = query("movement_flows", colour_by=colour_by, limit=figures.MAP_ARCS, **extra)
    places = query("movement_places", limit=figures.MAP_PLACES, **extra)
    frame = flowmap.flows_frame(flows, width_px=size_px[0], height_px=size_px[1], fallback=map_frame())
    deck = figures.movement_deck(
        flows,
        places,
        basemap_url=BASEMAP_URL,
        colour_by=colour_by,
        frame=frame,
        size_px=size_px,
        label_px=label_px,
        scale=scale,
        replay_day=replay_day,
    )
    return deck, flows


def movements_map(colour_by: str, *, key: str, size_px: tuple[int, int], selectable: bool, **extra):
    """Draw the movements map; returns the selection event when selectable."""
    deck, flows = movements_deck(colour_by, size_px=size_px, **extra)
    height = size_px[1]
    legend(colour_by, flows)
    if selectable:
        return st.pydeck_chart(
            deck, height=height, key=key, on_select="rerun", selection_mode="single-object"
        )
    st.pydeck_chart(deck, height=height, key=key)
    return None


def legend(colour_by: str, flows: pd.DataFrame) -> None:
    swatches = " ".join(
        f"<span style='color:{colour}'>━━</span> {label}"
        for label, colour in figures.legend_entries(colour_by, flows["category"].tolist())
    )
    shown = figures.arcs_shown(flows)
    st.markdown(
        f"**{figures.COLOUR_BY_LABELS[colour_by]}:** {swatches or 'no movements match'} · "
        f"{figures.DIRECTION_LEGEND} · arc width: number of movements on the route · "
        "point size: traffic at the place · ↗ name at the edge: a place beyond the map"
        + (f" · {shown}" if shown else ""),
        unsafe_allow_html=True,
    )


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
        data=lambda: exports.to_csv_bytes(exports.export_rows(database(), table, params), hxl=hxl),
        file_name=exports.file_name(table, current_filters().slug(), datetime.now()),
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
    or parameters change, or when the rows run out before it.
    """
    params = shared_params(**extra)
    number_key, seen_key = f"{key}_page", f"{key}_page_of"
    asked = repr(sorted(params.items()))
    if st.session_state.get(seen_key) != asked:
        st.session_state[seen_key] = asked
        st.session_state[number_key] = 1
    number = max(1, int(st.session_state.get(number_key) or 1))
    size = PAGE_SIZE
    frame = database().query(name, params | {"limit": size, "offset": (number - 1) * size})
    if frame.empty and number > 1:
        number = st.session_state[number_key] = 1
        frame = database().query(name, params | {"limit": size, "offset": 0})
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
