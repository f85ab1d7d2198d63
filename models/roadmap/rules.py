"""The roadmap section of the rules file, typed: how pairs are scored and what is at stake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.config import known_section, positive, share
from models.errors import ConfigError

_PRIORITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class RoadmapRules:
    # A pair's score: tag_weight x (share of the initiative's tags the item has)
    # + (1 - tag_weight) x (text similarity of their titles and descriptions).
    tag_weight: float = 0.7
    # A pair sharing at least one tag serves the initiative from this score.
    match_at_least: float = 0.35
    # A pair sharing no tag is suggested to a planner from this text similarity.
    suggest_text_at_least: float = 0.3
    # An account's 12-month revenue is shared over its open initiatives by these weights.
    priority_weights: dict[str, float] = field(
        default_factory=lambda: {"high": 3.0, "medium": 2.0, "low": 1.0}
    )


def roadmap_rules(config: dict[str, Any]) -> RoadmapRules:
    """The ``roadmap`` section of the rules, with the defaults for what it leaves out."""
    raw = known_section(config, "roadmap", RoadmapRules.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key in ("tag_weight", "match_at_least", "suggest_text_at_least"):
        if key in raw:
            values[key] = share(raw[key], f"roadmap.{key}")
    if "priority_weights" in raw:
        weights = raw["priority_weights"]
        if not isinstance(weights, dict) or set(weights) != set(_PRIORITIES):
            raise ConfigError("rules roadmap.priority_weights: give high, medium and low")
        values["priority_weights"] = {
            p: positive(weights[p], f"roadmap.priority_weights.{p}") for p in _PRIORITIES
        }
    return RoadmapRules(**values)
