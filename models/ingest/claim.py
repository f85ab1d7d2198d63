"""The ledger side of a batch: the claim, the lock, the refusal record, fault hooks.

The claim is a short transaction of its own (so a killed load leaves a visible
``started`` row for the sweep); the lock is taken by the load transaction.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from models.schema import BatchStatus, IngestBatch, QuarantineRecord

from .errors import IngestError
from .lease import ClaimHolder, database_now
from .settings import IngestConfig

# One advisory lock key for every ingest: loads are serialised, claims are not.
ADVISORY_LOCK_KEY = 0x4163634F7073  # "AccOps"
FAULT_ENV = "ACCOUNTOPS_INGEST_FAULT"
POLL_SECONDS = 1.0  # how often a batch another process holds is looked at again


# --- fault injection (tests of atomicity; inert unless the variable is set) ------------------


def fault_point(point: str, rows: int = 0, total: int = 0, conn: Connection | None = None) -> None:
    """Test hook (ACCOUNTOPS_INGEST_FAULT): SIGKILL, a transient error or a full disk."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return
    kind, _, arg = spec.partition(":")
    if kind == "disk_full":
        _fill_the_disk(point, conn)
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


def _fill_the_disk(point: str, conn: Connection | None) -> None:
    """SQLite: the database may grow no more, so SQLite itself fails the next write that
    needs a page with SQLITE_FULL, as on a full disk. PostgreSQL (whose disk is the
    server's): the server's disk-full error after the first chunk is staged."""
    if point == "before_first_write" and conn is not None and conn.dialect.name == "sqlite":
        for schema in ("main", "temp"):
            pages = conn.exec_driver_sql(f"PRAGMA {schema}.page_count").scalar()
            conn.exec_driver_sql(f"PRAGMA {schema}.max_page_count = {max(int(pages or 0), 1)}")
    if point == "staged" and conn is not None and conn.dialect.name == "postgresql":
        from psycopg.errors import DiskFull

        reason = DiskFull('could not extend file "base/1/2": No space left on device')
        raise OperationalError("INSERT", {}, reason)


# --- transactions and the ledger ---------------------------------------------------------------


def begin_locked(conn: Connection) -> None:
    """Start the transaction holding the ingest lock."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    """What claiming a batch came to: ``verdict`` None means the batch is this process's
    to load (under ``token``); DUPLICATE, it is loaded already; IN_PROGRESS, ``holder``
    still held it when the wait ran out."""

    batch_id: int
    verdict: str | None
    token: str | None = None
    holder: ClaimHolder | None = None


def claim_batch(
    engine: Engine,
    *,
    source: str,
    entity: str,
    file_name: str,
    sha256: str,
    flow_run_id: str | None,
    config: IngestConfig,
    waiting: Callable[[str], None] | None = None,
) -> Claim:
    """Claim the ledger row of a batch, with a lease of ``config.claim_lease_seconds``.

    A batch another living process holds is waited for (``waiting`` is told once, naming
    that process) until it is committed, refused or its lease runs out, for at most
    ``config.claim_wait_seconds``; a claim whose lease ran out is taken over at once.
    """
    token = str(uuid.uuid4())
    deadline = time.monotonic() + config.claim_wait_seconds
    poll = min(POLL_SECONDS, config.claim_lease_seconds / 4)
    told = False
    while True:
        claim = _claim_once(engine, token, source, entity, file_name, sha256, flow_run_id, config)
        if claim.verdict != "IN_PROGRESS" or time.monotonic() >= deadline:
            return claim
        if waiting is not None and not told and claim.holder is not None:
            waiting(
                f"{file_name}: batch {claim.batch_id} is being loaded by "
                f"{claim.holder.describe()}; waiting up to {config.claim_wait_seconds:g} s "
                "(ingest.claim_wait_seconds)"
            )
            told = True
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))


def _claim_once(
    engine: Engine,
    token: str,
    source: str,
    entity: str,
    file_name: str,
    sha256: str,
    flow_run_id: str | None,
    config: IngestConfig,
) -> Claim:
    b = IngestBatch.__table__
    lease = timedelta(seconds=config.claim_lease_seconds)
    for _attempt in range(3):
        try:
            with engine.connect() as conn:
                begin_claim(conn)
                now = database_now(conn)
                mine = {
                    "claim_token": token,
                    "claimed_host": socket.gethostname(),
                    "claimed_pid": os.getpid(),
                    "lease_until": now + lease,
                }
                row = conn.execute(
                    select(
                        b.c.batch_id,
                        b.c.status,
                        b.c.started_at,
                        b.c.claim_token,
                        b.c.claimed_host,
                        b.c.claimed_pid,
                        b.c.lease_until,
                    ).where(b.c.source == source, b.c.content_sha256 == sha256)
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
                            started_at=now,
                            flow_run_id=flow_run_id,
                            validation={},
                            **mine,
                        )
                        .returning(b.c.batch_id)
                    ).scalar_one()
                    conn.commit()
                    return Claim(batch_id, None, token)
                status = BatchStatus(row.status)
                if status == BatchStatus.COMMITTED:
                    conn.rollback()
                    return Claim(row.batch_id, "DUPLICATE")
                holder = ClaimHolder.of(row)
                if status == BatchStatus.STARTED and holder.live(now):
                    conn.rollback()
                    return Claim(row.batch_id, "IN_PROGRESS", holder=holder)
                # Rejected, quarantined, abandoned, or a claim whose lease ran out: this run
                # takes it over, if nobody else did since the read (compare and set).
                conn.execute(
                    delete(QuarantineRecord).where(QuarantineRecord.batch_id == row.batch_id)
                )
                taken = conn.execute(
                    update(b)
                    .where(
                        b.c.batch_id == row.batch_id,
                        b.c.status == status,
                        b.c.claim_token.is_not_distinct_from(row.claim_token),
                    )
                    .values(
                        status=BatchStatus.STARTED,
                        started_at=now,
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
                        validation={},
                        **mine,
                    )
                )
                if not taken.rowcount:
                    conn.rollback()
                    continue  # another process changed the row first: read it again
                conn.commit()
                return Claim(row.batch_id, None, token)
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


def _fit(value: str | None, column) -> str | None:
    """``value`` cut to the length ``column`` declares (unchanged if it fits)."""
    length = getattr(column.type, "length", None)
    return value[:length] if value is not None and length else value


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
                # A header's name may be longer than the column holds: its start names it
                # here, the message keeps it whole.
                "column_name": _fit(error.column, QuarantineRecord.__table__.c.column_name),
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
