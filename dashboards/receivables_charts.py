"""Receivables charts: open amounts by ageing bucket and days sales outstanding (DSO)
over time. The figures come computed from models.value.receivables; these only draw.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.chart_style import TIER_COLOURS, finish
from dashboards.formatting import money, rounded


def ageing_bars(ageing: pd.DataFrame, currency: str) -> go.Figure:
    """Open receivables by ageing bucket. ``ageing``: columns ``bucket``, ``amount``."""
    colours = ["#2E9E5B", "#C9A227", "#E08A2C", "#D0612B", "#C8372D"]
    amounts = pd.to_numeric(ageing["amount"]).astype(float)
    fig = go.Figure(
        go.Bar(
            x=ageing["bucket"].tolist(),
            y=amounts.tolist(),
            marker={"color": colours[: len(ageing)]},
            text=[money(a, currency, compact=True) for a in amounts],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.2f} " + currency + "<extra></extra>",
        )
    )
    fig = finish(fig, "Open receivables by days past due")
    fig.update_xaxes(title="Days past due")
    fig.update_yaxes(title=f"Amount open ({currency})")
    return fig


def dso_trend(trend: pd.DataFrame) -> go.Figure:
    """DSO over time. ``trend``: columns ``month`` (date) and ``dso`` (days)."""
    fig = go.Figure(
        go.Scatter(
            x=trend["month"].tolist(),
            y=rounded(trend["dso"], 1),
            mode="lines+markers",
            line={"color": TIER_COLOURS["strategic"], "width": 3},
            hovertemplate="%{x|%b %Y}: %{y:.1f} days<extra></extra>",
        )
    )
    fig = finish(fig, "Days sales outstanding (DSO)", showlegend=False)
    fig.update_xaxes(title="Month")
    fig.update_yaxes(title="DSO (days)", rangemode="tozero")
    return fig
