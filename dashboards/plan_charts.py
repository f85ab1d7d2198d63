"""Chart builders of the plan editor: plain data in, a Plotly figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.charts import finish
from dashboards.formatting import plain_for_plotly

BUYING_ROLES = (
    "purchaser",
    "user",
    "technical_gatekeeper",
    "financial_gatekeeper",
    "decision_maker",
)
STANCES = ("opponent", "neutral", "supporter")
STANCE_COLOURS = {"supporter": "#2E9E5B", "neutral": "#8A8F98", "opponent": "#C8372D"}


def label(value: str) -> str:
    return value.replace("_", " ")


def buying_centre(stakeholders: list[dict]) -> go.Figure:
    """Stakeholders by buying role (x) and stance (y), sized by influence; a star marks a
    coach, a diamond an insider. People in the same cell are spread side by side."""
    fig = go.Figure()
    placed: dict[tuple[str, str], int] = {}
    rows = []
    for s in stakeholders:
        role, stance = s.get("role"), s.get("stance")
        if role not in BUYING_ROLES or stance not in STANCES:
            continue  # an incomplete row of the editor: drawn once it is filled in
        n = placed[(role, stance)] = placed.get((role, stance), -1) + 1
        rows.append((s, BUYING_ROLES.index(role) + (n % 3 - 1) * 0.22, STANCES.index(stance)))
    for stance in STANCES:
        mine = [(s, x, y) for s, x, y in rows if s["stance"] == stance]
        if not mine:
            continue
        fig.add_trace(
            go.Scatter(
                x=[x for _, x, _ in mine],
                y=[y for _, _, y in mine],
                mode="markers+text",
                name=label(stance),
                text=[plain_for_plotly(s.get("name", "")) for s, _, _ in mine],
                textposition="bottom center",
                marker={
                    "size": [14 + 8 * int(s.get("influence") or 1) for s, _, _ in mine],
                    "color": STANCE_COLOURS[stance],
                    "symbol": [_symbol(s) for s, _, _ in mine],
                    "line": {"width": 1, "color": "#333"},
                },
                customdata=[
                    [label(s["role"]), s.get("influence"), s.get("relationship"), _flags(s)]
                    for s, _, _ in mine
                ],
                hovertemplate="%{text}<br>%{customdata[0]}, influence %{customdata[1]}, "
                "relationship %{customdata[2]}<br>%{customdata[3]}<extra></extra>",
            )
        )
    fig.update_xaxes(
        tickvals=list(range(len(BUYING_ROLES))),
        ticktext=[label(r) for r in BUYING_ROLES],
        range=[-0.6, len(BUYING_ROLES) - 0.4],
        title="buying role",
    )
    fig.update_yaxes(
        tickvals=list(range(len(STANCES))),
        ticktext=[label(s) for s in STANCES],
        range=[-0.6, len(STANCES) - 0.4],
        title="stance",
    )
    return finish(fig, "Buying centre (size: influence; star: coach, diamond: insider)")


def _symbol(s: dict) -> str:
    if s.get("coach"):
        return "star"
    return "diamond" if s.get("insider") else "circle"


def _flags(s: dict) -> str:
    flags = [f for f in ("coach", "insider") if s.get(f)]
    return ", ".join(flags) or "no coach or insider flag"


def target_vs_actual(years: pd.DataFrame, currency: str) -> go.Figure:
    """Bars per plan year: target and actual (``years``: year, target, actual)."""
    fig = go.Figure()
    x = [str(y) for y in years["year"]]
    fig.add_bar(x=x, y=years["target"], name="target", marker_color="#B9C4CC")
    fig.add_bar(x=x, y=years["actual"], name="actual", marker_color="#1F6FB2")
    fig.update_yaxes(title=f"revenue ({currency})")
    fig.update_layout(barmode="group")
    return finish(fig, "Target and actual per year")
