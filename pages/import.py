"""Import: load a partner's CSV or .xlsx of requests, flights, shipments or places, all of it or none of it.

The file is checked as a whole by reliefhub.imports (the same rules as the
forms); a rejected file writes nothing and leaves a report to send back. A
file that needs places the hub lacks is checked first, and written only once
the table of places to create is confirmed.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

from reliefhub import access, exports, imports, operations
from reliefhub.ui import chrome, dataset, text

chrome.start_page("Import")
st.caption(
    "A file is written whole, in one go, or not at all. Re-importing a file changes only the rows that "
    "changed: each row's ID says which record it is. Other pages keep working while a file imports."
)
db = dataset.database()
who = access.identity()
who_slot = st.empty()
NOUNS = {"requests": "Requests", "flights": "Flights", "shipments": "Shipments", "places": "Places"}
REPORT_KEY = "import_report"
CONFIRM_KEY = "import_confirm_places"
KNOWN = {
    "places": "a place: its ID, its name, or an ICAO/IATA code; or a country, airport or city "
    "from the offline catalogues (listed to confirm before it is created)",
    "countries": "a country: ISO 3166 alpha-3 or alpha-2 code, or its English or French name",
    "materials": "a material: its code or its name",
    "requests": "the ID of a known request",
    "flights": "the ID of a known flight",
}

kind = st.radio("The file holds", list(NOUNS), format_func=NOUNS.get, horizontal=True, key="import_kind")
uploaded = st.file_uploader(
    "CSV or Excel file",
    type=["csv", "txt", "xlsx"],
    key="import_file",
    help="CSV in UTF-8 (with or without BOM) or Windows-1252, or an .xlsx workbook.",
)
with st.expander("Options"):
    encoding = st.radio("Encoding", ["auto", "utf-8", "windows-1252"], horizontal=True, key="import_encoding")
    delimiter = st.radio(
        "Separator",
        ["auto", ",", ";"],
        format_func={"auto": "auto", ",": "comma", ";": "semicolon"}.get,
        horizontal=True,
        key="import_delimiter",
    )
    sheet = st.text_input("Excel sheet (default: the first)", key="import_sheet").strip()
    check_only = st.checkbox("Check only: count what would change, write nothing", key="import_check")
update = st.checkbox(
    "Update existing records",
    key="import_update",
    help="A file whose IDs match stored records changes them. Without this, such a file is held back "
    "and each change is listed (field: before → after), so you can check it first.",
)


def run_import(create_places: bool) -> None:
    bar = st.progress(0.0, text="Starting")
    with imports.upload_copy(uploaded.getvalue(), suffix=Path(uploaded.name).suffix.lower()) as path:
        outcome = imports.import_file(
            db,
            path,
            kind,
            who=who,
            file_name=uploaded.name,
            encoding=None if encoding == "auto" else encoding,
            delimiter=None if delimiter == "auto" else delimiter,
            sheet=sheet or None,
            check_only=check_only,
            update=update,
            create_places=create_places,
            progress=lambda fraction, step: bar.progress(min(fraction, 1.0), text=text.escape_markdown(step)),
        )
    bar.empty()
    if refused := [p.problem for p in outcome.problems if p.column == "who"]:
        who_slot.error(refused[0].capitalize() + ".")
    else:
        st.session_state[REPORT_KEY] = outcome


if st.button("Import", type="primary", disabled=uploaded is None, key="import_go"):
    run_import(create_places=False)
elif st.session_state.get(CONFIRM_KEY) and uploaded is not None:  # pressed under the places table
    run_import(create_places=True)
report: imports.ImportReport | None = st.session_state.get(REPORT_KEY)
if report is not None:
    st.subheader(f"{text.escape_markdown(report.file_name)}: {report.kind}")
    read_as = (
        f"Read from sheet '{text.escape_markdown(report.sheet)}'"
        if report.sheet
        else f"Read as {report.encoding or '?'}, separated by '{report.delimiter or '?'}'"
    )
    if report.held_for_confirmation:
        st.warning(
            text.escape_markdown(report.summary()) + " Tick **Update existing records** and import again."
        )
    elif report.ok:
        (st.info if report.check_only or not report.written else st.success)(
            text.escape_markdown(report.summary())
        )
        columns = st.columns(4)
        columns[0].metric("Rows", f"{report.rows:,}")
        columns[1].metric("New", f"{report.new:,}")
        columns[2].metric("Updated", f"{report.updated:,}")
        columns[3].metric("Unchanged", f"{report.unchanged:,}")
        st.caption(f"{read_as}, in {report.seconds:.1f} s.")
    else:
        st.error(text.escape_markdown(report.summary()))
        st.caption(f"{read_as}. Send the report back to whoever sent the file: it names each line to fix.")
        st.download_button(
            f"Download the rejection report ({len(report.problems):,} "
            f"problem{'' if len(report.problems) == 1 else 's'}) as CSV",
            data=report.problems_csv(),
            file_name=f"{Path(report.file_name).stem}.rejections.csv",
            mime="text/csv",
            on_click="ignore",
            key="import_rejections",
        )
        frame = report.problems_frame()
        shown = frame.head(1000)
        if len(frame) > len(shown):
            st.caption(f"The first {len(shown):,} of {len(frame):,} problems; the report holds them all.")
        st.dataframe(shown, hide_index=True, key="import_problems")
    if report.changes:
        st.markdown(f"**Changes to existing records** ({report.changes_total:,} fields)")
        st.dataframe(imports.changes_frame(report), hide_index=True, key="import_changes")
    for notice in report.notices:
        st.caption(text.escape_markdown(notice))  # it may name the file's own columns
    if len(report.new_places):
        done = "Places created" if report.written else "Places to create: check them before confirming"
        st.markdown(f"**{done}** (from the offline catalogues)")
        st.dataframe(report.new_places.fillna(""), hide_index=True, key="import_new_places")
    if report.ok and not report.places_confirmed and not report.check_only:
        st.button(
            f"Create these {len(report.new_places):,} places and import",
            disabled=uploaded is None or uploaded.name != report.file_name,
            key=CONFIRM_KEY,
        )
    if report.resolved:
        st.markdown("**Cells read as codes and place IDs**")
        st.dataframe(
            pd.DataFrame(report.resolved, columns=["column", "in the file", "read as", "rows"]),
            hide_index=True,
            key="import_resolved",
        )

st.subheader("File format")
st.markdown(
    "One row per record, with a header row naming the columns below, in any order. An empty cell "
    "is empty (unknown). Optional columns may be left out (confidence and quantity_precision, or "
    "payload_precision for flights, then say nothing); columns not listed are ignored (the report "
    "names them). A row of HXL hashtags under the header (as the hub's exports write) may stand for the "
    "names. Dates are `YYYY-MM-DD` (or Excel date cells); numbers use a point for decimals. Countries and "
    "materials may be given by name; places by ID, name or ICAO/IATA code, and a place the hub does not "
    "know may come from the offline airport, city and country catalogues: it is listed for you to confirm "
    "before anything is written. A name that matches several places, or none, is reported, not guessed. "
    "Line numbers count the header as line 1, like a spreadsheet's rows."
)
fields = operations.form_fields(db, kind)
st.dataframe(
    pd.DataFrame(
        [
            (
                f.name,
                "required" if f.required else "optional",
                f.kind.replace("_", " "),
                ", ".join(f.choices) or KNOWN.get(f.references, ""),
                exports.HXL_TAGS.get(f.name, ""),
            )
            for f in fields
        ],
        columns=["column", "", "type", "allowed values", "HXL hashtag"],
    ),
    hide_index=True,
    key="import_format",
)
example = imports.example_file(kind)
st.download_button(
    f"Download an example {kind} file",
    data=example.read_bytes(),
    file_name=example.name,
    mime="text/csv",
    on_click="ignore",
    key="import_example",
)
