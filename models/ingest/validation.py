"""The plain validation result the service consumes, whatever produced it.

The Great Expectations adapter (expectations/runner.py) returns one of these;
models/ never imports GX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd


@dataclass
class ValidationOutcome:
    """Per-row violations {row label: [(rule code, column)]}, batch failures, summary.

    Rows are named by the chunk's index labels: the line each row starts on."""

    rows: dict[int, list[tuple[str, str | None]]] = field(default_factory=dict)
    # Batch-level failures: (rule code, column, labels of the rows involved).
    batch: list[tuple[str, str | None, list[int]]] = field(default_factory=list)
    # One entry per expectation: type, column, rule, level, success, unexpected_count.
    summary: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """No row and no batch failure."""
        return not self.rows and not self.batch


class Validator(Protocol):
    """What the service calls to validate a chunk (expectations.runner.SuiteRunner)."""

    def __call__(
        self, entity: str, frame: pd.DataFrame, params: dict[str, Any]
    ) -> ValidationOutcome: ...


def merge_summaries(total: list[dict[str, Any]], chunk: list[dict[str, Any]]) -> list[dict]:
    """Add one chunk's per-expectation counts into the batch's running summary."""
    if not total:
        return [dict(s) for s in chunk]
    for acc, new in zip(total, chunk, strict=False):
        acc["unexpected_count"] = acc.get("unexpected_count", 0) + new.get("unexpected_count", 0)
        acc["success"] = acc.get("success", True) and new.get("success", True)
    return total
