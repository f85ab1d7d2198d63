"""The accountops dashboard: navigation between pages (one file per page in app_pages/)."""

import streamlit as st

st.set_page_config(page_title="accountops", page_icon=":bar_chart:", layout="wide")

navigation = st.navigation(
    {"Overview": [st.Page("app_pages/overview.py", title="Overview", default=True)]}
)
navigation.run()
