"""Overview: a placeholder until the executive dashboard lands (issue 6)."""

import streamlit as st
from app_pages.data import database_url, status

st.title("accountops")
st.caption("Key-account operations: customer value, receivables and strategic-account plans.")

current = status(database_url())
if current.revision is None:
    st.warning("The database has no schema yet. Run `accountops init` (or `python3 dev.py demo`).")
    st.stop()

cols = st.columns(4)
cols[0].metric("Customers", f"{current.customers:,}")
cols[1].metric("Invoice lines", f"{current.invoice_lines:,}")
cols[2].metric("Ingested batches", f"{current.batches:,}")
cols[3].metric("Snapshots", f"{current.snapshots:,}")

if current.is_empty:
    st.info(
        "No data loaded yet. The ingest, value engine and executive pages are not built yet; "
        "sample data can be generated with `accountops sample --out var/sample`."
    )
st.caption(f"Schema revision {current.revision} (latest {current.head}).")
