"""Read models of the batch ledger and the quarantine (CLI now, dashboard later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from models.schema import IngestBatch, QuarantineRecord


@dataclass(frozen=True)
class BatchRow:
    """One row of the batch ledger, as listed by `accountops batches`."""

    batch_id: int
    source: str
    entity: str
    file_name: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    rows_read: int
    rows_loaded: int
    rows_updated: int
    rows_quarantined: int
    rows_skipped: int
    rows_rejected: int
    error_code: str | None
    error_message: str | None
    validation: dict[str, Any]


@dataclass(frozen=True)
class QuarantineRow:
    """One quarantined row and one rule it broke."""

    batch_id: int
    entity: str
    file_name: str | None
    line_no: int | None
    column_name: str | None
    rule_code: str
    message: str
    raw: dict[str, Any]
    raw_sha256: str | None


def list_batches(engine: Engine, limit: int = 200) -> list[BatchRow]:
    """Newest batches first, with their counts and stored validation result."""
    b = IngestBatch.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(b).order_by(b.c.batch_id.desc()).limit(limit)).mappings()
        return [BatchRow(**{f: r[f] for f in BatchRow.__dataclass_fields__}) for r in rows]


def list_quarantine(engine: Engine, batch_id: int | None = None, limit: int = 1000):
    """Quarantined rows (optionally of one batch), by batch, line and rule."""
    q = QuarantineRecord.__table__
    query = select(q).order_by(q.c.batch_id.desc(), q.c.line_no, q.c.quarantine_id).limit(limit)
    if batch_id is not None:
        query = query.where(q.c.batch_id == batch_id)
    with engine.connect() as conn:
        return [
            QuarantineRow(**{f: r[f] for f in QuarantineRow.__dataclass_fields__})
            for r in conn.execute(query).mappings()
        ]
