"""Chart builders of the "Funnel and forecast" page: plain data in, a Plotly figure out.

The figures come computed (models/funnel/read.py); these only draw. One colour per
forecast everywhere on the page: learned blue, naive grey, won green; a bulging stage is
amber. A value that is unknown (a conversion with nothing decided, a period's error with
nothing won) is left out of a chart, never drawn as 0.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from dashboards.chart_style import TIER_COLOURS, finish
from dashboards.formatting import count, money, percent
from models.value.numbers import half_up

LEARNED, NAIVE, WON = TIER_COLOURS["strategic"], TIER_COLOURS["general"], TIER_COLOURS["potential"]
BULGE = "#E08A2C"
STAGE = "#6A8CAF"


def stage_label(stage: str) -> str:
    """``discover_needs`` -> "Discover needs"."""
    return stage.replace("_", " ").capitalize()


def period_label(start: date, period: str) -> str:
    """A period by its first day: "Q3 2026" for a quarter, "Sep 2026" for a month."""
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start:%b %Y}"


def _floats(values: pd.Series) -> list[float | None]:
    """Numbers as floats, unknown as None (a gap in the chart, never 0)."""
    return [None if pd.isna(v) else float(v) for v in pd.to_numeric(values, errors="coerce")]


def funnel_stages(funnel: pd.DataFrame, currency: str, bulge_stage: str | None = None) -> go.Figure:
    """Open deals per funnel stage, first stage on top; the label gives the deals and their
    amount. ``funnel``: columns ``stage``, ``open_deals``, ``open_amount``, in funnel
    order. ``bulge_stage``: the stage drawn amber (the middle stages bulge there)."""
    amounts = _floats(funnel["open_amount"])
    fig = go.Figure(
        go.Funnel(
            y=[stage_label(s) for s in funnel["stage"]],
            x=funnel["open_deals"].astype(int).tolist(),
            text=[
                f"{count(n)} deals · {money(a, currency, compact=True)}"
                for n, a in zip(funnel["open_deals"], amounts, strict=True)
            ],
            textinfo="text",
            textposition="inside",
            marker={"color": [BULGE if s == bulge_stage else STAGE for s in funnel["stage"]]},
            connector={"visible": False},
            customdata=[[a] for a in amounts],
            hovertemplate="%{y}: %{x:,} open deals, %{customdata[0]:,.0f} "
            + currency
            + "<extra></extra>",
        )
    )
    fig = finish(fig, f"Open deals per stage (count · amount in {currency})")
    fig.update_yaxes(title=None)
    return fig


def conversion_bars(stages: pd.DataFrame) -> go.Figure:
    """The share of the deals decided at each stage that went on to the next one (won,
    after the last). ``stages``: columns ``stage``, ``conversion`` (None: nothing decided
    there yet, left out), ``decided``, ``reached``."""
    names = [stage_label(s) for s in stages["stage"]]
    steps = [f"{a} → {b}" for a, b in zip(names, [*names[1:], "Won"], strict=True)]
    shares = _floats(stages["conversion"])
    fig = go.Figure(
        go.Bar(
            x=[None if s is None else half_up(s * 100, 1) for s in shares],
            y=steps,
            orientation="h",
            marker={"color": STAGE},
            text=[percent(s) if s is not None else "" for s in shares],
            textposition="outside",
            cliponaxis=False,
            customdata=stages[["decided", "reached"]].astype(int).to_numpy().tolist(),
            hovertemplate="%{y}: %{x:.1f}% of %{customdata[0]:,} deals decided there "
            "(%{customdata[1]:,} reached it)<extra></extra>",
        )
    )
    fig = finish(fig, "Conversion to the next stage (%)", showlegend=False)
    fig.update_xaxes(title="Moved on (% of the deals decided at the stage)", range=[0, 115])
    fig.update_yaxes(title=None, autorange="reversed", automargin=True)
    return fig


def _per_period(fig: go.Figure, title: str, period: str, y_title: str, **layout) -> go.Figure:
    """The house layout for a chart over periods: legend on top, periods along x."""
    legend = {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}
    fig = finish(fig, title, legend=legend, **layout)
    fig.update_layout(margin={"t": 80})
    fig.update_xaxes(title=period.capitalize())
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return fig


FORECASTS = (("learned", "Learned forecast", LEARNED), ("naive", "Naive forecast", NAIVE))


def forecast_bars(totals: pd.DataFrame, currency: str, period: str) -> go.Figure:
    """Per coming period: the learned and the naive weighted forecast beside the amount
    won in it so far. ``totals``: columns ``period_start``, ``learned``, ``naive``,
    ``won`` (None: the period has not begun, not drawn); ``period``: "month" or
    "quarter"."""
    labels = [period_label(p, period) for p in totals["period_start"]]
    fig = go.Figure()
    for col, name, colour in (*FORECASTS, ("won", "Won so far", WON)):
        values = _floats(totals[col])
        fig.add_trace(
            go.Bar(
                x=labels,
                y=values,
                name=name,
                marker={"color": colour},
                text=["" if v is None else money(v, currency, compact=True) for v in values],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency} ({name.lower()})<extra></extra>",
            )
        )
    title = f"Forecast of the coming {period}s ({currency})"
    return _per_period(fig, title, period, f"Amount ({currency})", barmode="group")


def backtest_errors(backtest: pd.DataFrame, period: str) -> go.Figure:
    """Per closed period: how far the learned and the naive forecast made on its eve were
    from the amount won in it (absolute error, % of the amount won). ``backtest``:
    columns ``period_start``, ``learned_error``, ``naive_error`` (None: nothing won, left
    out)."""
    labels = [period_label(p, period) for p in backtest["period_start"]]
    fig = go.Figure()
    for col, name, colour in FORECASTS:
        errors = _floats(backtest[f"{col}_error"])
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=[None if e is None else half_up(e * 100, 1) for e in errors],
                name=name,
                mode="lines+markers",
                line={"color": colour, "width": 3},
                connectgaps=False,
                hovertemplate=f"%{{x}}: {name.lower()} off by %{{y:.1f}}% of the amount won"
                "<extra></extra>",
            )
        )
    title = "Backtest: forecast error per closed period (% of the amount won)"
    return _per_period(fig, title, period, "Absolute error (% of the amount won)")
