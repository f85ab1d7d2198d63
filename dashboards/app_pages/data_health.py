"""Data health: recent batches with their validation results, quarantined rows, and each
snapshot linked to the batches (and flow runs) that fed it."""

import pandas as pd
import streamlit as st
from app_pages.data import database_url, engine, settings
from app_pages.exports import export_button
from app_pages.session import require_page

from dashboards.formatting import DASH, count, elapsed, literal
from flows import scheduler  # the Prefect API, read-only (see the import contracts)
from models.access import Action, book_of
from models.dashboard import data_health
from models.ingest.data_docs import data_docs_root, published_pages

DOCS_PAGE = "app_pages/data_docs.py"


@st.cache_data(ttl=30, max_entries=2, show_spinner="Asking the scheduler...")
def scheduler_runs(_key: str = "") -> scheduler.SchedulerView:
    """The scheduler's view, asked at most every 30 s (each ask is 2 + 2 per deployment
    requests, bounded by a 3 s timeout)."""
    return scheduler.scheduler_view()


def scheduled_runs_section(eng) -> None:
    """The scheduler's last and next run of each deployment, else what the database recorded."""
    st.subheader("Scheduled runs")
    view = scheduler_runs()
    if view.available:
        rows = [
            {
                "deployment": d.deployment,
                "schedule": d.schedule + (" (paused)" if d.paused else ""),
                "run": which,
                "state": run.state if run else "none",
                "start": run.start if run else None,
                "duration": elapsed(run.duration_seconds) if run else "",
                "link": run.url if run else None,
            }
            for d in view.deployments
            for which, run in (("last", d.last), ("next", d.next))
        ]
        if not rows:
            st.caption(
                f"The Prefect API at {view.api_url} has no deployment: deploy them "
                "(`prefect deploy --all` with deploy/prefect.yaml)."
            )
            return
        st.caption(f"From the Prefect API at {view.api_url} (asked at most every 30 s).")
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            placeholder=DASH,
            width="stretch",
            column_config={
                "deployment": "Deployment",
                "schedule": "Schedule",
                "run": "Run",
                "state": "State",
                "start": st.column_config.DatetimeColumn(
                    "Start (UTC; expected, if not started)", format="D MMM YYYY HH:mm"
                ),
                "duration": "Duration",
                "link": st.column_config.LinkColumn("In Prefect", display_text="open run"),
            },
        )
        return
    st.caption(
        f"Scheduler not asked ({view.problem}): the last runs as the database recorded "
        "them; the next ones only the scheduler knows."
    )
    runs = data_health.recorded_runs(eng)
    if runs.empty:
        st.caption("The database has recorded no run yet.")
        return
    ui_url = scheduler.prefect_ui_url() if view.api_url is None else None
    runs = runs.assign(
        duration=runs["duration_seconds"].map(elapsed),
        link=runs["flow_run_id"].map(lambda i: scheduler.flow_run_url(ui_url, i)),
        flow_run_id=runs["flow_run_id"].fillna("not run by Prefect"),
    ).drop(columns=["duration_seconds"])
    st.dataframe(
        runs,
        hide_index=True,
        placeholder=DASH,
        width="stretch",
        column_config={
            "flow_run_id": "Flow run",
            "work": "Work",
            "outcome": "Outcome",
            "started_at": st.column_config.DatetimeColumn(
                "Started (UTC)", format="D MMM YYYY HH:mm"
            ),
            "finished_at": st.column_config.DatetimeColumn(
                "Finished (UTC)", format="D MMM YYYY HH:mm"
            ),
            "duration": "Duration",
            "link": st.column_config.LinkColumn("In Prefect", display_text="open run"),
        },
    )


identity = require_page(Action.VIEW_DATA_HEALTH, "Data health")
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
# The figure and the quarantine table below are one read: they cannot disagree.
quarantine = data_health.quarantine_summary(eng)
cols[3].metric(
    "Quarantine records",
    count(quarantine.records),
    help="One per rule a row broke (a row that broke two rules has two), and one per "
    "file refused whole: the table under Quarantined rows, all batches.",
)
# Refused batches whose data has since been loaded again hold nothing back: warn only of
# the deliveries still refused (each entity's newest decided batch).
outstanding = data_health.latest_refused(eng)
if len(outstanding):
    files = ", ".join(sorted(set(outstanding["file_name"].map(str))))
    st.warning(
        f"The newest delivery of {len(outstanding)} kind(s) of data was refused "
        f"({literal(files)}): its rows are in no snapshot. Fix the file and load it again; "
        "the batches below say why.",
        icon=":material/report:",
    )
elif len(refused):
    st.caption(
        f"{len(refused)} refused batch(es) below: each was loaded again since, so nothing "
        "is held back."
    )

scheduled_runs_section(eng)

st.subheader("Snapshots and the batches that fed them")
snapshots = data_health.recent_snapshots(eng)
snapshots["flow_run_id"] = snapshots["flow_run_id"].fillna("not run by Prefect")
st.dataframe(
    snapshots,
    hide_index=True,
    placeholder=DASH,
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
docs = published_pages(data_docs_root(settings().data_dir))
# A relative link: the browser opens it next to this page (any base URL path), in a new tab.
view = batches.assign(
    status=status,
    flow_run_id=batches["flow_run_id"].fillna("not run by Prefect"),
    data_docs=batches["batch_id"].map(lambda b: f"data_docs?batch={b}" if b in docs else None),
)[
    [
        "batch_id",
        "entity",
        "file_name",
        "status",
        "data_docs",
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
    placeholder=DASH,
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
        "data_docs": st.column_config.LinkColumn(
            "Data Docs",
            display_text="open",
            help="Great Expectations' page of this batch's validation (the newest "
            "`ingest.data_docs_keep` batches keep theirs)",
        ),
        "error_code": "Error",
        "error_message": st.column_config.TextColumn("What to do", width="large"),
        "finished_at": st.column_config.DatetimeColumn("Finished (UTC)", format="D MMM YYYY HH:mm"),
        "flow_run_id": "Flow run",
    },
)
if docs:
    st.page_link(
        DOCS_PAGE,
        label="Read the batches' Great Expectations Data Docs",
        icon=":material/fact_check:",
        query_params={"batch": str(max(docs))},
    )
export_button(view.drop(columns=["data_docs"]), name="batches")

st.subheader("Quarantined rows")
summary = quarantine.by_rule
if summary.empty:
    st.caption("No row has been quarantined.")
else:
    st.caption(
        f"{count(quarantine.records)} quarantine record(s) per batch and rule"
        + (
            ""
            if quarantine.complete
            else f" (the newest {count(len(summary))} of {count(quarantine.groups)} shown)"
        )
        + "; the Quarantined column of the batches above counts rows."
    )
    labels = {
        "batch_id": st.column_config.NumberColumn("Batch", format="%d"),
        "entity": "Entity",
        "file_name": "File",
        "line_no": st.column_config.NumberColumn("Line", format="%d"),
        "column_name": "Column",
        "natural_key": "Row key",
        "rule_code": "Rule broken",
        "records": st.column_config.NumberColumn("Records", format="localized"),
        "message": st.column_config.TextColumn("What is wrong", width="large"),
    }
    st.dataframe(summary, hide_index=True, placeholder=DASH, width="stretch", column_config=labels)
    rows = data_health.quarantine_rows(eng, book=book_of(identity))
    if rows is None:
        st.caption(
            "The quarantined rows themselves are for the data stewards: they may name any "
            "manager's customer."
        )
    else:
        st.dataframe(rows, hide_index=True, placeholder=DASH, width="stretch", column_config=labels)
        export_button(rows, name="quarantine")
