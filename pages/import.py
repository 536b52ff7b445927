"""Import: load a partner's CSV of requests, flights or shipments, all of it or none of it.

The file is checked as a whole by reliefhub.imports (the same rules as the
forms); a rejected file writes nothing and leaves a report to send back.
"""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from reliefhub import access, imports, operations, ui

ui.start_page("Import")
st.caption(
    "A file is written whole, in one go, or not at all. Re-importing a file changes only the rows that "
    "changed: each row's ID says which record it is. Other pages keep working while a file imports."
)
db = ui.database()
who = access.identity()
who_slot = st.empty()
NOUNS = {"requests": "Requests", "flights": "Flights", "shipments": "Shipments"}
REPORT_KEY = "import_report"
KNOWN = {
    "places": "a known place: its ID, its name, or an ICAO/IATA code",
    "countries": "a known ISO 3166 alpha-3 code",
    "materials": "a known material code",
    "requests": "the ID of a known request",
    "flights": "the ID of a known flight",
}

kind = st.radio("The file holds", list(NOUNS), format_func=NOUNS.get, horizontal=True, key="import_kind")
uploaded = st.file_uploader(
    "CSV file", type=["csv", "txt"], key="import_file", help="UTF-8 (with or without BOM) or Windows-1252."
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
    check_only = st.checkbox("Check only: count what would change, write nothing", key="import_check")

if st.button("Import", type="primary", disabled=uploaded is None, key="import_go"):
    bar = st.progress(0.0, text="Starting")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(uploaded.getvalue())
        outcome = imports.import_file(
            db,
            path,
            kind,
            who=who,
            file_name=uploaded.name,
            encoding=None if encoding == "auto" else encoding,
            delimiter=None if delimiter == "auto" else delimiter,
            check_only=check_only,
            progress=lambda fraction, text: bar.progress(min(fraction, 1.0), text=text),
        )
    bar.empty()
    if refused := [p.problem for p in outcome.problems if p.column == "who"]:
        who_slot.error(refused[0].capitalize() + ".")
    else:
        st.session_state[REPORT_KEY] = outcome

report: imports.ImportReport | None = st.session_state.get(REPORT_KEY)
if report is not None:
    st.subheader(f"{report.file_name}: {report.kind}")
    read_as = f"Read as {report.encoding or '?'}, separated by '{report.delimiter or '?'}'"
    if report.ok:
        (st.info if report.check_only or not report.written else st.success)(report.summary())
        columns = st.columns(4)
        columns[0].metric("Rows", f"{report.rows:,}")
        columns[1].metric("New", f"{report.new:,}")
        columns[2].metric("Updated", f"{report.updated:,}")
        columns[3].metric("Unchanged", f"{report.unchanged:,}")
        st.caption(f"{read_as}, in {report.seconds:.1f} s.")
    else:
        st.error(report.summary())
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
    if report.resolved:
        st.markdown("**Places read from names and airport codes**")
        st.dataframe(
            pd.DataFrame(report.resolved, columns=["column", "in the file", "place ID", "rows"]),
            hide_index=True,
            key="import_resolved",
        )

st.subheader("File format")
st.markdown(
    "One row per record, with a header row naming every column below, in any order. An empty cell "
    "is empty (unknown). Dates are `YYYY-MM-DD`; numbers use a point for decimals. Places may be given "
    "by place ID, by name or by ICAO/IATA airport code; a name that is not known is reported, not guessed. "
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
            )
            for f in fields
        ],
        columns=["column", "", "type", "allowed values"],
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
