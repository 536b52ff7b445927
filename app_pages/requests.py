"""Open requests per country: what was asked, what arrived, what is still missing, as of any day."""

import streamlit as st

from reliefhub import confidence, figures
from reliefhub.ui import chrome, dataset, shared_filters, tables, text, url_state

chrome.start_page("Open requests")
first, last = dataset.data_bounds()

url_state.adopt_from_url("as_of", url_state.day_within(first, last), "as-of date")
st.session_state.setdefault("as_of", last)
as_of = st.columns([1, 3])[0].date_input(
    "As of",
    min_value=first,
    max_value=last,
    key="as_of",
    format="YYYY-MM-DD",
    help="Show what was open on this day: requests made by then, not yet closed, "
    "with deliveries counted up to that day.",
)
url_state.publish_to_url("as_of", None if as_of == last else [str(as_of)])
by_country = shared_filters.query("open_requests_by_country", as_of=as_of)
table = tables.table_page("open_requests", key="open_requests_table", as_of=as_of)

if not table.matching:
    st.info(f"No requests were open on {as_of:%d %b %Y} for these filters.")
    tables.download_csv("open_requests", table.params, 0, key="download_open_requests")
else:
    st.markdown(
        f"**{figures.plural(table.matching, 'open request')}** from "
        f"{figures.plural(by_country['iso3'].nunique(), 'country')} on {as_of:%d %b %Y}."
    )
    measured = by_country.dropna(subset=["missing_quantity"])
    measures = {"count": "Number of open requests"}
    if not measured.empty:
        measures["missing"] = "Missing quantity of one material"
    measure = st.radio("Chart", list(measures), format_func=measures.get, horizontal=True, key="measure")
    material = None
    if measure == "missing":
        options = (
            measured.groupby(["material_code", "material_name"], as_index=False)["missing_quantity"]
            .sum()
            .sort_values("missing_quantity", ascending=False)
        )
        names = dict(zip(options["material_code"], options["material_name"], strict=True))
        material = st.selectbox("Material", list(names), format_func=names.get, key="chart_material")
    chart, _ = shared_filters.figure(
        "open_requests_by_country",
        lambda rows: figures.open_requests_chart(rows, measure=measure, material=material),
        drawn=(measure, material),
        as_of=as_of,
    )
    st.plotly_chart(
        chart,
        config={"displaylogo": False},
        key="open_requests_chart",
    )
    tables.show_table_page(
        table,
        export="open_requests",
        first_columns=(
            "requester_country",
            "material_name",
            "requested_quantity",
            "delivered_quantity",
            "missing_quantity",
            "unit",
            "days_waiting",
        ),
    )

closed = shared_filters.query("closed_requests", as_of=as_of, limit=confidence.CLOSED_SHOWN)
if not closed.empty:
    st.subheader("Closed before all of it arrived")
    st.caption(
        "Requests the requester withdrew or closed while part of what was asked for had not arrived "
        "(or its quantity is not stated): the needs stay here after the file is closed."
    )
    # A table, not a grid: rows whose outcome is read, not sorted. The most
    # recently closed come first (the query's order); beyond confidence.CLOSED_SHOWN a
    # table is no longer read, so the query returns no more.
    with st.container(key="closed_requests"):
        shown = confidence.closed_table(closed).set_index("requester_country")
        st.table(text.plain_table(shown))
    closed_in_all = int(closed["matching_rows"].iat[0])
    if closed_in_all > confidence.CLOSED_SHOWN:
        st.caption(
            f"The {confidence.CLOSED_SHOWN} most recently closed of {closed_in_all:,}: "
            "pick a country or material in the sidebar to see the others."
        )
