"""Start-up sweep (I8): batches left ``started`` past the timeout become ``abandoned``.

A killed process runs no hooks, so its claim row stays ``started``; its data
never committed. Marking it abandoned frees the content hash for a new ingest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update

from models.schema import BatchStatus, IngestBatch

from .settings import IngestConfig


def sweep_stale_batches(engine: Engine, config: IngestConfig, now: datetime | None = None) -> int:
    """Mark stale ``started`` batches ``abandoned``; returns how many."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(minutes=config.stale_batch_minutes)
    b = IngestBatch.__table__
    with engine.begin() as conn:
        result = conn.execute(
            update(b)
            .where(b.c.status == BatchStatus.STARTED, b.c.started_at < cutoff)
            .values(
                status=BatchStatus.ABANDONED,
                finished_at=now,
                error_code="ABANDONED",
                error_message=(
                    f"no progress for {config.stale_batch_minutes} minutes "
                    "(process killed?): swept at start-up"
                ),
            )
        )
        return result.rowcount or 0
