"""Customers: a filterable table of every customer, and one customer's page."""

import streamlit as st
from app_pages.data import engine, value_rules_in_force
from app_pages.exports import export_button
from app_pages.snapshot import start

from dashboards import charts
from dashboards.formatting import (
    DASH,
    FIRST_SNAPSHOT,
    NEW_SINCE_PREVIOUS,
    count,
    days,
    literal,
    money,
    not_comparable_yet,
    percent,
    previous,
    text,
)
from models.access import Action
from models.dashboard.read import CUSTOMER_TABLE_COLUMNS
from models.plans.read import find_plan

ctx = start(
    "Customers",
    "Every customer's tier, value and money owed. Filter, then pick a customer to open it.",
    Action.VIEW_CUSTOMER,
)
cur = ctx.currency
has_previous = ctx.head["previous_snapshot_id"] is not None
table = ctx.read("customers")
table["tier_label"] = table["tier"].map(charts.tier_label)

FILTERS = (
    ("tier_label", "Tier"),
    ("main_segment", "Segment"),
    ("region", "Region"),
    ("industry", "Industry"),
    ("manager", "Account manager"),
    ("group_name", "Customer group"),
)
chosen = {}
cols = st.columns(len(FILTERS))
for col, (field, label) in zip(cols, FILTERS, strict=True):
    values = table[field].dropna().astype(str)
    options = (
        [charts.tier_label(t) for t in charts.PYRAMID if charts.tier_label(t) in set(values)]
        if field == "tier_label"
        else sorted(values.unique())
    )
    chosen[field] = col.multiselect(label, options, key=f"filter_{field}", placeholder="All")
shown = table
for field, picked in chosen.items():
    if picked:
        shown = shown[shown[field].astype(str).isin(picked)]

st.caption(
    f"{count(len(shown))} of {count(len(table))} customers · revenue "
    f"{money(shown['revenue'].sum(), cur)} · "
    f"open receivables {money(shown['outstanding'].sum(), cur)}"
)
ctx.flag("customers", "invoice_lines", "payments")

money_fmt = "euro" if cur == "EUR" else ("dollar" if cur == "USD" else "localized")
# The read model's columns, with the tier as shown and without the migration text.
columns = ["tier_label" if c == "tier" else c for c in CUSTOMER_TABLE_COLUMNS if c != "migration"]


def was_tier(tier) -> str:
    """The previous tier's name; "new" or "first snapshot" when there was none."""
    return previous(charts.tier_label(tier) if text(tier, "") else None, has_previous)


view = shown[columns].assign(previous_tier=shown["previous_tier"].map(was_tier))
event = st.dataframe(
    view,
    hide_index=True,
    placeholder=DASH,
    width="stretch",
    height=420,
    key="customer_table",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "customer_id": "Customer id",
        "name": "Customer",
        "tier_label": "Tier",
        "previous_tier": "Previous tier",
        "score": st.column_config.NumberColumn("Score", format="%.2f"),
        "revenue": st.column_config.NumberColumn(f"Revenue 12m ({cur})", format=money_fmt),
        "growth": st.column_config.NumberColumn("Growth", format="percent"),
        "gross_margin_pct": st.column_config.NumberColumn("Margin", format="percent"),
        "collection_rate": st.column_config.NumberColumn("Collected", format="percent"),
        "on_time_share": st.column_config.NumberColumn("Paid on time", format="percent"),
        "region": "Region",
        "industry": "Industry",
        "manager": "Account manager",
        "group_name": "Group",
        "main_segment": "Segment",
        "outstanding": st.column_config.NumberColumn(f"Open ({cur})", format=money_fmt),
        "overdue": st.column_config.NumberColumn(f"Overdue ({cur})", format=money_fmt),
        "clv_12m": st.column_config.NumberColumn(f"CLV 12m ({cur})", format=money_fmt),
    },
)
export_button(shown.drop(columns=["tier_label"]), name="customers")

rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
# The picker lists the largest customers of the current filter (the table is sorted by
# revenue); thousands of options would slow every click. A selected row opens any customer.
PICKER_LIMIT = 1_000
listed = shown.head(PICKER_LIMIT)
labels = (listed["name"] + " · " + listed["customer_id"]).tolist()
if len(shown) > PICKER_LIMIT:
    st.caption(
        f"The list below holds the {PICKER_LIMIT:,} largest customers of this selection; "
        "filter the table or select a row in it to open any other."
    )
pick = st.selectbox(
    "Open a customer",
    range(len(labels)),
    index=rows[0] if rows and rows[0] < len(labels) else None,
    format_func=lambda i: labels[i],
    key="customer_pick",
    placeholder="Choose a customer (or select a row above)",
)
if rows:
    row = shown.iloc[rows[0]]
elif pick is not None:
    row = listed.iloc[pick]
else:
    st.stop()
cid = row["customer_id"]
st.header(f"{literal(row['name'])} ({literal(cid)})")
account_plan = find_plan(engine(ctx.url), cid)
if account_plan is not None:
    st.page_link(
        "app_pages/plan.py",
        label=f"Strategic-account plan: {literal(account_plan.title)} "
        f"({account_plan.status.value})",
        icon=":material/assignment:",
        query_params={"customer": cid},
    )
elif row["tier"] == "strategic":
    st.caption("A strategic account without a plan yet (see Account plans).")
history = ctx.read("customer_history_of", cid)
was = was_tier(row["previous_tier"])
was = {FIRST_SNAPSHOT: was, NEW_SINCE_PREVIOUS: "new since the previous snapshot"}.get(
    was, f"was {was}"
)
st.markdown(
    f"**Tier:** :{'red' if row['tier'] == 'problem' else 'blue'}[{row['tier_label']}]"
    f" ({was}) · "
    f"**Account manager:** {literal(text(row['manager']))} · "
    f"**Region:** {literal(text(row['region']))} · "
    f"**Industry:** {literal(text(row['industry']))} · "
    f"**Group:** {literal(text(row['group_name'], 'no group'))}"
)
m = st.columns(5)
m[0].metric(f"Revenue, 12 months ({cur})", money(row["revenue"], cur, compact=True))
m[1].metric("Growth", percent(row["growth"], signed=True))
m[2].metric("Gross margin", percent(row["gross_margin_pct"]))
m[3].metric("Collection rate", percent(row["collection_rate"]))
m[4].metric(f"CLV, next 12 months ({cur})", money(row["clv_12m"], cur, compact=True))

left, right = st.columns(2)
with left:
    if len(history) > 1:
        st.plotly_chart(charts.customer_history_chart(history, cur), width="stretch", key="hist")
    else:
        only = "this customer is in one so far" if has_previous else "there is one so far"
        st.info(not_comparable_yet("Revenue and score over time", only), icon=":material/timeline:")
with right:
    wallet = ctx.read("customer_wallet", cid)
    if len(wallet):
        st.plotly_chart(charts.wallet_bars(wallet, cur), width="stretch", key="wallet")
        white = wallet.loc[wallet["whitespace"].astype(bool), "product_line"].tolist()
        st.caption(
            "Whitespace (bought from others, not from us): "
            + (", ".join(literal(w) for w in white) or "none")
        )
    else:
        st.info("No purchase-potential estimates for this customer yet.")

st.subheader("Tier history and the reasons")
if len(history):
    latest = history.iloc[-1]
    st.markdown(
        f"**Why {charts.tier_label(latest['tier'])} now:** "
        + ("; ".join(latest["reasons"] or []) or "no reasons recorded")
    )
    if isinstance(latest["explanation"], str) and latest["explanation"]:
        st.markdown(f"**What moved since the previous snapshot:** {latest['explanation']}")
reasons = history.assign(
    tier=history["tier"].map(charts.tier_label),
    # A snapshot with none before it would read "new" for everyone: say why instead.
    migration=history["migration"].where(history["previous_snapshot_id"].notna(), FIRST_SNAPSHOT),
    reasons=history["reasons"].map(lambda r: "; ".join(r or [])),
    explanation=history["explanation"].where(history["explanation"].notna(), "–"),
)[["as_of", "tier", "migration", "reasons", "explanation"]]
st.dataframe(
    reasons.iloc[::-1],
    hide_index=True,
    placeholder=DASH,
    width="stretch",
    column_config={
        "as_of": "As of",
        "tier": "Tier",
        "migration": "Move",
        "reasons": st.column_config.TextColumn("Why this tier", width="large"),
        "explanation": st.column_config.TextColumn("What moved", width="large"),
    },
)

st.subheader("Receivables and late invoices")
rec = ctx.read("customer_receivables", cid, value_rules_in_force())
age = rec["ageing"]
if age:
    a = st.columns(5)
    a[0].metric(f"Open ({cur})", money(age["outstanding"], cur))
    a[1].metric(f"Overdue over 90 days ({cur})", money(age["days_over_90"], cur))
    a[2].metric(
        f"Sales to make them up ({cur})",
        money(age["sales_to_recover_90"], cur),
        help="If the receivables over 90 days are lost: loss / net profit margin.",
    )
    a[3].metric("DSO", days(age["dso_days"]))
    a[4].metric(f"Cost of late payment ({cur})", money(age["late_cost"], cur))
late = rec["late"]
if len(late):
    st.dataframe(
        late,
        hide_index=True,
        placeholder=DASH,
        width="stretch",
        column_config={
            "invoice_id": "Invoice",
            "invoice_date": "Invoiced",
            "due_date": "Due",
            "settled_on": "Settled",
            "amount_due": st.column_config.NumberColumn(f"Amount ({cur})", format=money_fmt),
            "days_late": st.column_config.NumberColumn("Days late", format="%d"),
            "cost_of_delay": st.column_config.NumberColumn(
                f"Cost of delay ({cur})", format=money_fmt
            ),
        },
    )
    export_button(late, name=f"late-invoices-{cid}")
else:
    st.caption("No late invoices in the last 12 months.")
ctx.flag("invoice_lines", "payments")
