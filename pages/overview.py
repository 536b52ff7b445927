"""Overview: the headline figures, the movements map, open requests per country and their trend."""

import streamlit as st

from reliefhub import figures
from reliefhub.ui import chrome, dataset, maps, shared_filters

# The map's size on a 1920-pixel-wide screen (its column's width), to frame it.
OVERVIEW_MAP_PX = (870, 560)

chrome.start_page("Relief Hub: overview")
_, as_of = dataset.data_bounds()
headline = shared_filters.query("headline_figures", as_of=as_of).iloc[0]

columns = st.columns(5)
columns[0].metric(f"Open requests on {as_of:%d %b %Y}", f"{headline.open_requests:,}")
columns[1].metric("Shipments in transit", f"{headline.shipments_in_transit:,}")
columns[2].metric("Shipments delivered", f"{headline.shipments_delivered:,}")
columns[3].metric("Flights", f"{headline.flights:,}")
columns[4].metric("Patients moved", f"{headline.patients_moved:,}")

left, right = st.columns([3, 2])
with left:
    st.subheader("Movements")
    maps.movements_map("cargo_kind", key="overview_map", size_px=OVERVIEW_MAP_PX, selectable=False)
with right:
    st.subheader("Open requests")
    by_country = shared_filters.query("open_requests_by_country", as_of=as_of)
    if by_country.empty:
        st.info("No requests are open for these filters.")
    else:
        st.plotly_chart(
            figures.open_requests_chart(by_country, measure="count"),
            config={"displaylogo": False},
            key="overview_requests_chart",
        )
    trend = shared_filters.query("request_trend")
    if len(trend):
        st.plotly_chart(
            figures.request_trend_chart(trend), config={"displaylogo": False}, key="overview_trend_chart"
        )
