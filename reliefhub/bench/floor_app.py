"""The floor: a minimal Streamlit page (a multiselect, a metric, a 200-row table).

`python -m reliefhub bench --parts sessions` puts the same load on this app as on
the hub, in the same run, so each of the hub's figures stands beside what
Streamlit itself costs on this machine. Its rows are made up: they only give the
table something to show.
"""

import numpy as np
import pandas as pd
import streamlit as st


@st.cache_data
def made_up_rows() -> pd.DataFrame:
    rng = np.random.default_rng(2020)
    countries = [f"Country {n:02d}" for n in range(30)]
    return pd.DataFrame(
        {
            "country": rng.choice(countries, 2_000),
            "material": rng.choice(["masks", "gowns", "ventilators", "tests"], 2_000),
            "tonnes": rng.integers(1, 500, 2_000),
        }
    )


rows = made_up_rows()
chosen = st.multiselect("Country", sorted(rows["country"].unique()), key="country")
shown = rows[rows["country"].isin(chosen)] if chosen else rows
st.metric("Tonnes", f"{shown['tonnes'].sum():,}")
st.dataframe(shown.head(200))
