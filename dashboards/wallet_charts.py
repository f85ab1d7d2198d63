"""Share-of-wallet and attack/defend segment charts: potential against share per customer
and product line, account-manager effort per segment, and one customer's wallet.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.chart_style import SEGMENT_COLOURS, TIER_COLOURS, finish
from dashboards.formatting import plain_for_plotly, rounded


def attack_defend_scatter(segments: pd.DataFrame, currency: str) -> go.Figure:
    """Potential x share of wallet, one point per customer x product line.

    ``segments``: columns ``customer_id``, ``product_line_id``, ``potential``,
    ``share`` (0-1), ``segment``. WebGL traces keep 50,000+ points responsive.
    """
    fig = go.Figure()
    for segment in [s for s in SEGMENT_COLOURS if s in set(segments["segment"])]:
        part = segments[segments["segment"] == segment]
        fig.add_trace(
            go.Scattergl(
                x=pd.to_numeric(part["potential"]).astype(float),
                y=rounded(part["share"], 1, scale=100),
                mode="markers",
                name=segment.capitalize(),
                marker={"color": SEGMENT_COLOURS[segment], "size": 6, "opacity": 0.7},
                customdata=part[["customer_id", "product_line_id"]]
                .map(plain_for_plotly, na_action="ignore")
                .to_numpy(),
                hovertemplate="%{customdata[0]} · %{customdata[1]}<br>potential %{x:,.0f} "
                + currency
                + "<br>share %{y:.1f}%<extra></extra>",
            )
        )
    fig = finish(fig, "Attack / defend: purchase potential x share of wallet")
    fig.update_xaxes(title=f"Purchase potential per year ({currency}, log scale)", type="log")
    fig.update_yaxes(title="Our share of wallet (%)", range=[0, 100])
    return fig


def segment_effort_bars(effort: pd.DataFrame) -> go.Figure:
    """Accounts per account manager, stacked by attack/defend segment (segment colours).

    ``effort``: columns ``manager``, ``segment``, ``accounts``; at most 25 managers shown,
    those with the most accounts.
    """
    totals = effort.groupby("manager")["accounts"].sum().sort_values(ascending=False)
    keep = list(totals.head(25).index)[::-1]
    fig = go.Figure()
    for segment in [s for s in SEGMENT_COLOURS if s in set(effort["segment"])]:
        part = effort[effort["segment"] == segment].set_index("manager")["accounts"]
        fig.add_trace(
            go.Bar(
                y=[plain_for_plotly(m) for m in keep],
                x=[int(part.get(m, 0)) for m in keep],
                orientation="h",
                name=segment.capitalize(),
                marker={"color": SEGMENT_COLOURS[segment]},
                hovertemplate="%{y}: %{x:,} accounts in " + segment + "<extra></extra>",
            )
        )
    fig = finish(
        fig,
        "Where account-manager effort goes: accounts (customer x product line) per segment",
        barmode="stack",
        height=max(320, 26 * len(keep) + 160),
        # Above the plot, in the segments' own order: never over the axis title.
        legend={
            "orientation": "h",
            "y": 1.0,
            "yanchor": "bottom",
            "x": 0,
            "traceorder": "normal",
        },
    )
    fig.update_layout(margin={"t": 90})
    fig.update_xaxes(title="Accounts (customer x product line)")
    fig.update_yaxes(title=None)
    return fig


def wallet_bars(wallet: pd.DataFrame, currency: str) -> go.Figure:
    """Purchase potential against our revenue per product line (whitespace stands out).

    ``wallet``: columns ``product_line``, ``potential``, ``revenue``.
    """
    lines = [plain_for_plotly(p) for p in wallet["product_line"]]
    fig = go.Figure(
        [
            go.Bar(
                x=lines,
                y=pd.to_numeric(wallet["potential"]).astype(float).tolist(),
                name="Purchase potential (all suppliers)",
                marker={"color": "#B9C4CC"},
            ),
            go.Bar(
                x=lines,
                y=pd.to_numeric(wallet["revenue"]).astype(float).tolist(),
                name="Our revenue",
                marker={"color": TIER_COLOURS["strategic"]},
            ),
        ]
    )
    fig = finish(
        fig,
        f"Share of wallet by product line ({currency} per year)",
        barmode="group",
        legend={"orientation": "h", "y": -0.25},
    )
    fig.update_xaxes(title=None)
    fig.update_yaxes(title=f"Amount per year ({currency})")
    return fig
