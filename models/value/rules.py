"""The ``value:`` section of the rules file, read into one typed object."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from models.config import section
from models.errors import ConfigError

MEASURE_WEIGHT_KEYS = (
    "revenue",
    "gross_margin_pct",
    "collection_rate",
    "on_time_share",
    "growth",
    "influence",
)

BASE_IMPLEMENTATIONS = ("fast", "plain")

# The segments' potential and share levels, highest first: segments.matrix's keys.
POTENTIAL_LEVELS = ("high", "medium", "low")
SHARE_LEVELS = ("high", "low")

# The Problem floors: the measure, its name in reasons, and the tiers key of its floor.
PROBLEM_FLOORS = (
    ("collection_rate", "collection rate", "problem_collection_rate_below"),
    ("on_time_share", "on-time payment share", "problem_on_time_share_below"),
    ("gross_margin_pct", "gross margin", "problem_gross_margin_below"),
)


@dataclass(frozen=True)
class ValueRules:
    """Every threshold the value engine uses; built by :func:`value_rules`."""

    window_months: int
    weights: dict[str, float]
    tiers: dict[str, float]
    policies: dict[str, str]
    segments: dict[str, Any]
    bucket_days: tuple[int, ...]
    annual_borrowing_rate: Decimal
    net_profit_margin: Decimal
    relationship_factors: tuple[str, ...]
    # How the per-customer base aggregates are computed: "fast" (roll-ups and window
    # tables) or "plain" (GROUP BYs over the facts); the same figures either way.
    base_aggregates: str = "fast"


_TIER_KEYS = (
    *(key for _, _, key in PROBLEM_FLOORS),
    "diamond_top_share",
    "gold_top_share",
    "strategic_top_share",
    "strategic_influence_at_least",
    "potential_growth_at_least",
    "potential_influence_at_least",
    "key_opportunity_influence_at_least",
    "key_opportunity_potential_top_share",
)


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"rules value.{where}: {value!r} is not a number; fix the rules file")
    return float(value)


def value_rules(config: dict[str, Any]) -> ValueRules:
    """Read and check ``config['value']``; a bad key raises ConfigError naming it."""
    v = section(config, "value")
    try:
        weights = {
            k: _number(f"score_weights.{k}", v["score_weights"][k]) for k in MEASURE_WEIGHT_KEYS
        }
        tiers = {k: _number(f"tiers.{k}", v["tiers"][k]) for k in _TIER_KEYS}
        rec = v["receivables"]
        rules = ValueRules(
            window_months=int(_number("window_months", v["window_months"])),
            weights=weights,
            tiers=tiers,
            policies={str(k): str(p) for k, p in (v.get("policies") or {}).items()},
            segments=dict(v["segments"]),
            bucket_days=tuple(
                int(_number("receivables.bucket_days", d)) for d in rec["bucket_days"]
            ),
            annual_borrowing_rate=Decimal(
                str(_number("annual_borrowing_rate", rec["annual_borrowing_rate"]))
            ),
            net_profit_margin=Decimal(str(_number("net_profit_margin", rec["net_profit_margin"]))),
            relationship_factors=tuple(v["managers"]["relationship_factors"]),
            base_aggregates=str(v.get("base_aggregates", "fast")),
        )
    except KeyError as exc:
        raise ConfigError(
            f"rules section value: missing key {exc.args[0]!r}; see models/defaults.yaml"
        ) from None
    if rules.base_aggregates not in BASE_IMPLEMENTATIONS:
        raise ConfigError(
            f"rules value.base_aggregates: {rules.base_aggregates!r} is not one of "
            f"{', '.join(BASE_IMPLEMENTATIONS)}; fix the rules file"
        )
    if rules.window_months < 1:
        raise ConfigError("rules value.window_months must be at least 1")
    if len(rules.bucket_days) != 3 or list(rules.bucket_days) != sorted(rules.bucket_days):
        raise ConfigError("rules value.receivables.bucket_days must be 3 ascending day counts")
    if not (
        0
        < tiers["diamond_top_share"]
        <= tiers["gold_top_share"]
        <= tiers["strategic_top_share"]
        <= 1
    ):
        raise ConfigError(
            "rules value.tiers: diamond <= gold <= strategic top shares, within (0, 1]"
        )
    matrix = rules.segments.get("matrix") or {}
    for level in POTENTIAL_LEVELS:
        for share in reversed(SHARE_LEVELS):
            if not isinstance(matrix.get(level), dict) or not matrix[level].get(share):
                raise ConfigError(
                    f"rules value.segments.matrix.{level}.{share} is missing: name the segment"
                )
            if not isinstance(matrix[level][share], str):
                raise ConfigError(
                    f"rules value.segments.matrix.{level}.{share}: "
                    f"{matrix[level][share]!r} is not a segment name (text)"
                )
    if sum(weights.values()) <= 0 or min(weights.values()) < 0:
        raise ConfigError("rules value.score_weights must be non-negative and not all zero")
    return rules
