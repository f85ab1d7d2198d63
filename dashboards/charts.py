"""Chart builders: plain data in, a Plotly figure out (no Streamlit, no database).

Every page draws through these so tiers have one colour and one order
everywhere, money carries its currency and axes carry units. Tests check the
figures through ``fig.to_dict()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards.formatting import money
from models.value.tiers import PYRAMID, TRADING_PYRAMID

# The pyramid top to bottom, then the prospect classes (the engine's one order).
TIER_ORDER = PYRAMID
TIER_LABELS = {
    "diamond": "Diamond",
    "gold": "Gold",
    "strategic": "Strategic",
    "potential": "Potential",
    "general": "General",
    "problem": "Problem",
    "key_opportunity": "Key opportunity",
    "general_opportunity": "General opportunity",
}
# One palette on every page; Problem is the only red, prospects are muted.
TIER_COLOURS = {
    "diamond": "#4C3FB1",
    "gold": "#C9A227",
    "strategic": "#1F6FB2",
    "potential": "#2E9E5B",
    "general": "#8A8F98",
    "problem": "#C8372D",
    "key_opportunity": "#3FA7B5",
    "general_opportunity": "#B9C4CC",
}
SEGMENT_COLOURS = {
    "acquire": "#1F6FB2",
    "retain": "#2E9E5B",
    "disrupt": "#C9A227",
    "maintain": "#8A8F98",
    "abandon": "#C8372D",
}
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    "font": {"size": 13},
}


def finish(fig: go.Figure, title: str, **layout) -> go.Figure:
    """The house layout: white template, left-aligned title, tight margins."""
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, **_LAYOUT, **layout)
    return fig


def tier_label(tier: str) -> str:
    return TIER_LABELS.get(tier, tier.replace("_", " ").capitalize())


def _ordered_tiers(tiers: Sequence[str]) -> list[str]:
    known = [t for t in TIER_ORDER if t in set(tiers)]
    return known + sorted(set(tiers) - set(TIER_ORDER))


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
                y=(pd.to_numeric(part["share"]).astype(float) * 100).round(1),
                mode="markers",
                name=segment.capitalize(),
                marker={"color": SEGMENT_COLOURS[segment], "size": 6, "opacity": 0.7},
                customdata=part[["customer_id", "product_line_id"]].to_numpy(),
                hovertemplate="%{customdata[0]} · %{customdata[1]}<br>potential %{x:,.0f} "
                + currency
                + "<br>share %{y:.1f}%<extra></extra>",
            )
        )
    fig = finish(fig, "Attack / defend: purchase potential x share of wallet")
    fig.update_xaxes(title=f"Purchase potential per year ({currency}, log scale)", type="log")
    fig.update_yaxes(title="Our share of wallet (%)", range=[0, 100])
    return fig


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
            y=pd.to_numeric(trend["dso"]).astype(float).round(1).tolist(),
            mode="lines+markers",
            line={"color": TIER_COLOURS["strategic"], "width": 3},
            hovertemplate="%{x|%b %Y}: %{y:.1f} days<extra></extra>",
        )
    )
    fig = finish(fig, "Days sales outstanding (DSO)", showlegend=False)
    fig.update_xaxes(title="Month")
    fig.update_yaxes(title="DSO (days)", rangemode="tozero")
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


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


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


def sankey_input(moves: pd.DataFrame) -> pd.DataFrame:
    """Stored migration counts (``new``/``lost`` at the ends) as :func:`migration_sankey` wants."""
    out = moves.copy()
    out["from_tier"] = out["from_tier"].where(out["from_tier"] != "new", None)
    out["to_tier"] = out["to_tier"].where(out["to_tier"] != "lost", None)
    return out


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
                y=keep,
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
            y=(pd.to_numeric(history["score"]).astype(float) * 100).round(1).tolist(),
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


def wallet_bars(wallet: pd.DataFrame, currency: str) -> go.Figure:
    """Purchase potential against our revenue per product line (whitespace stands out).

    ``wallet``: columns ``product_line``, ``potential``, ``revenue``.
    """
    lines = wallet["product_line"].tolist()
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
