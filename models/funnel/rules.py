"""The funnel section of the rules file, typed: periods, stalling, the bulge, how win
probabilities are learned and what the naive forecast assumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.config import known_section, one_of, positive, share, whole
from models.errors import ConfigError
from models.schema.opportunities import Stage

# The stages a deal moves through before it is won, in funnel order.
FUNNEL = (
    Stage.TARGET_ACCOUNT,
    Stage.CUSTOMER_ANALYSIS,
    Stage.BUILD_TRUST,
    Stage.DISCOVER_NEEDS,
    Stage.PRESENT_VALUE,
    Stage.WIN_COMMITMENT,
)
SEGMENTS = ("none", "owner", "product_line", "tier")
_NAIVE = {
    "target_account": 0.05,
    "customer_analysis": 0.10,
    "build_trust": 0.20,
    "discover_needs": 0.30,
    "present_value": 0.50,
    "win_commitment": 0.80,
}


@dataclass(frozen=True)
class FunnelRules:
    # States are counted per calendar period: "month" or "quarter".
    period: str = "quarter"
    # An open deal with no stage change for this many days is stalled.
    stalled_after_days: int = 90
    # Bulge: the middle stages hold more than this share of the open deals.
    middle_stages: tuple[str, ...] = ("build_trust", "discover_needs", "present_value")
    bulge_share_above: float = 0.6
    # Learned probabilities: per stage, then per segment ("none", "owner", "product_line",
    # "tier"), each shrunk toward the level above with this many deals' weight.
    segment_by: str = "owner"
    prior_deals: float = 20.0
    # A segment with fewer deals at a stage in the history gets the stage's probability.
    min_group_deals: int = 10
    # Closed periods the probabilities are learned from (the most recent ones).
    learn_periods: int = 12
    # The naive forecast: one constant probability per stage (also the prior of a stage
    # with little closed history).
    naive_probabilities: dict[str, float] = field(default_factory=lambda: dict(_NAIVE))
    # Coming periods forecast, and past periods replayed by the backtest.
    forecast_periods: int = 4
    backtest_periods: int = 8
    # Past periods whose state counts are kept per snapshot (for the page's trend).
    history_periods: int = 8

    def naive(self, stage: str) -> float:
        return self.naive_probabilities[stage]


_INTS = (
    "stalled_after_days",
    "min_group_deals",
    "learn_periods",
    "forecast_periods",
    "backtest_periods",
    "history_periods",
)


def funnel_rules(config: dict[str, Any]) -> FunnelRules:
    """The ``funnel`` section of the rules, with the defaults for what it leaves out."""
    raw = known_section(config, "funnel", FunnelRules.__dataclass_fields__)
    values: dict[str, Any] = {}
    if "period" in raw:
        values["period"] = one_of(raw["period"], ("month", "quarter"), "funnel.period")
    if "segment_by" in raw:
        values["segment_by"] = one_of(raw["segment_by"], SEGMENTS, "funnel.segment_by")
    for key in _INTS:
        if key in raw:
            values[key] = whole(raw[key], f"funnel.{key}")
    if "bulge_share_above" in raw:
        values["bulge_share_above"] = share(raw["bulge_share_above"], "funnel.bulge_share_above")
    if "prior_deals" in raw:
        values["prior_deals"] = positive(raw["prior_deals"], "funnel.prior_deals")
    if "middle_stages" in raw:
        stages = raw["middle_stages"]
        known = tuple(s.value for s in FUNNEL)
        if not isinstance(stages, list) or not stages:
            raise ConfigError("rules funnel.middle_stages: give a list of funnel stages")
        for s in stages:
            one_of(s, known, "funnel.middle_stages")
        values["middle_stages"] = tuple(stages)
    if "naive_probabilities" in raw:
        given = raw["naive_probabilities"]
        if not isinstance(given, dict) or set(given) != set(_NAIVE):
            raise ConfigError(
                "rules funnel.naive_probabilities: give one probability for each of "
                + ", ".join(_NAIVE)
            )
        values["naive_probabilities"] = {
            s: share(given[s], f"funnel.naive_probabilities.{s}") for s in _NAIVE
        }
    return FunnelRules(**values)
