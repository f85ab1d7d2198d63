"""Data health: recent batches with their validation results, quarantined rows, and each
snapshot linked to the batches (and flow runs) that fed it."""

import streamlit as st
from app_pages.data import database_url, engine
from app_pages.exports import export_button
from app_pages.session import require_page

from dashboards.formatting import count
from models.access import Action
from models.dashboard import data_health

require_page(Action.VIEW_DATA_HEALTH, "Data health")
st.title("Data health")
st.caption(
    "Every batch that came in, what validation said, what was kept out, and which "
    "snapshot read which batches. A flow run id names the Prefect run that did the work."
)
eng = engine(database_url())
try:
    batches = data_health.recent_batches(eng)
except Exception:  # no schema yet
    st.info("No database schema yet: run `accountops init`, then `accountops pipeline`.")
    st.stop()
if batches.empty:
    st.info(
        "No batches loaded yet. Run `accountops pipeline PATH...` (or `python3 dev.py demo`) "
        "to load data; its batches and validation results will show here."
    )
    st.stop()

status = batches["status"].map(lambda v: getattr(v, "value", v))
refused = batches[status.isin(["rejected", "quarantined"])]
cols = st.columns(4)
cols[0].metric("Batches (latest 100)", count(len(batches)))
cols[1].metric("Committed", count(int((status == "committed").sum())))
cols[2].metric("Refused (rejected or quarantined)", count(len(refused)))
cols[3].metric("Rows quarantined", count(int(batches["rows_quarantined"].sum())))
if len(refused):
    st.warning(
        f"{len(refused)} batch(es) were refused; their rows are in no snapshot. "
        "Fix the file named below and load it again.",
        icon=":material/report:",
    )

st.subheader("Snapshots and the batches that fed them")
snapshots = data_health.recent_snapshots(eng)
snapshots["flow_run_id"] = snapshots["flow_run_id"].fillna("not run by Prefect")
st.dataframe(
    snapshots,
    hide_index=True,
    width="stretch",
    column_config={
        "snapshot_id": st.column_config.NumberColumn("Snapshot", format="%d"),
        "as_of": "As of",
        "status": "Status",
        "created_at": st.column_config.DatetimeColumn("Started (UTC)", format="D MMM YYYY HH:mm"),
        "finished_at": st.column_config.DatetimeColumn("Computed (UTC)", format="D MMM YYYY HH:mm"),
        "flow_run_id": "Flow run",
        "refreshed_at": st.column_config.DatetimeColumn(
            "Published (UTC)", format="D MMM YYYY HH:mm"
        ),
        "batches": "Batches read",
    },
)

st.subheader("Recent batches and validation results")
view = batches.assign(
    status=status, flow_run_id=batches["flow_run_id"].fillna("not run by Prefect")
)[
    [
        "batch_id",
        "entity",
        "file_name",
        "status",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_rejected",
        "validation",
        "error_code",
        "error_message",
        "finished_at",
        "flow_run_id",
    ]
]
st.dataframe(
    view,
    hide_index=True,
    width="stretch",
    column_config={
        "batch_id": st.column_config.NumberColumn("Batch", format="%d"),
        "entity": "Entity",
        "file_name": "File",
        "status": "Status",
        "rows_read": st.column_config.NumberColumn("Read", format="localized"),
        "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
        "rows_quarantined": st.column_config.NumberColumn("Quarantined", format="localized"),
        "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
        "validation": st.column_config.TextColumn("Validation", width="large"),
        "error_code": "Error",
        "error_message": st.column_config.TextColumn("What to do", width="large"),
        "finished_at": st.column_config.DatetimeColumn("Finished (UTC)", format="D MMM YYYY HH:mm"),
        "flow_run_id": "Flow run",
    },
)
export_button(view, name="batches")

st.subheader("Quarantined rows")
summary = data_health.quarantine_summary(eng)
if summary.empty:
    st.caption("No row has been quarantined.")
else:
    labels = {
        "batch_id": st.column_config.NumberColumn("Batch", format="%d"),
        "entity": "Entity",
        "file_name": "File",
        "line_no": st.column_config.NumberColumn("Line", format="%d"),
        "column_name": "Column",
        "natural_key": "Row key",
        "rule_code": "Rule broken",
        "rows": st.column_config.NumberColumn("Rows", format="localized"),
        "message": st.column_config.TextColumn("What is wrong", width="large"),
    }
    st.dataframe(summary, hide_index=True, width="stretch", column_config=labels)
    rows = data_health.quarantine_rows(eng)
    st.dataframe(rows, hide_index=True, width="stretch", column_config=labels)
    export_button(rows, name="quarantine")
