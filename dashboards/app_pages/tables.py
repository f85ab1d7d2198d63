"""The read-only table the pages draw: the chosen columns in order, each with its label
and format, and one placeholder for a missing value (never a raw nan, None or NaT)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.formatting import DASH


def table(frame: pd.DataFrame, key: str, empty: str = DASH, **columns) -> None:
    """A table of the given columns (in this order); a missing value reads ``empty``."""
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key=key,
        placeholder=empty,
        column_order=list(columns),
        column_config=columns,
    )
