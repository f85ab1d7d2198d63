"""Chart builders of the "Roadmap vs strategy" page: plain data in, a Plotly figure out.

One colour per coverage state everywhere on the page: in time green, late amber, gap red
(the red of the Problem tier: the one colour that means trouble). Values that are unknown
are left out of a chart, never drawn as 0; the page says how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go

from dashboards.charts import TIER_COLOURS, finish
from dashboards.formatting import money, plain_for_plotly

STATES = ("in_time", "late", "gap")
STATE_LABELS = {"in_time": "In time", "late": "Late", "gap": "Gap"}
STATE_COLOURS = {"in_time": "#2E9E5B", "late": "#E08A2C", "gap": TIER_COLOURS["problem"]}
NO_NEED = "#EEF1F4"  # a cell where the line serves none of the account's open initiatives
NO_NEED_LABEL = "Not served by this line"
PALE_LATE = "#F6D3A6"  # late on this line, but another line serves those needs in time
PALE_LATE_LABEL = "Late here, in time via another line"
NEEDED_BY = "#1a1a1a"


def _value(value, currency: str) -> str:
    return "unknown" if value is None or pd.isna(value) else money(value, currency, compact=True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _legend(fig: go.Figure, entries: Sequence[tuple[str, str]], symbol: str = "square") -> None:
    """Legend entries for colours a heatmap cannot name itself (invisible points)."""
    for name, colour in entries:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                marker={"color": colour, "size": 12, "symbol": symbol},
                hoverinfo="skip",
            )
        )


def _wrap(label: str, width: int = 12) -> str:
    """A long axis label on two lines (at the space nearest the middle)."""
    if len(label) <= width or " " not in label:
        return label
    spaces = [i for i, c in enumerate(label) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return f"{label[:cut]}<br>{label[cut + 1 :]}"


def _cell(cell, currency: str) -> tuple[int, str, str, bool]:
    """(colour code, label, hover, pale) of one heatmap cell; pale: late on this line, but
    another line serves every one of its initiatives in time."""
    state, n = str(cell.state), int(cell.initiatives)
    months = int(cell.months_late)
    label = STATE_LABELS[state] + (f" {months} mo" if state == "late" else "")
    hover = f"{_plural(n, 'initiative')}, {_value(cell.value, currency)} at stake"
    elsewhere = int(getattr(cell, "in_time_elsewhere", 0) or 0) if state == "late" else 0
    if state == "late":
        hover += f"<br>this line ships up to {months} months after the needed-by date"
        if elsewhere:
            hover += f"<br>{elsewhere} of them in time through another line"
    elif state == "gap":
        hover += "<br>no roadmap item serves them"
    return STATES.index(state), label, hover, bool(elsewhere) and elsewhere == n


def _layer(drawn, pale: bool, rows, columns, colours: list[str], text_colour: str) -> go.Heatmap:
    """The cells of one kind (pale or not; the others are holes) as a heatmap trace."""
    scale = []
    for k, colour in enumerate(colours):
        scale += [[k / len(colours), colour], [(k + 1) / len(colours), colour]]
    return go.Heatmap(
        z=[[c[0] if c[3] == pale else None for c in row] for row in drawn],
        x=columns,
        y=rows,
        text=[[c[1] if c[3] == pale else "" for c in row] for row in drawn],
        texttemplate="%{text}",
        textfont={"color": text_colour, "size": 12},
        customdata=[[c[2] for c in row] for row in drawn],
        hovertemplate="<b>%{y}</b><br>%{x}: %{customdata}<extra></extra>",
        colorscale=scale,
        zmin=-0.5,
        zmax=len(colours) - 0.5,
        showscale=False,
        xgap=3,
        ygap=3,
        hoverongaps=False,
        name="covered elsewhere" if pale else "cells",
    )


def coverage_heatmap(
    grid: pd.DataFrame,
    currency: str,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> go.Figure:
    """Accounts (rows, top to bottom) x product lines (columns), coloured by state.

    ``grid``: one row per cell with columns ``account``, ``product_line``, ``state``
    (in_time | late | gap), ``initiatives``, ``value`` (None: unknown), ``months_late``
    and optionally ``in_time_elsewhere``. ``rows`` / ``columns`` fix the order (default:
    as they come). A cell without a row (the line serves none of the account's open
    initiatives) is light grey; a late cell whose initiatives another line all serves in
    time is pale amber (a second trace, dark text).
    """
    rows = list(rows) if rows is not None else list(dict.fromkeys(grid["account"]))
    columns = list(columns) if columns is not None else list(dict.fromkeys(grid["product_line"]))
    cells = {(r.account, r.product_line): r for r in grid.itertuples(index=False)}
    empty = (len(STATES), "", "no item of this line serves the account's open initiatives", False)
    drawn = [
        [_cell(cells[a, c], currency) if (a, c) in cells else empty for c in columns] for a in rows
    ]
    colours = [*(STATE_COLOURS[s] for s in STATES), NO_NEED]
    # Account and product-line names are data: shown as their characters, never as markup.
    rows, columns = [plain_for_plotly(r) for r in rows], [plain_for_plotly(c) for c in columns]
    fig = go.Figure(_layer(drawn, False, rows, columns, colours, "white"))
    fig.add_trace(_layer(drawn, True, rows, columns, [PALE_LATE] * len(colours), NEEDED_BY))
    legend = [(STATE_LABELS[s], STATE_COLOURS[s]) for s in STATES]
    _legend(fig, [*legend[:2], (PALE_LATE_LABEL, PALE_LATE), legend[2], (NO_NEED_LABEL, NO_NEED)])
    fig = finish(
        fig,
        "Strategic accounts x product lines: are their needs served in time?",
        height=max(300, 46 * len(rows) + 200),
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
    )
    fig.update_layout(margin={"t": 90})
    fig.update_xaxes(
        title=None,
        showgrid=False,
        tickangle=0,
        tickvals=columns,
        ticktext=[_wrap(c) for c in columns],
        automargin=True,
    )
    fig.update_yaxes(title=None, autorange="reversed", showgrid=False, automargin=True)
    return fig


def items_bars(items: pd.DataFrame, currency: str, top: int = 12) -> go.Figure:
    """Roadmap items by the value of the strategic initiatives they serve (largest on top).

    ``items``: columns ``roadmap_item_id``, ``item``, ``product_line``, ``accounts``,
    ``value_served`` (None: unknown, left out); at most ``top`` bars.
    """
    data = items[items["value_served"].notna()].head(top).iloc[::-1]
    values = pd.to_numeric(data["value_served"]).astype(float)
    fig = go.Figure(
        go.Bar(
            x=values.tolist(),
            y=[
                plain_for_plotly(f"{i} · {t}")
                for i, t in zip(data["roadmap_item_id"], data["item"], strict=True)
            ],
            orientation="h",
            marker={"color": TIER_COLOURS["strategic"]},
            text=[
                f"{_value(v, currency)} · {_plural(int(n), 'account')}"
                for v, n in zip(values, data["accounts"], strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            customdata=data[["product_line"]].map(plain_for_plotly, na_action="ignore").to_numpy(),
            hovertemplate="%{y}<br>%{customdata[0]}<br>%{x:,.0f} "
            + currency
            + " of strategic value served<extra></extra>",
        )
    )
    fig = finish(
        fig,
        f"Roadmap items by strategic value served (top {len(data)})",
        height=max(300, 28 * len(data) + 120),
        showlegend=False,
    )
    fig.update_xaxes(
        title=f"Value at stake of the initiatives served ({currency})",
        range=[0, float(values.max() if len(values) else 1) * 1.25],
    )
    fig.update_yaxes(title=None, automargin=True)
    return fig


def unserved_bars(unserved: pd.DataFrame, currency: str, top: int = 12) -> go.Figure:
    """Capabilities nothing on the roadmap serves, by the value of the initiatives needing
    them (largest on top). ``unserved``: columns ``capability``, ``initiatives``,
    ``accounts``, ``value_at_stake`` (None: unknown, left out); at most ``top`` bars."""
    data = unserved[unserved["value_at_stake"].notna()].head(top).iloc[::-1]
    values = pd.to_numeric(data["value_at_stake"]).astype(float)
    fig = go.Figure(
        go.Bar(
            x=values.tolist(),
            y=[plain_for_plotly(c) for c in data["capability"]],
            orientation="h",
            marker={"color": STATE_COLOURS["gap"]},
            text=[
                f"{_value(v, currency)} · {_plural(int(n), 'account')}"
                for v, n in zip(values, data["accounts"], strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:,.0f} " + currency + " at stake<extra></extra>",
        )
    )
    fig = finish(
        fig,
        f"Needs nothing on the roadmap serves (top {len(data)} capabilities)",
        height=max(240, 34 * len(data) + 140),
        showlegend=False,
        bargap=0.45,
    )
    fig.update_xaxes(
        title=f"Value at stake ({currency})",
        range=[0, float(values.max() if len(values) else 1) * 1.6],
    )
    fig.update_yaxes(title=None, automargin=True)
    return fig


def misses_scatter(misses: pd.DataFrame, currency: str) -> go.Figure:
    """Late initiatives: months late (x) against value at stake (y); the bigger the point,
    the larger months late x value. ``misses``: columns ``initiative_id``, ``initiative``,
    ``account``, ``months_late``, ``value_at_stake`` (None: unknown, left out), ``weight``."""
    data = misses[misses["value_at_stake"].notna()]
    values = pd.to_numeric(data["value_at_stake"]).astype(float)
    weights = pd.to_numeric(data["weight"]).astype(float)
    biggest = float(weights.max()) if len(weights) else 1.0
    fig = go.Figure(
        go.Scatter(
            x=data["months_late"].astype(int).tolist(),
            y=values.tolist(),
            mode="markers",
            marker={
                "color": STATE_COLOURS["late"],
                "size": [12 + 30 * (w / biggest) ** 0.5 if biggest else 12 for w in weights],
                "line": {"width": 1, "color": "#7a4a12"},
                "opacity": 0.85,
            },
            customdata=data[["initiative_id", "initiative", "account"]]
            .map(plain_for_plotly, na_action="ignore")
            .to_numpy(),
            hovertemplate="%{customdata[1]} (%{customdata[0]})<br>%{customdata[2]}<br>"
            "%{x} months late · %{y:,.0f} " + currency + " at stake<extra></extra>",
        )
    )
    fig = finish(fig, "Timing misses: months late x value at stake", showlegend=False)
    months = data["months_late"].astype(int)
    fig.update_xaxes(
        title="Months late",
        range=[0, int(months.max() if len(months) else 1) * 1.15 + 1],
    )
    fig.update_yaxes(
        title=f"Value at stake ({currency})",
        range=[0, float(values.max() if len(values) else 1) * 1.25],
    )
    return fig


def account_timeline(
    initiatives: pd.DataFrame, items: pd.DataFrame, as_of: date | None = None
) -> go.Figure:
    """One account's initiatives (rows): each needed-by date against the release dates of
    the roadmap items serving it; a late initiative gets a bar from its needed-by date to
    the first release, a gap a red cross.

    ``initiatives``: ``initiative_id``, ``initiative``, ``needed_by``, ``timing``,
    ``months_late``. ``items``: ``initiative_id``, ``roadmap_item_id``, ``item``,
    ``release_on``, ``timing`` (of the pair).
    """
    label = {
        r.initiative_id: plain_for_plotly(f"{r.initiative} ({r.initiative_id})")
        for r in initiatives.itertuples(index=False)
    }
    rows = list(label.values())
    fig = go.Figure()
    for r in initiatives[initiatives["timing"] == "late"].itertuples(index=False):
        first = items.loc[items["initiative_id"] == r.initiative_id, "release_on"].min()
        fig.add_trace(
            go.Scatter(
                x=[r.needed_by, first],
                y=[label[r.initiative_id]] * 2,
                mode="lines",
                line={"color": STATE_COLOURS["late"], "width": 10},
                opacity=0.35,
                showlegend=False,
                hovertemplate=f"late by {int(r.months_late)} months<extra></extra>",
            )
        )
    for state, name in (("in_time", "Release in time"), ("late", "Release after the date")):
        part = items[items["timing"] == state]
        fig.add_trace(
            go.Scatter(
                x=part["release_on"].tolist(),
                y=[label[i] for i in part["initiative_id"]],
                mode="markers",
                name=name,
                marker={"color": STATE_COLOURS[state], "size": 11, "line": {"width": 1}},
                customdata=part[["roadmap_item_id", "item"]]
                .map(plain_for_plotly, na_action="ignore")
                .to_numpy(),
                hovertemplate="%{customdata[0]} %{customdata[1]}<br>release %{x|%d %b %Y}"
                "<extra></extra>",
            )
        )
    gaps = initiatives["timing"] == "gap"
    colours = [STATE_COLOURS["gap"] if g else NEEDED_BY for g in gaps]
    fig.add_trace(
        go.Scatter(
            x=initiatives["needed_by"].tolist(),
            y=rows,
            mode="markers+text",
            name="Needed by",
            marker={
                "color": colours,
                "symbol": ["x-thin" if g else "line-ns" for g in gaps],
                "size": 18,
                "line": {
                    "width": 3,
                    "color": colours,
                },
            },
            text=["  nothing on the roadmap" if g else "" for g in gaps],
            textposition="middle right",
            textfont={"color": STATE_COLOURS["gap"]},
            hovertemplate="%{y}<br>needed by %{x|%d %b %Y}<extra></extra>",
        )
    )
    if as_of is not None:
        fig.add_vline(x=as_of, line={"color": "#8A8F98", "dash": "dot", "width": 1})
        fig.add_annotation(
            x=as_of,
            y=1,
            yref="paper",
            text="as of",
            showarrow=False,
            yanchor="bottom",
            font={"color": "#8A8F98", "size": 11},
        )
    fig = finish(
        fig,
        "Needed by (black tick) against the release dates of the items serving it",
        height=max(280, 56 * len(rows) + 150),
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )
    dates = [*initiatives["needed_by"], *items["release_on"], *([as_of] if as_of else [])]
    # Room on the left, and on the right for a gap's "nothing on the roadmap".
    fig.update_xaxes(
        title=None,
        type="date",
        range=[min(dates) - timedelta(days=45), max(dates) + timedelta(days=150)]
        if dates
        else None,
    )
    fig.update_yaxes(title=None, categoryorder="array", categoryarray=rows[::-1], automargin=True)
    return fig
