"""What one batch's ingest came to: the CLI's and the flow's view of it."""

from __future__ import annotations

from dataclasses import dataclass, field

# Outcomes that loaded nothing of a batch: refused by its checks, failed on the way (an
# error that is not a refusal: the flow carries on with the other batches), or still held
# by another process when the wait for it ran out (the flow stops there).
REFUSED = frozenset({"REJECTED", "QUARANTINED"})
NOT_LOADED = REFUSED | {"FAILED", "IN_PROGRESS"}


@dataclass
class BatchResult:
    """What happened to one batch; ``outcome`` is what the CLI prints."""

    file: str
    entity: str | None
    outcome: str  # LOADED | DUPLICATE | IN_PROGRESS | REJECTED | QUARANTINED | FAILED
    batch_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_updated: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    changes: int = 0
    error_code: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the batch was refused (rejected or quarantined)."""
        return self.outcome in REFUSED
