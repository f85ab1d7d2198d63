"""The house style every chart shares: the tier order, labels and palette, the segment
palette and the layout (``finish``). One palette for tiers on every page.

The tier order is the engine's (models.value.tiers), never a copy kept here.
"""

from __future__ import annotations

import plotly.graph_objects as go

# The tier order is the engine's: models.value.tiers.PYRAMID (top to bottom, then the
# prospect classes).
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
    """A tier's display name: ``key_opportunity`` -> "Key opportunity"."""
    return TIER_LABELS.get(tier, tier.replace("_", " ").capitalize())
