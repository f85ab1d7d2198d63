"""Attack / defend: purchase potential x share of wallet, and where manager effort goes."""

import streamlit as st
from app_pages.data import config, value_rules_in_force
from app_pages.exports import export_button
from app_pages.snapshot import start

from dashboards import charts
from dashboards.formatting import DASH, count, money, percent, rounded_columns
from models.dashboard.refresh import dashboard_settings

ctx = start(
    "Attack / defend",
    "Each account (customer x product line) by its purchase potential and our share of it: "
    "acquire and disrupt to grow, retain to defend, maintain or abandon to save effort.",
)
cur = ctx.currency
effort = ctx.read("segment_effort")
summary = ctx.read("segment_totals", value_rules_in_force())
by_segment = summary["by_segment"]
cols = st.columns(max(len(by_segment), 1))
for col, (segment, r) in zip(cols, by_segment.iterrows(), strict=False):
    share = r["share"]
    col.metric(
        f"{segment.capitalize()} accounts",
        count(r["accounts"]),
        help=f"Potential {money(r['potential'], cur)}, our revenue {money(r['revenue'], cur)}.",
    )
    col.caption(f"{money(r['potential'], cur, compact=True)} potential · share {percent(share)}")
ctx.flag("wallet_estimates", "invoice_lines")

points = ctx.read("segment_points", int(dashboard_settings(config())["scatter_points"]))
fig = charts.attack_defend_scatter(points, cur)
high = summary["high_share"]
fig.add_hline(
    y=high * 100,
    line_dash="dot",
    line_color="#666",
    annotation_text=f"high share from {percent(high, digits=0)}",
)
st.plotly_chart(fig, width="stretch", key="scatter")
total = int(by_segment["accounts"].sum()) if len(by_segment) else 0
st.caption(
    f"Showing the {count(len(points))} largest of {count(total)} accounts by potential. "
    "Potential is high / low against the other customers' wallets in the same product line "
    "(top third / bottom third), so the segments are not straight lines on this chart."
)

st.plotly_chart(charts.segment_effort_bars(effort), width="stretch", key="effort")
table = effort[["manager", "segment", "accounts", "customers", "potential", "revenue"]]
st.dataframe(
    rounded_columns(table, {"potential": 0, "revenue": 0}).assign(
        segment=table["segment"].str.capitalize()
    ),
    hide_index=True,
    placeholder=DASH,
    width="stretch",
    column_config={
        "manager": "Account manager",
        "segment": "Segment",
        "accounts": st.column_config.NumberColumn("Accounts", format="%d"),
        "customers": st.column_config.NumberColumn("Customers", format="%d"),
        "potential": st.column_config.NumberColumn(f"Potential ({cur})", format="localized"),
        "revenue": st.column_config.NumberColumn(f"Our revenue ({cur})", format="localized"),
    },
)
export_button(table, name="segment-effort")
