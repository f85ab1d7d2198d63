"""The rules file checked whole, before a run starts.

Each domain module reads its own section when it runs, so a typo in a section that a
run reaches late (or a broken file) would otherwise surface halfway through, inside the
orchestrator. Commands call :func:`check_rules_file` first: one ``[CONFIG_INVALID]``
line naming the file, section and key, and nothing started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import load_config


def check_rules_file(override_file: Path | None) -> dict[str, Any]:
    """The merged rules, every section read by its own parser (raises ConfigError)."""
    from .funnel.rules import funnel_rules
    from .ingest.settings import ingest_config
    from .plans.rules import plan_rules
    from .roadmap.rules import roadmap_rules
    from .value.rules import value_rules

    config = load_config(override_file)
    for parse in (ingest_config, value_rules, plan_rules, roadmap_rules, funnel_rules):
        parse(config)
    return config
