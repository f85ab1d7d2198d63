"""Funnel and forecast: where the open deals stand, which to chase, what the coming
periods should bring and how good past forecasts were. Read from the funnel the
recompute stored with the snapshot."""

import pandas as pd
import streamlit as st
from app_pages.data import engine
from app_pages.exports import export_button
from app_pages.snapshot import CACHE_TTL_SECONDS, start
from app_pages.tables import table

from dashboards import charts
from dashboards import funnel_charts as fc
from dashboards.formatting import count, money, percent
from models.access import Role
from models.funnel import read as funnel

NO_VALUE = "–"
FILTERS = {"owners": "Owner", "product_lines": "Product line", "tiers": "Tier"}


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=32, show_spinner=False)
def view(url: str, snapshot_id: int, owners=(), lines=(), tiers=(), accounts=None):
    """``models.funnel.read.funnel_view`` for one selection, cached per snapshot."""
    return funnel.funnel_view(engine(url), snapshot_id, owners, lines, tiers, accounts)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as displayed: stages, states and tiers in words, periods by their label."""
    out = frame.copy()
    if "stage" in out:
        out["stage"] = out["stage"].map(fc.stage_label)
    if "state" in out:
        out["state"] = out["state"].str.capitalize()
    if "tier" in out:
        out["tier"] = out["tier"].map(lambda t: charts.tier_label(t) if isinstance(t, str) else t)
    if "period_start" in out:
        out.insert(0, "period", [fc.period_label(p, kind) for p in out["period_start"]])
    return out


def per_period(deals: str, won: str) -> dict:
    """The columns of a table of forecasts per period: the period, the deals counted, the
    learned and naive forecasts and what was won."""
    return {
        "period": kind.capitalize(),
        "deals": st.column_config.NumberColumn(deals, format="%d"),
        "learned": st.column_config.NumberColumn(f"Learned ({cur})", format=MONEY),
        "naive": st.column_config.NumberColumn(f"Naive ({cur})", format=MONEY),
        "won": st.column_config.NumberColumn(f"{won} ({cur})", format=MONEY),
    }


ctx = start(
    "Funnel and forecast",
    "Where the open deals stand, which to chase, what the coming periods should bring, "
    "and how good past forecasts were.",
)
cur = ctx.currency
MONEY = "euro" if cur == "EUR" else ("dollar" if cur == "USD" else "localized")
whole = view(ctx.url, ctx.snapshot_id, (), (), (), None)
if whole is None:
    st.info(
        f"Snapshot {ctx.snapshot_id} holds no funnel: it was computed before every "
        "recompute stored the funnel and the forecast. Run `accountops recompute` to compute "
        "a new snapshot with them (`accountops pipeline` recomputes and publishes it to the "
        "dashboard in one go), then reload.",
        icon=":material/filter_alt:",
    )
    st.stop()

rules = funnel.rules_used(whole["run"])  # as the recompute applied them, not today's file
identity = ctx.identity
accounts = None
if identity.role == Role.ACCOUNT_MANAGER:
    # An account manager sees their own book only: no switch to the whole funnel, so the
    # deals of other managers' customers are never read for this page.
    accounts = funnel.accounts_in_scope(engine(ctx.url), identity)
    st.caption("The deals of the accounts you manage.")
elif identity.role in funnel.WORKS_ON_OWN and not st.toggle("Show every deal", key="funnel_all"):
    accounts = funnel.accounts_in_scope(engine(ctx.url), identity)
    st.caption(
        "The deals of the accounts assigned to you; switch on *Show every deal* for the "
        "whole funnel."
    )
options = view(ctx.url, ctx.snapshot_id, (), (), (), accounts)["options"]
options["tiers"] = {t: charts.tier_label(t) for t in options["tiers"]}
chosen = {}
for column, (name, label) in zip(st.columns(3), FILTERS.items(), strict=True):
    chosen[name] = column.multiselect(
        label,
        list(options[name]),
        format_func=options[name].get,
        key=f"funnel_{name}",
        placeholder="All",
    )
owners, lines, tiers = chosen["owners"], chosen["product_lines"], chosen["tiers"]
v = view(ctx.url, ctx.snapshot_id, tuple(owners), tuple(lines), tuple(tiers), accounts)
run, kind = v["run"], v["run"]["period"]
now = fc.period_label(run["period_start"], kind)  # the states' period: the as-of date's
first = fc.period_label(run["forecast_start"], kind)  # on its last day, the next one
filtered = bool(owners or lines or tiers)
narrowed = accounts is not None or filtered
if v["deals"] == 0:
    if filtered:
        st.info("No deal in this selection.", icon=":material/filter_alt_off:")
    elif narrowed:
        st.info("None of your accounts has a deal in this snapshot.", icon=":material/info:")
    else:
        st.info(
            "This snapshot holds no opportunity. Ingest `opportunities.csv` and "
            "`opportunity_stages.csv`, then run `accountops pipeline`, and reload.",
            icon=":material/info:",
        )
    st.stop()

fun, chase, ahead = v["funnel"], v["chase"], v["forecast_totals"]
this = ahead[ahead["period_start"] == run["forecast_start"]]
states = v["states"].set_index("state")
m = st.columns(5)
m[0].metric("Open deals", count(fun["open_deals"].sum()))
m[1].metric(f"Open pipeline ({cur})", money(fun["open_amount"].sum(), cur, compact=True))
m[2].metric(
    f"Forecast {first} ({cur})",
    money(this["learned"].sum(), cur, compact=True) if len(this) else NO_VALUE,
    help="Learned weighted forecast of the open deals expected to close this "
    f"{kind} (naive: {money(this['naive'].sum(), cur)}).",
)
m[3].metric(
    f"Won in {now} so far ({cur})",
    money(states["amount"].get("won", 0), cur, compact=True),
    help=f"{count(states['deals'].get('won', 0))} deals won since the {kind} began.",
)
m[4].metric(
    "Deals to chase",
    count(len(chase)),
    help=f"{count(states['deals'].get('stalled', 0))} stalled and "
    f"{count(states['deals'].get('regressed', 0))} regressed this {kind}.",
)
ctx.flag("opportunities", "opportunity_stages")
st.caption(
    f"The funnel on {run['as_of']:%d %b %Y}; states over {now} so far: "
    + ", ".join(f"{count(n)} {s}" for s, n in states["deals"].items())
    + "."
)
if narrowed:
    st.caption(
        "The selection narrows the funnel, the states, the deals to chase and the forecast. "
        "Conversion, time in stage, the bulge and the backtest stay the whole funnel's: they "
        "need every deal's history, which the snapshot keeps for the whole funnel."
    )

st.subheader("The funnel")
left, right = st.columns(2)
with left:
    bulge = None if narrowed else run["bulge_stage"]
    st.plotly_chart(fc.funnel_stages(fun, cur, bulge), width="stretch", key="funnel_stages")
with right:
    st.plotly_chart(fc.conversion_bars(v["stages"]), width="stretch", key="funnel_conversion")
middle = ", ".join(fc.stage_label(s) for s in rules.middle_stages)
if run["middle_share"] is None:
    st.caption("No open deal in the whole funnel: nothing to diagnose.")
elif run["bulge_stage"]:
    st.warning(
        f"The funnel bulges at **{fc.stage_label(run['bulge_stage'])}**: the middle stages "
        f"({middle}) hold {percent(run['middle_share'])} of the open deals (more than "
        f"{percent(rules.bulge_share_above, digits=0)}), a sign that deals stall there.",
        icon=":material/warning:",
    )
else:
    st.caption(
        f"No bulge: the middle stages ({middle}) hold {percent(run['middle_share'])} of the "
        f"open deals (a bulge is more than {percent(rules.bulge_share_above, digits=0)})."
    )
with st.expander("Stages: conversion, time in stage and win probabilities", expanded=False):
    stages = v["stages"]
    table(
        shown(stages),
        "funnel_stages_table",
        stage="Stage",
        open_deals=st.column_config.NumberColumn("Open deals", format="%d"),
        open_amount=st.column_config.NumberColumn(f"Open ({cur})", format=MONEY),
        reached=st.column_config.NumberColumn("Reached it", format="%d"),
        conversion=st.column_config.NumberColumn("Moved on", format="percent"),
        median_days=st.column_config.NumberColumn("Days in it: median", format="%.0f"),
        p25_days=st.column_config.NumberColumn("Lower quartile", format="%.0f"),
        p75_days=st.column_config.NumberColumn("Upper quartile", format="%.0f"),
        probability=st.column_config.NumberColumn("Learned win probability", format="percent"),
        stalled_probability=st.column_config.NumberColumn("Learned, stalled", format="percent"),
        naive_probability=st.column_config.NumberColumn("Naive", format="percent"),
    )
    st.caption(
        "Whole funnel. **Moved on**: of the deals decided at the stage (not still open at "
        "the furthest stage they reached), the share that reached the next one. **Days in "
        "it**: completed stays, median and quartiles. **Learned win probability**: the "
        f"chance that a deal at the stage is won in the {kind} it is expected to close in, "
        f"learned from the closed {kind}s (**stalled**: of the deals that had not moved for "
        f"{rules.stalled_after_days} days)."
    )
    export_button(stages, name="funnel-stages")

st.subheader("Deals to chase")
if chase.empty:
    st.success(f"No stalled or regressed deal in this selection in {now}.")
else:
    table(
        shown(chase),
        "funnel_chase_table",
        opportunity_id="Deal",
        customer=st.column_config.TextColumn("Customer", width="medium"),
        owner_name="Owner",
        stage="Stage",
        state="State",
        days_in_stage=st.column_config.NumberColumn("Days in stage", format="%d"),
        amount=st.column_config.NumberColumn(f"Amount ({cur})", format=MONEY),
        expected_close_on=st.column_config.DateColumn("Expected close", format="D MMM YYYY"),
        weighted_amount=st.column_config.NumberColumn(f"Weighted ({cur})", format=MONEY),
        tier="Tier",
        product_line="Product line",
    )
    st.caption(
        f"**Stalled**: open with no stage change for {rules.stalled_after_days} days or more; "
        f"**regressed**: at an earlier stage than when {now} began. Largest amount first."
    )
    export_button(chase, name="funnel-deals-to-chase")

st.subheader("Forecast")
if not run["periods"]:
    st.info("No open deal has an expected close in the coming periods: nothing to forecast.")
else:
    st.plotly_chart(fc.forecast_bars(ahead, cur, kind), width="stretch", key="funnel_forecast")
    table(
        shown(ahead),
        "funnel_forecast_table",
        **per_period("Open deals", "Won so far"),
    )
    st.caption(
        "**Learned**: each open deal's amount x its learned win probability (per "
        f"{run['segment_by'].replace('_', ' ')} where its history is long enough, lower once "
        f"stalled); **naive**: amount x a fixed probability per stage. A deal counts in the "
        f"{kind} of its expected close, in {first} once that date has passed"
        + (
            f"; {count(v['no_close_date'])} open deals have no expected close and are left out."
            if v["no_close_date"]
            else "."
        )
        + " The download has the forecast per owner."
    )
    export_button(v["forecast"], name="funnel-forecast")

st.subheader("Backtest: how good were past forecasts?")
tested = v["backtest"]
b = st.columns(3)
b[0].metric("Learned forecast error", percent(run["learned_error"]))
b[1].metric("Naive forecast error", percent(run["naive_error"]))
b[2].metric(f"Closed {kind}s tested", count(run["backtest_periods"]))
if tested.empty:
    st.info(f"No closed {kind} to test the forecast on yet.")
else:
    st.plotly_chart(fc.backtest_errors(tested, kind), width="stretch", key="funnel_backtest")
    table(
        shown(tested),
        "funnel_backtest_table",
        **per_period("Deals forecast", "Won"),
        learned_error=st.column_config.NumberColumn("Learned error", format="percent"),
        naive_error=st.column_config.NumberColumn("Naive error", format="percent"),
    )
    st.caption(
        f"Whole funnel. Each closed {kind} replayed on its eve with what was known then, "
        "against the amount won during it. **Error**: |forecast - won| / won; the figures "
        f"above are its mean over the {kind}s in which something was won. A well-run funnel "
        "forecasts within 5-10%."
    )
    export_button(tested, name="funnel-backtest")

st.subheader("Forecasts the snapshots made, as their periods closed")
track = v["track"]
if track.empty:
    st.caption(
        f"No {kind} has closed yet since a snapshot forecast it: each recompute stores its "
        f"forecast, and here it meets what was won once the {kind} is over."
    )
else:
    table(
        shown(track.drop(columns=["forecast_snapshot_id"])),
        "funnel_track_table",
        forecast_as_of=st.column_config.DateColumn("Forecast made on"),
        **per_period("Deals forecast", "Won"),
        learned_error=st.column_config.NumberColumn("Learned error", format="percent"),
        naive_error=st.column_config.NumberColumn("Naive error", format="percent"),
    )
    st.caption(
        f"Whole funnel. Per {kind}, the forecast stored by the last snapshot taken before "
        "it began, beside the amount won in it."
    )
