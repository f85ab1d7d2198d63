"""The plans' section of the rules file, typed (thresholds of the checks and warnings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.config import known_section, whole


@dataclass(frozen=True)
class PlanRules:
    # 1+2+1 (DOMAIN.md section 7): buying roles that must be won over (supporters).
    roles_won_at_least: int = 2
    # A stakeholder this influential (1-5) needs a contact every ``contact_every_days``.
    key_influence_at_least: int = 4
    contact_every_days: int = 90


def plan_rules(config: dict[str, Any]) -> PlanRules:
    """The ``plans`` section of the rules, with the defaults for what it leaves out."""
    raw = known_section(config, "plans", PlanRules.__dataclass_fields__)
    return PlanRules(**{key: whole(value, f"plans.{key}") for key, value in raw.items()})
