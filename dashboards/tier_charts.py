"""Tier charts: the value pyramid, tier migrations (Sankey) and one customer's tier and
score over the snapshots. Tiers keep the house order and colours (chart_style).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards.chart_style import TIER_COLOURS, finish, tier_label
from dashboards.formatting import money, rounded
from models.value.tiers import PYRAMID, TRADING_PYRAMID


def _ordered_tiers(tiers: Sequence[str]) -> list[str]:
    known = [t for t in PYRAMID if t in set(tiers)]
    return known + sorted(set(tiers) - set(PYRAMID))


def value_pyramid(tiers: pd.DataFrame, currency: str) -> go.Figure:
    """The customer value pyramid.

    ``tiers``: one row per tier with columns ``tier``, ``customers``, ``revenue``.
    Bars are centred and ordered Diamond at the top; the label gives customers
    and revenue.
    """
    data = tiers.set_index("tier").reindex(
        [t for t in _ordered_tiers(tiers["tier"]) if t in TRADING_PYRAMID]
    )
    data = data.fillna({"customers": 0})
    labels = [tier_label(t) for t in data.index]
    text = [
        f"{int(n):,} customers · {money(r, currency, compact=True)}"
        for n, r in zip(data["customers"], data["revenue"], strict=True)
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=data["customers"].astype(int).tolist(),
            text=text,
            textinfo="text",
            marker={"color": [TIER_COLOURS[t] for t in data.index]},
            connector={"visible": False},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig = finish(fig, "Customer value pyramid (customers per tier)")
    fig.update_yaxes(title=None)
    return fig


def migration_sankey(moves: pd.DataFrame) -> go.Figure:
    """Tier migrations from the previous to the latest snapshot.

    ``moves``: columns ``from_tier``, ``to_tier``, ``customers``; a tier of
    ``None`` means new (no previous tier) or lost (no current tier).
    """
    moves = moves.fillna({"from_tier": "new", "to_tier": "lost"})
    left = _ordered_tiers(moves["from_tier"].unique())
    right = _ordered_tiers(moves["to_tier"].unique())
    nodes = [f"before: {tier_label(t)}" for t in left] + [f"now: {tier_label(t)}" for t in right]
    colours = [TIER_COLOURS.get(t, "#B0B0B0") for t in left + right]
    src = moves["from_tier"].map({t: i for i, t in enumerate(left)})
    dst = moves["to_tier"].map({t: len(left) + i for i, t in enumerate(right)})
    link_colours = [_rgba(TIER_COLOURS.get(t, "#B0B0B0"), 0.25) for t in moves["to_tier"]]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": nodes, "color": colours, "pad": 16, "thickness": 16},
            # Dark, haloed labels stay readable where they cross the bands.
            textfont={"color": "#1a1a1a", "size": 13, "shadow": "0 0 3px white"},
            link={
                "source": src.tolist(),
                "target": dst.tolist(),
                "value": moves["customers"].astype(int).tolist(),
                "color": link_colours,
            },
        )
    )
    fig = finish(fig, "Tier migrations since the previous snapshot (customers)", height=460)
    return fig


def sankey_input(moves: pd.DataFrame) -> pd.DataFrame:
    """Stored migration counts (``new``/``lost`` at the ends) as :func:`migration_sankey` wants."""
    out = moves.copy()
    out["from_tier"] = out["from_tier"].where(out["from_tier"] != "new", None)
    out["to_tier"] = out["to_tier"].where(out["to_tier"] != "lost", None)
    return out


def customer_history_chart(history: pd.DataFrame, currency: str) -> go.Figure:
    """A customer's revenue per snapshot (bars, tier colour) and score (line, right axis).

    ``history``: columns ``as_of``, ``tier``, ``revenue``, ``score`` (0-1).
    """
    tiers = history["tier"].astype(str)
    fig = go.Figure(
        go.Bar(
            x=history["as_of"].astype(str).tolist(),
            y=pd.to_numeric(history["revenue"]).astype(float).tolist(),
            marker={"color": [TIER_COLOURS.get(t, "#B0B0B0") for t in tiers]},
            text=[tier_label(t) for t in tiers],
            textposition="inside",
            name=f"Revenue, 12 months ({currency})",
            hovertemplate="%{x}: %{y:,.0f} " + currency + " (%{text})<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=history["as_of"].astype(str).tolist(),
            y=rounded(history["score"], 1, scale=100),
            mode="lines+markers",
            name="Value score (0-100)",
            yaxis="y2",
            line={"color": "#333333", "width": 2},
        )
    )
    fig = finish(
        fig,
        "Revenue and value score per snapshot (bar colour = tier)",
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 100],
            "tickvals": [0, 25, 50, 75, 100],
            "showgrid": False,
            "title": "Score (0-100)",
        },
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_xaxes(title="Snapshot as-of date", type="category")
    fig.update_yaxes(title=f"Revenue ({currency})", selector={"anchor": "x"})
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
