"""Revenue concentration: the Pareto curve (the points the dashboard refresh stores:
models/dashboard/tables.py) and the share of revenue per account manager.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.chart_style import TIER_COLOURS, finish
from dashboards.formatting import money, plain_for_plotly, rounded


def pareto_points(points: pd.DataFrame, customers: int, revenue: float, currency: str) -> go.Figure:
    """Revenue concentration from pre-computed points (``customer_share``, ``revenue_share``,
    both 0-1, largest customer first), as the dashboard refresh stores them."""
    x = [0.0, *rounded(points["customer_share"], 2, scale=100)]
    y = [0.0, *rounded(points["revenue_share"], 2, scale=100)]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line={"color": TIER_COLOURS["strategic"], "width": 3},
            name="Revenue share",
            hovertemplate="top %{x:.1f}% of customers: %{y:.1f}% of revenue<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 100],
            y=[0, 100],
            mode="lines",
            line={"color": "#B0B0B0", "dash": "dot", "width": 1},
            name="Equal shares",
            hoverinfo="skip",
        )
    )
    fig = finish(
        fig,
        f"Revenue concentration ({int(customers):,} customers, {money(revenue, currency)})",
        showlegend=False,
    )
    fig.update_xaxes(title="Share of customers, largest first (%)", range=[0, 100])
    fig.update_yaxes(title="Cumulative share of revenue (%)", range=[0, 100])
    return fig


def manager_concentration(managers: pd.DataFrame, currency: str) -> go.Figure:
    """Share of revenue held by each account manager, largest first.

    ``managers``: columns ``manager``, ``revenue``; shows at most the top 25.
    """
    data = managers.assign(revenue=pd.to_numeric(managers["revenue"]).astype(float))
    data = data.sort_values("revenue", ascending=False)
    total = data["revenue"].sum()
    top = data.head(25).iloc[::-1]
    share = pd.Series(rounded(top["revenue"] / total, 1, scale=100) if total else [0.0] * len(top))
    fig = go.Figure(
        go.Bar(
            x=share.tolist(),
            y=[plain_for_plotly(m) for m in top["manager"]],
            orientation="h",
            marker={"color": TIER_COLOURS["strategic"]},
            text=[money(r, currency, compact=True) for r in top["revenue"]],
            textposition="outside",
            cliponaxis=False,  # the amount beside the longest bar stays readable
            hovertemplate="%{y}: %{x:.1f}% of revenue<extra></extra>",
        )
    )
    fig = finish(
        fig,
        f"Revenue share per account manager (top {len(top)})",
        height=max(320, 22 * len(top) + 120),
    )
    # Room on the right for the amount label of the longest bar.
    fig.update_xaxes(title="Share of revenue (%)", range=[0, float(share.max() or 0) * 1.18 + 1])
    fig.update_yaxes(title=None)
    return fig
