"""The ledger side of a batch: the claim, the lock, the refusal record, fault hooks.

The claim is a short transaction of its own (so a killed load leaves a visible
``started`` row for the sweep); the lock is taken by the load transaction.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from models.runlock import process_alive
from models.schema import BatchStatus, IngestBatch, QuarantineRecord

from .errors import IngestError
from .settings import IngestConfig

# One advisory lock key for every ingest: loads are serialised, claims are not.
ADVISORY_LOCK_KEY = 0x4163634F7073  # "AccOps"
FAULT_ENV = "ACCOUNTOPS_INGEST_FAULT"


# --- fault injection (tests of atomicity; inert unless the variable is set) ------------------


def fault_point(point: str, rows: int = 0, total: int = 0) -> None:
    """Test hook (ACCOUNTOPS_INGEST_FAULT): SIGKILL or a transient error at a point."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return
    kind, _, arg = spec.partition(":")
    if kind == "kill":
        hit = arg == point
        if arg == "after_half" and point == "staged":
            hit = total > 0 and rows * 2 >= total
        if arg.startswith("after_rows=") and point == "staged":
            hit = rows >= int(arg.split("=", 1)[1])
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "operational_error_once" and point == "before_first_write":
        marker = Path(arg)
        if not marker.exists():
            marker.write_text("raised")
            raise OperationalError("injected", {}, Exception("injected transient failure"))


# --- transactions and the ledger ---------------------------------------------------------------


def begin_locked(conn: Connection) -> None:
    """Start the transaction holding the ingest lock."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))


def _now() -> datetime:
    return datetime.now(UTC)


def claim_batch(
    engine: Engine,
    *,
    source: str,
    entity: str,
    file_name: str,
    sha256: str,
    flow_run_id: str | None,
    config: IngestConfig,
) -> tuple[int, str | None]:
    """Claim the ledger row: (batch_id, None) to go on, or (batch_id, DUPLICATE|IN_PROGRESS)."""
    b = IngestBatch.__table__
    claim = {"claimed_by": {"host": socket.gethostname(), "pid": os.getpid()}}
    for _attempt in range(3):
        try:
            with engine.connect() as conn:
                begin_claim(conn)
                row = conn.execute(
                    select(b.c.batch_id, b.c.status, b.c.started_at, b.c.validation).where(
                        b.c.source == source, b.c.content_sha256 == sha256
                    )
                ).first()
                if row is None:
                    batch_id = conn.execute(
                        insert(b)
                        .values(
                            source=source,
                            entity=entity,
                            file_name=file_name,
                            content_sha256=sha256,
                            status=BatchStatus.STARTED,
                            started_at=_now(),
                            flow_run_id=flow_run_id,
                            validation=claim,
                        )
                        .returning(b.c.batch_id)
                    ).scalar_one()
                    conn.commit()
                    return batch_id, None
                status = BatchStatus(row.status)
                if status == BatchStatus.COMMITTED:
                    conn.rollback()
                    return row.batch_id, "DUPLICATE"
                stale = row.started_at < _now() - timedelta(minutes=config.stale_batch_minutes)
                claimed_by = (row.validation or {}).get("claimed_by", {})
                if (
                    status == BatchStatus.STARTED
                    and not stale
                    and process_alive(claimed_by.get("host"), claimed_by.get("pid"))
                ):
                    conn.rollback()
                    return row.batch_id, "IN_PROGRESS"
                # Rejected, quarantined, abandoned or dead: this run takes it over.
                conn.execute(
                    delete(QuarantineRecord).where(QuarantineRecord.batch_id == row.batch_id)
                )
                conn.execute(
                    update(b)
                    .where(b.c.batch_id == row.batch_id)
                    .values(
                        status=BatchStatus.STARTED,
                        started_at=_now(),
                        finished_at=None,
                        file_name=file_name,
                        flow_run_id=flow_run_id,
                        rows_read=0,
                        rows_loaded=0,
                        rows_updated=0,
                        rows_quarantined=0,
                        rows_skipped=0,
                        rows_rejected=0,
                        error_code=None,
                        error_message=None,
                        validation=claim,
                    )
                )
                conn.commit()
                return row.batch_id, None
        except IntegrityError:
            continue  # a concurrent ingest inserted the row first: read it again
    raise RuntimeError(f"could not claim batch {file_name}")


def begin_claim(conn: Connection) -> None:
    """Start the claim transaction (SQLite takes the write lock at once)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _raw_sha(raw: bytes | str | None) -> str:
    data = raw if isinstance(raw, bytes) else (raw or "").encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def record_rejection(
    engine: Engine,
    *,
    batch_id: int | None,
    source: str,
    entity: str | None,
    file_name: str,
    sha256: str,
    error: IngestError,
    status: BatchStatus = BatchStatus.REJECTED,
    quarantine: list[dict] | None = None,
    counts: dict[str, int] | None = None,
    validation: dict[str, Any] | None = None,
) -> int:
    """Write the ledger row (new or claimed) and quarantine records of a refused batch."""
    b = IngestBatch.__table__
    values = {
        "status": status,
        "finished_at": _now(),
        "error_code": error.code,
        "error_message": str(error.args[0]),
        "validation": validation or {"success": False, "error": error.code},
        **(counts or {}),
    }
    records = quarantine
    if records is None:
        records = [
            {
                "entity": entity or "unknown",
                "file_name": file_name,
                "line_no": error.line,
                "column_name": error.column,
                "raw_sha256": _raw_sha(error.raw),
                "raw": {"line": (error.raw or b"").decode("utf-8", "replace")[:2000]},
                "rule_code": error.code,
                "message": str(error.args[0]),
            }
        ]
    with engine.connect() as conn:
        begin_claim(conn)
        if batch_id is None:
            existing = conn.execute(
                select(b.c.batch_id).where(b.c.source == source, b.c.content_sha256 == sha256)
            ).scalar()
            if existing is None:
                batch_id = conn.execute(
                    insert(b)
                    .values(
                        source=source,
                        entity=entity or "unknown",
                        file_name=file_name,
                        content_sha256=sha256,
                        started_at=_now(),
                        **values,
                    )
                    .returning(b.c.batch_id)
                ).scalar_one()
            else:
                batch_id = existing
                conn.execute(delete(QuarantineRecord).where(QuarantineRecord.batch_id == batch_id))
        conn.execute(update(b).where(b.c.batch_id == batch_id).values(**values))
        if records:
            conn.execute(insert(QuarantineRecord), [{**r, "batch_id": batch_id} for r in records])
        conn.commit()
    return batch_id
