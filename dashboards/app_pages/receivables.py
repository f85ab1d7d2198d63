"""Receivables: ageing, the DSO trend, the cost of late payment and bad-debt equivalents."""

import streamlit as st
from app_pages.data import value_rules_in_force
from app_pages.exports import export_button
from app_pages.snapshot import start

from dashboards import charts
from dashboards.formatting import (
    DASH,
    count,
    days,
    money,
    number,
    percent,
    rounded_columns,
)

ctx = start(
    "Receivables",
    "Money owed to us, how late it is, and what late payment and bad debt cost.",
)
h, cur = ctx.head, ctx.currency
cost = ctx.read("credit_cost_of", value_rules_in_force())

cols = st.columns(5)
cols[0].metric(f"Open receivables ({cur})", money(h["outstanding"], cur, compact=True))
cols[1].metric(f"Overdue ({cur})", money(h["overdue"], cur, compact=True))
cols[2].metric("DSO", days(h["dso_days"]))
cols[3].metric("Collection rate, 12 months", percent(h["collection_rate"]))
cols[4].metric(
    f"Cost of late payment ({cur})",
    money(h["late_cost"], cur),
    help=f"Amount x {percent(cost['annual_borrowing_rate'])} a year x days late / 365, "
    "over the invoices of the last 12 months.",
)
ctx.flag("invoice_lines", "payments")

left, right = st.columns(2)
with left:
    st.plotly_chart(charts.ageing_bars(ctx.read("ageing"), cur), width="stretch", key="ageing")
with right:
    trend = ctx.read("dso_trend")
    if len(trend):
        st.plotly_chart(
            charts.dso_trend(trend.dropna(subset=["dso_days"]).rename(columns={"dso_days": "dso"})),
            width="stretch",
            key="dso",
        )
        st.caption(
            "DSO at each month end (the last point at the as-of date, the figure above): "
            "receivables open then over the revenue of the window ending then, times the "
            "window's days. A point needs a whole window of history behind it."
        )
    else:
        st.info("Not enough history for a DSO trend yet (a whole window is needed).")

st.subheader("Bad-debt equivalents")
b = st.columns(3)
b[0].metric(f"Receivables over 90 days ({cur})", money(cost["loss_over_90"], cur))
b[1].metric(
    f"Sales needed to make them up ({cur})",
    money(cost["sales_to_make_up"], cur),
    help=f"If they are lost: loss / net profit margin ({percent(cost['net_profit_margin'])}).",
)
b[2].metric(
    "Months of delay that eat a sale's profit",
    number(cost["months_of_delay"], 1, " months"),
    help=f"Net margin {percent(cost['net_profit_margin'])} / borrowing cost "
    f"{percent(cost['annual_borrowing_rate'])} a year x 12.",
)
st.caption(
    f"At a {percent(cost['net_profit_margin'])} net margin, every {money(1000, cur)} written "
    f"off needs {money(cost['sales_per_1000_lost'], cur)} of new sales to earn back."
)

st.subheader("Who owes the most")
table = ctx.read("customers")
owing = table[table["outstanding"].fillna(0) > 0].sort_values("overdue", ascending=False)
owing = owing[
    ["customer_id", "name", "tier", "manager", "outstanding", "overdue", "collection_rate"]
]
owing = owing.assign(tier=owing["tier"].map(charts.tier_label))
st.caption(f"{count(len(owing))} customers with open receivables, most overdue first.")
st.dataframe(
    rounded_columns(owing.head(500), {"outstanding": 0, "overdue": 0}),
    hide_index=True,
    placeholder=DASH,
    width="stretch",
    column_config={
        "customer_id": "Customer id",
        "name": "Customer",
        "tier": "Tier",
        "manager": "Account manager",
        "outstanding": st.column_config.NumberColumn(f"Open ({cur})", format="localized"),
        "overdue": st.column_config.NumberColumn(f"Overdue ({cur})", format="localized"),
        "collection_rate": st.column_config.NumberColumn("Collected", format="percent"),
    },
)
export_button(owing, name="receivables")
