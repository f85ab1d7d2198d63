"""The batch ledger and the quarantine: every file or query that came in."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, created_at_column, enum_column


class BatchStatus(enum.StrEnum):
    STARTED = "started"
    COMMITTED = "committed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"
    ABANDONED = "abandoned"


class IngestBatch(Base):
    """One batch (a file or a query result), identified by its content hash.

    ``UNIQUE(source, content_sha256)`` is what makes a batch load exactly once,
    whatever the orchestrator believes.
    """

    __tablename__ = "ingest_batch"
    __table_args__ = (UniqueConstraint("source", "content_sha256"),)

    batch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(300))
    entity: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(1000))
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus, "batch_status"))
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)
    # Rows kept out because the whole batch was rejected (0 when it loaded).
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The stored validation result: expectation, success, unexpected count.
    validation: Mapped[dict] = mapped_column(default=dict)
    # The claim of a ``started`` batch: the process that loads it (its token, host and
    # pid) and until when its lease runs. The owner renews the lease while it works; a
    # lease that ran out is taken over at once, whatever host wrote it.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_host: Mapped[str | None] = mapped_column(String(255))
    claimed_pid: Mapped[int | None] = mapped_column(Integer)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuarantineRecord(Base):
    """A row kept out of the fact tables, with the rules it broke."""

    __tablename__ = "quarantine_record"

    quarantine_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(1000))
    line_no: Mapped[int | None] = mapped_column(Integer)
    # The column the rule is about, when it is about one.
    column_name: Mapped[str | None] = mapped_column(String(100))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    natural_key: Mapped[str | None] = mapped_column(String(200), index=True)
    raw: Mapped[dict] = mapped_column(default=dict)
    rule_code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)


class IngestChange(Base):
    """What an amended batch changed: one row per updated natural key.

    ``previous_customer_id`` lets derived tables (roll-ups) refresh both the old
    and the new owner of a row whose customer changed.
    """

    __tablename__ = "ingest_change"

    change_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    natural_key: Mapped[str] = mapped_column(String(200))
    previous_customer_id: Mapped[str | None] = mapped_column(String(64))
    # {field: [old, new]} with values as strings, as they were loaded.
    changes: Mapped[dict] = mapped_column(default=dict)
