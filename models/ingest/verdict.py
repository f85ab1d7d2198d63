"""What a batch's rows add up to, and the verdict on them.

The tally gathers, chunk by chunk, the row counts, the quarantine records (at
most ``ingest.max_quarantine_records``), the suite's summary and its batch-level
failures. :func:`decide` then refuses the batch (it failed its suite: nothing
loads; or more rows broke rules than ``ingest.row_quarantine_threshold``) or
lets it commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.schema import BatchStatus

from .errors import CODES, IngestError
from .settings import IngestConfig


class Refused(Exception):
    """The batch is refused: ``error`` says why, ``status`` how it is recorded."""

    def __init__(self, error: IngestError, status: BatchStatus) -> None:
        super().__init__(str(error))
        self.error, self.status = error, status


@dataclass
class Tally:
    """The running counts and findings of one batch."""

    rows_read: int = 0
    rows_bad: int = 0
    rows_skipped: int = 0
    rows_staged: int = 0
    quarantine: list[dict] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)
    # (rule code, column, lines of the rows involved) of the rules that fail the whole batch
    batch_failures: list[tuple[str, str | None, list[int]]] = field(default_factory=list)
    duplicate_keys: str = ""  # the repeated natural keys, as the message names them

    @property
    def considered(self) -> int:
        """Rows the rules were applied to (read and not skipped by a mapping)."""
        return self.rows_read - self.rows_skipped

    def validation(
        self, success: bool, changes: int, warnings: list[str], config: IngestConfig
    ) -> dict[str, Any]:
        """The ledger's ``validation`` document of the batch."""
        return {
            "success": success and not self.rows_bad,
            "expectations": self.summary,
            "rows_bad": self.rows_bad,
            "changes": changes,
            "warnings": warnings,
            "threshold": config.row_quarantine_threshold,
        }


def decide(tally: Tally, name: str, config: IngestConfig) -> None:
    """Raise :class:`Refused` when the batch must not load; return when it may."""
    if tally.batch_failures:
        code, column, rows = tally.batch_failures[0]
        where = f" line {rows[0]}" if rows else ""
        detail = tally.duplicate_keys
        problem = {
            "KEY_DUPLICATE": "the same natural key appears more than once"
            + (f" ({detail})" if detail else ""),
        }.get(code, CODES.get(code, code))
        raise Refused(
            IngestError(
                code,
                name + where,
                f"{problem}: the batch failed its suite; nothing was loaded",
                column=column,
            ),
            BatchStatus.QUARANTINED,
        )
    considered = tally.considered
    share = tally.rows_bad / considered if considered else 0.0
    if share > config.row_quarantine_threshold:
        first = tally.quarantine[0] if tally.quarantine else None
        hint = f"; first: {first['message']}" if first else ""
        raise Refused(
            IngestError(
                "ROWS_ABOVE_THRESHOLD",
                name,
                f"{tally.rows_bad:,} of {considered:,} rows broke rules ({share:.1%} > "
                f"ingest.row_quarantine_threshold {config.row_quarantine_threshold:.1%})"
                f": batch rejected, 0 rows loaded{hint}",
            ),
            BatchStatus.REJECTED,
        )
