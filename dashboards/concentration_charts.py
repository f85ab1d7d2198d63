"""Revenue concentration: the Pareto curve (from revenues or from the refresh's stored
points) and the share of revenue per account manager.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.chart_style import TIER_COLOURS, finish
from dashboards.formatting import money


def pareto_curve(revenues: pd.Series, currency: str) -> go.Figure:
    """Revenue concentration: cumulative share of revenue against share of customers.

    ``revenues``: one value per trading customer. Long series are thinned to at
    most ~500 points (the curve is smooth), so 50,000 customers draw fast.
    """
    values = pd.to_numeric(revenues, errors="coerce").dropna()
    values = values[values > 0].sort_values(ascending=False).reset_index(drop=True)
    total = float(values.sum())
    x = pd.Series((values.index + 1) / max(len(values), 1) * 100)
    y = values.cumsum() / total * 100 if total else values * 0
    step = max(1, len(values) // 500)
    keep = list(range(0, len(values), step)) + ([len(values) - 1] if len(values) else [])
    keep = sorted(set(keep))
    fig = go.Figure(
        go.Scatter(
            x=[0, *x.iloc[keep].round(2)],
            y=[0, *y.iloc[keep].round(2)],
            mode="lines",
            line={"color": TIER_COLOURS["strategic"], "width": 3},
            name="Revenue share",
            hovertemplate="top %{x:.1f}% of customers: %{y:.1f}% of revenue<extra></extra>",
        )
    )
    top20 = float(y.iloc[max(int(len(values) * 0.2) - 1, 0)]) if len(values) else 0.0
    fig.add_annotation(
        x=20,
        y=top20,
        text=f"top 20% = {top20:.0f}% of revenue",
        showarrow=True,
        arrowhead=2,
        ax=60,
        ay=30,
    )
    fig = finish(
        fig,
        f"Revenue concentration ({len(values):,} customers, {money(total, currency)})",
        showlegend=False,
    )
    fig.update_xaxes(title="Share of customers, largest first (%)", range=[0, 100])
    fig.update_yaxes(title="Cumulative share of revenue (%)", range=[0, 100])
    return fig


def pareto_points(points: pd.DataFrame, customers: int, revenue: float, currency: str) -> go.Figure:
    """Revenue concentration from pre-computed points (``customer_share``, ``revenue_share``,
    both 0-1, largest customer first), as the dashboard refresh stores them."""
    x = [0.0, *(pd.to_numeric(points["customer_share"]).astype(float) * 100).round(2)]
    y = [0.0, *(pd.to_numeric(points["revenue_share"]).astype(float) * 100).round(2)]
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
    share = (top["revenue"] / total * 100).round(1) if total else top["revenue"] * 0
    fig = go.Figure(
        go.Bar(
            x=share.tolist(),
            y=top["manager"].tolist(),
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
