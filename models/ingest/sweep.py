"""Start-up sweep (I8): ``started`` batches whose claim's lease ran out become ``abandoned``.

A killed process runs no hooks, so its claim row stays ``started``; its data never
committed, and it renews its lease no more. Marking the row abandoned shows that in
the ledger; the claim itself would be taken over by the next ingest of the batch anyway
(models/ingest/claim.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, or_, update

from models.schema import BatchStatus, IngestBatch

from .lease import database_now


def sweep_stale_batches(engine: Engine, now: datetime | None = None) -> int:
    """Mark ``started`` batches whose lease ran out ``abandoned``; returns how many."""
    b = IngestBatch.__table__
    with engine.begin() as conn:
        now = now or database_now(conn)
        result = conn.execute(
            update(b)
            .where(
                b.c.status == BatchStatus.STARTED,
                or_(b.c.lease_until.is_(None), b.c.lease_until < now),
            )
            .values(
                status=BatchStatus.ABANDONED,
                finished_at=now,
                error_code="ABANDONED",
                error_message=(
                    "its claim's lease ran out (the loading process died or lost the "
                    "database): swept at start-up; the next ingest loads it again"
                ),
            )
        )
        return result.rowcount or 0
