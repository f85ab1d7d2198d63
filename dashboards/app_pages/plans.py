"""Account plans: the plans the signed-in user works on (every plan for readers), one row
each with status, checks and this year's target against actual; a row opens the plan."""

import pandas as pd
import streamlit as st
from app_pages.data import database_url, engine, plan_rules_in_force
from app_pages.exports import export_button
from app_pages.session import require_page

from dashboards import charts
from dashboards.formatting import DASH, literal
from models.access import Action, Role
from models.dashboard.read import latest_snapshot_id
from models.plans.workspace import plan_rows

TITLE = "Account plans"
identity = require_page(Action.VIEW_PLAN, TITLE)
eng = engine(database_url())
works_on = identity.role in (Role.PLANNER, Role.ACCOUNT_MANAGER)

st.title("My accounts" if works_on else TITLE)
st.caption(
    {
        Role.PLANNER: "The strategic-account plans of the accounts assigned to you.",
        Role.ACCOUNT_MANAGER: "The strategic-account plans of the accounts you manage.",
        Role.APPROVER: "Every strategic-account plan; plans waiting for your approval first.",
    }.get(identity.role, "Every strategic-account plan, with its checks and targets.")
)
mine_only = True
if identity.role == Role.PLANNER:  # an account manager reads their own accounts' plans only
    mine_only = not st.toggle("Show every plan", key="plans_all")

snapshot_id = latest_snapshot_id(eng)
as_of, rows = plan_rows(eng, identity, plan_rules_in_force(), snapshot_id, mine_only=mine_only)
if not rows:
    st.info(
        "None of your accounts has a plan yet"
        + (
            "; switch on *Show every plan* to read the others."
            if identity.role == Role.PLANNER
            else "."
        )
        if works_on and mine_only
        else "No plans to show yet. A planner imports one with `accountops plan import FILE "
        "--user NAME` (an administrator first assigns the account: `accountops user assign`).",
        icon=":material/info:",
    )
    st.stop()

table = pd.DataFrame(
    {
        "Customer": [r.customer_id for r in rows],
        "Name": [r.customer_name for r in rows],
        "Plan": [r.title for r in rows],
        "Status": [r.status + (" (newer draft)" if r.newer_draft else "") for r in rows],
        "Version": [r.version for r in rows],
        "Last editor": [r.last_editor for r in rows],
        "1+2+1": [r.one_two_one for r in rows],
        "Warnings": [r.warnings for r in rows],
        "Tier": [charts.tier_label(r.tier) if r.tier else None for r in rows],
        "Account manager": [r.manager for r in rows],
        f"Target {as_of.year}": [r.target for r in rows],
        "Actual": [r.actual for r in rows],
        "Gap": [r.gap for r in rows],
        "Run-rate": [r.run_rate for r in rows],
        "status": [r.status for r in rows],
    }
)
FILTERS = (("Tier", "Tier"), ("Account manager", "Account manager"), ("status", "Status"))
cols = st.columns(len(FILTERS))
shown = table
for col, (column, label) in zip(cols, FILTERS, strict=True):
    options = sorted(table[column].dropna().astype(str).unique())
    picked = col.multiselect(label, options, key=f"plans_filter_{column}", placeholder="All")
    if picked:
        shown = shown[shown[column].astype(str).isin(picked)]

waiting = int((table["status"] == "submitted").sum())
left, mid, right = st.columns(3)
left.metric("Plans", f"{len(shown):,}")
mid.metric("Waiting for approval", f"{waiting:,}")
right.metric("1+2+1 not met", f"{sum(not r.one_two_one_ok for r in rows):,}")
st.caption(
    f"Checks on {as_of:%d %b %Y}; actual and run-rate: invoiced revenue of {as_of.year} to "
    "that date, all product lines (the latest snapshot)."
)

shown = shown.drop(columns=["status"])
money = st.column_config.NumberColumn(format="%.0f")
event = st.dataframe(
    shown,
    hide_index=True,
    placeholder=DASH,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="plans_table",
    column_config={c: money for c in (f"Target {as_of.year}", "Actual", "Gap", "Run-rate")},
)
picked = event.selection.rows if event else []
if picked:
    customer = shown.iloc[picked[0]]["Customer"]
    st.page_link(
        "app_pages/plan.py",
        label=f"Open the plan of {literal(customer)}",
        icon=":material/open_in_new:",
        query_params={"customer": customer},
    )
else:
    st.caption("Pick a row to open its plan.")
export_button(shown, name="account_plans")
