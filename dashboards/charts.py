"""Chart builders: plain data in, a Plotly figure out (no Streamlit, no database).

Every page draws through these so tiers have one colour and one order
everywhere, money carries its currency and axes carry units. Tests check the
figures through ``fig.to_dict()``.

Pages import ``dashboards.charts``; the builders live by subject beside it:

- ``chart_style``: tier order, labels and palette, segment palette, ``finish``
- ``tier_charts``: value pyramid, tier migrations, a customer's tier history
- ``concentration_charts``: Pareto curves, revenue share per account manager
- ``receivables_charts``: ageing buckets, DSO trend
- ``wallet_charts``: attack/defend scatter, effort per segment, share of wallet
- ``plan_charts``, ``roadmap_charts``, ``funnel_charts``: the planner's, the roadmap's and
  the funnel's pages
"""

from __future__ import annotations

from dashboards.chart_style import (
    SEGMENT_COLOURS,
    TIER_COLOURS,
    TIER_LABELS,
    finish,
    tier_label,
)
from dashboards.concentration_charts import manager_concentration, pareto_points
from dashboards.receivables_charts import ageing_bars, dso_trend
from dashboards.tier_charts import (
    customer_history_chart,
    migration_sankey,
    sankey_input,
    value_pyramid,
)
from dashboards.wallet_charts import attack_defend_scatter, segment_effort_bars, wallet_bars
from models.value.tiers import PYRAMID, TRADING_PYRAMID

__all__ = [
    "SEGMENT_COLOURS",
    "TIER_COLOURS",
    "TIER_LABELS",
    "PYRAMID",
    "TRADING_PYRAMID",
    "ageing_bars",
    "attack_defend_scatter",
    "customer_history_chart",
    "dso_trend",
    "finish",
    "manager_concentration",
    "migration_sankey",
    "pareto_points",
    "sankey_input",
    "segment_effort_bars",
    "tier_label",
    "value_pyramid",
    "wallet_bars",
]
