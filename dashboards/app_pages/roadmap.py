"""Roadmap vs strategy: is the product roadmap delivering what the strategic accounts need,
and in time? Read from the matching the recompute stored with the snapshot."""

from functools import partial

import pandas as pd
import streamlit as st
from app_pages import tables
from app_pages.data import engine, roadmap_rules_in_force
from app_pages.exports import export_button
from app_pages.snapshot import CACHE_TTL_SECONDS, start

from dashboards import charts
from dashboards import roadmap_charts as rc
from dashboards.formatting import count, literal, money, percent
from models.plans.read import find_plan
from models.roadmap import read as roadmap

UNKNOWN = "unknown"
table = partial(tables.table, empty=UNKNOWN)  # a missing value of the roadmap reads "unknown"
HEATMAP_ROWS = 30  # accounts drawn, largest value at stake first: a heatmap stays readable
PICKER_LIMIT = 1_000  # accounts offered in the timeline's picker


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=32, show_spinner=False)
def view(url: str, snapshot_id: int, book, tiers=(), managers=(), lines=()) -> dict:
    """``models.roadmap.read.roadmap_view`` for one choice of filters and one reader's book
    (:func:`models.access.book_of`), cached per snapshot."""
    return roadmap.roadmap_view(
        engine(url), snapshot_id, roadmap.STRATEGIC, tiers, managers, lines, book=book
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=16, show_spinner=False)
def stored(url: str, snapshot_id: int) -> int:
    return roadmap.stored_initiatives(engine(url), snapshot_id)


def amount(value, compact: bool = True) -> str:
    return UNKNOWN if value is None or pd.isna(value) else money(value, cur, compact=compact)


def share(value) -> str:
    return UNKNOWN if value is None else percent(value)


def shown(frame: pd.DataFrame, *numbers: str) -> pd.DataFrame:
    """A table as displayed: amounts and shares as floats (unknown stays empty and reads
    "unknown"), tiers by their label, states and statuses in words."""
    out = frame.copy()
    for col in numbers:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    if "tier" in out:
        out["tier"] = out["tier"].map(lambda t: charts.tier_label(t) if isinstance(t, str) else t)
    for col in ("status", "timing"):
        if col in out:
            out[col] = out[col].map(lambda v: v.replace("_", " ") if isinstance(v, str) else v)
    return out


def unknown_count(frame: pd.DataFrame) -> dict:
    """The column of initiatives of unknown value, when there are any."""
    if not frame["value_unknown"].astype(int).any():
        return {}
    return {"value_unknown": st.column_config.NumberColumn("Of unknown value", format="%d")}


def joined(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists (capability tags, item ids) as ``;``-separated text, for tables and downloads."""
    out = frame.copy()
    for col in ("capabilities", "served_by"):
        if col in out:
            out[col] = out[col].map(lambda v: "; ".join(v))
    return out


ctx = start(
    "Roadmap vs strategy",
    "Is the product roadmap delivering what our strategic accounts need, and in time?",
)
cur = ctx.currency
MONEY = "euro" if cur == "EUR" else ("dollar" if cur == "USD" else "localized")
if not stored(ctx.url, ctx.snapshot_id):
    st.info(
        f"Snapshot {ctx.snapshot_id} holds no roadmap matching: no open customer initiative "
        "was on file when it was computed. Ingest `roadmap_items.csv` and `initiatives.csv`, "
        "then run `accountops pipeline` (every recompute matches the roadmap), and reload.",
        icon=":material/route:",
    )
    st.stop()

whole = view(ctx.url, ctx.snapshot_id, ctx.book)
weights = roadmap_rules_in_force().priority_weights
st.caption(
    f":material/star: **Strategic accounts** are {whole['rule']}. **Value at stake**: an "
    "account's revenue of the last 12 months, shared over its open initiatives by priority "
    f"(weights {', '.join(f'{p} {w:g}' for p, w in weights.items())}). Matches the text "
    "suggests count only once a planner confirms them."
)
names = dict(
    zip(whole["serving"]["product_line_id"], whole["serving"]["product_line"], strict=True)
)
accounts = whole["accounts"]
tier_options = [t for t in charts.PYRAMID if t in set(accounts["tier"].dropna())]
f = st.columns(3)
lines = f[0].multiselect(
    "Product line",
    sorted(names, key=lambda p: names[p]),
    format_func=names.get,
    key="roadmap_lines",
    placeholder="All",
)
tiers = f[1].multiselect(
    "Tier", tier_options, format_func=charts.tier_label, key="roadmap_tiers", placeholder="All"
)
managers = f[2].multiselect(
    "Account manager",
    sorted(accounts["manager"].dropna().unique()),
    key="roadmap_managers",
    placeholder="All",
)
v = view(ctx.url, ctx.snapshot_id, ctx.book, tuple(tiers), tuple(managers), tuple(lines))
cov, pairs, ranks = v["coverage"], v["serving"], v["rankings"]
h = ranks["headline"]
in_scope = accounts
if tiers:
    in_scope = in_scope[in_scope["tier"].isin(tiers)]
if managers:
    in_scope = in_scope[in_scope["manager"].isin(managers)]
if lines:
    st.caption(
        "The product-line filter narrows the roadmap side (heatmap columns, items, timing "
        "misses, the timeline). Headline figures and unserved needs stay over the whole "
        "roadmap: a need nothing serves belongs to no product line."
    )

m = st.columns(5)
m[0].metric(
    "Accounts with initiatives",
    f"{count(h['accounts'])} of {count(len(in_scope))}",
    help="Strategic accounts in this selection with an open (planned or active) "
    "initiative on file, of all strategic accounts in it.",
)
m[1].metric(
    f"Value at stake ({cur})",
    amount(h["value"]),
    help=f"{count(h['initiatives'])} open initiatives"
    + (
        f"; {count(h['value_unknown'])} of unknown value (the account's revenue is unknown) "
        "are left out of the value and the shares."
        if h["value_unknown"]
        else "."
    ),
)
m[2].metric("Covered in time", share(h["in_time"]), help="Share of the value at stake.")
m[3].metric("Covered late", share(h["late"]), help="Share of the value at stake.")
m[4].metric("Gap: nothing serves", share(h["gap"]), help="Share of the value at stake.")
ctx.flag("customers", "invoice_lines")

if cov.empty:
    st.info("No open initiative of a strategic account in this selection.")
    st.stop()

order = ranks["accounts"]
label = dict(zip(order["customer_id"], order["account"].fillna(order["customer_id"]), strict=True))
twice = {n for n in label.values() if list(label.values()).count(n) > 1}
label = {c: f"{n} ({c})" if n in twice else n for c, n in label.items()}
grid = v["grid"].assign(account=lambda g: g["customer_id"].map(label))
columns = sorted(set(grid["product_line"]) - {roadmap.NOTHING_SERVES})
columns += [roadmap.NOTHING_SERVES] if roadmap.NOTHING_SERVES in set(grid["product_line"]) else []
top = list(order["customer_id"].head(HEATMAP_ROWS))
st.plotly_chart(
    rc.coverage_heatmap(grid[grid["customer_id"].isin(top)], cur, [label[c] for c in top], columns),
    width="stretch",
    key="roadmap_heatmap",
)
st.caption(
    "A cell holds the account's open initiatives that items of that product line serve. "
    "The line serves an initiative **in time** when one of its items releases by the "
    "needed-by date, else **late** (the label gives the most months late); the worst of the "
    f"cell's initiatives wins. **{roadmap.NOTHING_SERVES}** holds the initiatives no item "
    "serves at all (**gap**). Pale amber: late on this line, but another line serves "
    "those initiatives in time. Grey: the line serves none of the account's initiatives. "
    "Hover a cell for its initiatives and value. "
    "Accounts by value at stake, largest first"
    + (
        f"; the {HEATMAP_ROWS} largest of {count(len(order))} shown (filter by tier or "
        "account manager for the others, or see the accounts table)."
        if len(order) > HEATMAP_ROWS
        else "."
    )
)
with st.expander("Accounts: value at stake and how it is covered", expanded=False):
    table(
        shown(order, "value_at_stake", "in_time", "late", "gap"),
        "roadmap_accounts",
        account="Account",
        tier="Tier",
        manager="Account manager",
        has_plan=st.column_config.CheckboxColumn("Plan"),
        initiatives=st.column_config.NumberColumn("Open initiatives", format="%d"),
        value_at_stake=st.column_config.NumberColumn(f"At stake ({cur})", format=MONEY),
        in_time=st.column_config.NumberColumn("In time", format="percent"),
        late=st.column_config.NumberColumn("Late", format="percent"),
        gap=st.column_config.NumberColumn("Gap", format="percent"),
    )
    export_button(order, name="roadmap-accounts")
    st.caption("Every open initiative of these accounts with the items serving it:")
    export_button(joined(cov), name="roadmap-initiatives", label="Download initiatives")

st.subheader("Roadmap items serving the most strategic value")
items = ranks["items"]
if items.empty:
    st.info("No roadmap item of this selection serves a strategic initiative.")
else:
    st.plotly_chart(rc.items_bars(items, cur), width="stretch", key="roadmap_items")
    table(
        shown(items, "value_served"),
        "roadmap_items_table",
        roadmap_item_id="Item",
        item="Title",
        product_line="Product line",
        release_on=st.column_config.DateColumn("Release", format="D MMM YYYY"),
        status="Status",
        accounts=st.column_config.NumberColumn("Accounts", format="%d"),
        initiatives=st.column_config.NumberColumn("Initiatives", format="%d"),
        value_served=st.column_config.NumberColumn(f"Value served ({cur})", format=MONEY),
        **unknown_count(items),
    )
    export_button(items, name="roadmap-items")

st.subheader("Needs nothing on the roadmap serves")
gaps = ranks["unserved"]
if gaps.empty:
    st.success("Every open initiative of these accounts is served by a roadmap item.")
else:
    left, right = st.columns([5, 6])
    with left:
        st.plotly_chart(rc.unserved_bars(gaps, cur), width="stretch", key="roadmap_unserved")
    with right:
        table(
            shown(gaps, "value_at_stake"),
            "roadmap_unserved_table",
            capability="Capability",
            initiatives=st.column_config.NumberColumn("Initiatives", format="%d"),
            accounts=st.column_config.NumberColumn("Accounts", format="%d"),
            value_at_stake=st.column_config.NumberColumn(f"At stake ({cur})", format=MONEY),
            **unknown_count(gaps),
        )
        st.caption("An initiative needing several capabilities counts under each of them.")
        export_button(gaps, name="roadmap-unserved")

st.subheader("Timing misses")
misses = ranks["misses"]
if misses.empty:
    st.success("No initiative of this selection is served only late.")
else:
    left, right = st.columns([4, 7])
    with left:
        st.plotly_chart(rc.misses_scatter(misses, cur), width="stretch", key="roadmap_misses")
        unplotted = int(misses["value_at_stake"].isna().sum())
        if unplotted:
            st.caption(f"{unplotted} late initiatives of unknown value are not plotted.")
    with right:
        table(
            shown(misses, "value_at_stake", "weight"),
            "roadmap_misses_table",
            account=st.column_config.TextColumn("Account", width="medium"),
            initiative=st.column_config.TextColumn("Initiative", width="medium"),
            needed_by=st.column_config.DateColumn("Needed by", format="D MMM YYYY"),
            first_release=st.column_config.DateColumn("First release", format="D MMM YYYY"),
            months_late=st.column_config.NumberColumn("Months late", format="%d"),
            value_at_stake=st.column_config.NumberColumn(f"At stake ({cur})", format=MONEY),
        )
        st.caption(
            "Late: only items releasing after the needed-by date serve it. Ranked by months "
            "late x value at stake (the download has it), unknown values last."
        )
        export_button(misses, name="roadmap-timing-misses")

st.subheader("One account: needed by against the roadmap")
ids = list(order["customer_id"].head(PICKER_LIMIT))
pick = st.selectbox(
    "Account", ids, format_func=label.get, key="roadmap_account", index=0 if ids else None
)
if pick is None:
    st.stop()
mine, served = cov[cov["customer_id"] == pick], pairs[pairs["customer_id"] == pick]
row = order.set_index("customer_id").loc[pick]
st.markdown(
    f"**Tier:** {charts.tier_label(row['tier']) if isinstance(row['tier'], str) else UNKNOWN} · "
    f"**Account manager:** "
    f"{literal(row['manager']) if isinstance(row['manager'], str) else UNKNOWN} · "
    f"**At stake:** {amount(row['value_at_stake'], compact=False)} · "
    f"**In time / late / gap:** {share(row['in_time'])} / {share(row['late'])} / "
    f"{share(row['gap'])}"
)
plan = find_plan(engine(ctx.url), pick)
if plan is not None:
    st.page_link(
        "app_pages/plan.py",
        label=f"Strategic-account plan: {literal(plan.title)} ({plan.status.value})",
        icon=":material/assignment:",
        query_params={"customer": pick},
    )
else:
    st.caption("No account plan yet (see Account plans).")
st.plotly_chart(
    rc.account_timeline(mine, served, ctx.prov.as_of), width="stretch", key="roadmap_timeline"
)
detail = served.merge(
    mine[["initiative_id", "initiative", "needed_by"]], on="initiative_id", how="right"
)
nothing = detail["roadmap_item_id"].isna()
detail["timing"] = detail["timing"].where(~nothing, "gap")
detail["item"] = detail["item"].where(~nothing, roadmap.NOTHING_SERVES.lower())
table(
    shown(detail),
    "roadmap_account_table",
    empty="–",
    initiative=st.column_config.TextColumn("Initiative", width="medium"),
    needed_by=st.column_config.DateColumn("Needed by", format="D MMM YYYY"),
    roadmap_item_id="Item",
    item=st.column_config.TextColumn("Serving item", width="medium"),
    product_line="Product line",
    release_on=st.column_config.DateColumn("Release", format="D MMM YYYY"),
    timing="Timing",
    months_late=st.column_config.NumberColumn("Months late", format="%d"),
)
export_button(detail, name=f"roadmap-{pick}")
