"""The plans' section of the rules file, typed (thresholds of the checks and warnings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.config import section
from models.errors import ConfigError


@dataclass(frozen=True)
class PlanRules:
    # 1+2+1 (DOMAIN.md section 7): buying roles that must be won over (supporters).
    roles_won_at_least: int = 2
    # A stakeholder this influential (1-5) needs a contact every ``contact_every_days``.
    key_influence_at_least: int = 4
    contact_every_days: int = 90


def plan_rules(config: dict[str, Any]) -> PlanRules:
    """The ``plans`` section of the rules, with the defaults for what it leaves out."""
    raw = section(config, "plans")
    known = set(PlanRules.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"rules section 'plans': unknown key {unknown[0]!r}")
    values = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"rules plans.{key}: {value!r} is not a whole number of at least 1")
        values[key] = value
    return PlanRules(**values)
