"""Read model: what the database holds, for the dashboard's status and empty states."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from .db import database_exists
from .migrate import current_revision, head_revision
from .schema import Customer, IngestBatch, InvoiceLine, Snapshot


@dataclass(frozen=True)
class DatabaseStatus:
    revision: str | None
    head: str
    customers: int
    invoice_lines: int
    batches: int
    snapshots: int

    @property
    def schema_current(self) -> bool:
        return self.revision == self.head

    @property
    def is_empty(self) -> bool:
        return self.customers == 0 and self.invoice_lines == 0


def database_status(engine: Engine) -> DatabaseStatus:
    """Schema revision and row counts of the main tables (counts 0 before ``init``)."""
    head = head_revision()
    if not database_exists(engine):
        return DatabaseStatus(None, head, 0, 0, 0, 0)
    revision = current_revision(engine)
    if revision is None:
        return DatabaseStatus(None, head, 0, 0, 0, 0)
    with engine.connect() as conn:
        counts = [
            conn.scalar(select(func.count()).select_from(table))
            for table in (Customer, InvoiceLine, IngestBatch, Snapshot)
        ]
    return DatabaseStatus(revision, head, *[int(c or 0) for c in counts])
