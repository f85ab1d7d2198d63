"""Account managers: their books, tier moves, and the revenue at risk if one leaves."""

import streamlit as st
from app_pages.exports import export_button
from app_pages.snapshot import start

from dashboards import charts
from dashboards.formatting import (
    DASH,
    count,
    literal,
    money,
    not_comparable_yet,
    percent,
    rounded_columns,
)

ctx = start(
    "Account managers",
    "Each manager's book and how concentrated our customer relationships are.",
)
h, cur = ctx.head, ctx.currency
mgr = ctx.read("managers")

top = mgr.iloc[0] if len(mgr) else None
cols = st.columns(4)
cols[0].metric("Account managers with customers", count(len(mgr)))
cols[1].metric(
    "Largest book's share of revenue",
    percent(top["revenue_share"]) if top is not None else "–",
    help=literal(top["name"]) if top is not None else None,
)
cols[2].metric(
    f"At risk if managers leave ({cur})",
    money(h["relationship_revenue_at_risk"], cur, compact=True),
    help="Revenue of customers who buy mainly on the relationship (buying factor), summed "
    "over all managers: it may follow the person.",
)
worst = (
    mgr.sort_values("relationship_revenue_at_risk", ascending=False).iloc[0] if len(mgr) else None
)
cols[3].metric(
    f"Most at risk with one person ({cur})",
    money(worst["relationship_revenue_at_risk"], cur, compact=True) if worst is not None else "–",
    help=None if worst is None else f"If {literal(worst['name'])} leaves.",
)
ctx.flag("invoice_lines", "customers", "account_managers")

left, right = st.columns(2)
with left:
    st.plotly_chart(
        charts.manager_concentration(mgr.rename(columns={"name": "manager"}), cur),
        width="stretch",
        key="concentration",
    )
with right:
    risk = mgr.drop(columns=["revenue"]).rename(
        columns={"name": "manager", "relationship_revenue_at_risk": "revenue"}
    )
    fig = charts.manager_concentration(risk, cur)
    fig.update_layout(title={"text": "Revenue at risk if the manager leaves (share)"})
    fig.update_traces(marker={"color": charts.TIER_COLOURS["problem"]})
    st.plotly_chart(fig, width="stretch", key="risk")

table = mgr[
    [
        "manager_id",
        "name",
        "region",
        "customers",
        "new_customers",
        "churned_customers",
        "revenue",
        "revenue_share",
        "invoices_per_customer",
        "upgrades",
        "downgrades",
        "problem_customers",
        "collection_rate",
        "relationship_revenue_at_risk",
    ]
]
has_previous = h["previous_snapshot_id"] is not None
if not has_previous:  # tier moves need a previous snapshot: unknown (a dash), not 0
    table = table.assign(upgrades=None, downgrades=None)
    st.caption(not_comparable_yet("Upgrades and downgrades"))
st.dataframe(
    rounded_columns(table, {"revenue": 0, "relationship_revenue_at_risk": 0}),
    hide_index=True,
    placeholder=DASH,
    width="stretch",
    column_config={
        "manager_id": "Id",
        "name": "Account manager",
        "region": "Region",
        "customers": st.column_config.NumberColumn("Customers", format="%d"),
        "new_customers": st.column_config.NumberColumn("New", format="%d"),
        "churned_customers": st.column_config.NumberColumn("Churned", format="%d"),
        "revenue": st.column_config.NumberColumn(f"Revenue 12m ({cur})", format="localized"),
        "revenue_share": st.column_config.NumberColumn("Share of revenue", format="percent"),
        "invoices_per_customer": st.column_config.NumberColumn(
            "Invoices per customer", format="%.1f"
        ),
        "upgrades": st.column_config.NumberColumn("Upgrades", format="%d"),
        "downgrades": st.column_config.NumberColumn("Downgrades", format="%d"),
        "problem_customers": st.column_config.NumberColumn("Problem customers", format="%d"),
        "collection_rate": st.column_config.NumberColumn("Collected", format="percent"),
        "relationship_revenue_at_risk": st.column_config.NumberColumn(
            f"At risk if they leave ({cur})", format="localized"
        ),
    },
)
export_button(table, name="account-managers")
