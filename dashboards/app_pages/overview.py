"""Overview: headline figures against the previous snapshot, the value pyramid, revenue
concentration and the tier migrations since the previous snapshot."""

import streamlit as st
from app_pages.snapshot import start

from dashboards import charts
from dashboards.formatting import (
    count,
    count_change,
    days,
    days_change,
    metric_delta,
    money,
    money_change,
    not_comparable_yet,
    percent,
    points_change,
)

ctx = start(
    "Executive overview",
    "Customer value, concentration and movement at the latest published snapshot.",
    first_run=True,
)
h, cur = ctx.head, ctx.currency


prev = f"vs snapshot {h['previous_snapshot_id']}" if h["previous_snapshot_id"] else None
cols = st.columns(5)
cols[0].metric(
    f"Revenue, 12 months ({cur})",
    money(h["revenue"], cur, compact=True),
    **metric_delta(money_change(h["revenue"], h["revenue_prev"], cur)),
    help=f"Invoiced net sales in the 12 months to the as-of date; {money(h['revenue'], cur)}.",
)
cols[1].metric(
    "Gross margin",
    percent(h["gross_margin_pct"]),
    **metric_delta(points_change(h["gross_margin_pct"], h["gross_margin_pct_prev"])),
    help="(revenue - cost) / revenue over invoice lines with a known cost.",
)
cols[2].metric(
    "DSO",
    days(h["dso_days"]),
    **metric_delta(days_change(h["dso_days"], h["dso_days_prev"]), "inverse"),
    help="Days sales outstanding: open receivables / revenue of the 12 months x days.",
)
cols[3].metric(
    "Trading customers",
    count(h["trading_customers"]),
    **metric_delta(count_change(h["trading_customers"], h["trading_customers_prev"])),
    help=f"Plus {count(h['prospects'])} prospects (key / general opportunities).",
)
cols[4].metric(
    f"Revenue at risk ({cur})",
    money(h["revenue_at_risk"], cur, compact=True),
    **metric_delta(money_change(h["revenue_at_risk"], h["revenue_at_risk_prev"], cur), "inverse"),
    help="Revenue of Problem-tier customers: collection, punctuality or margin below the floor.",
)
if prev:
    st.caption(f"Changes are {prev}.")
else:
    st.caption(not_comparable_yet("The changes under these figures"))
ctx.flag("invoice_lines", "payments", "customers")

tiers = ctx.read("tiers")
tier_row = tiers.set_index("tier")
tcols = st.columns(6)
for col, tier in zip(tcols, charts.TRADING_PYRAMID, strict=True):
    n = int(tier_row["customers"].get(tier, 0))
    before = tier_row["customers_prev"].get(tier) if tier in tier_row.index else None
    col.metric(
        f"{charts.tier_label(tier)} customers",
        count(n),
        **metric_delta(count_change(n, before) if prev else None, "off"),
    )

left, right = st.columns(2)
with left:
    st.plotly_chart(charts.value_pyramid(tiers, cur), width="stretch", key="pyramid")
with right:
    points = ctx.read("pareto")
    st.plotly_chart(
        charts.pareto_points(points, h["trading_customers"], h["revenue"], cur),
        width="stretch",
        key="pareto",
    )
    st.caption(
        f"The largest 20% of customers hold {percent(h['top20_revenue_share'], digits=0)} "
        "of revenue."
    )

if prev:
    moves = ctx.read("migrations")
    st.plotly_chart(
        charts.migration_sankey(charts.sankey_input(moves)), width="stretch", key="sankey"
    )
    st.caption(
        f"Since the previous snapshot: {count(h['upgrades'])} upgrades, "
        f"{count(h['downgrades'])} downgrades, {count(h['new_customers'])} new, "
        f"{count(h['lost_customers'])} lost. Open a customer on the Customers page to see why."
    )
else:
    st.info(not_comparable_yet("Tier migrations"), icon=":material/compare_arrows:")
