"""The load transaction of one claimed batch (see service.py for the whole story).

Chunks are prepared (prepare.py) against the book as committed before the batch
(committed.py) and written by a :class:`~models.ingest.load.StagedLoad`; then
the verdict (verdict.py), the quarantine and the ledger row, and one COMMIT.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from models.db import disk_full
from models.schema import BatchStatus, Customer, IngestBatch, ProductLine, QuarantineRecord

from .claim import begin_locked, fault_point, record_rejection
from .committed import CommittedBook
from .entities import column_lengths, natural_key, targets
from .errors import IngestError
from .known import KnownKeys
from .lease import ClaimHolder, ClaimLost
from .load import StagedLoad
from .payments import FOUND_INVOICES, PaymentsCheck
from .prepare import ChunkPreparer, Prepared
from .result import BatchResult
from .settings import IngestConfig
from .validation import Validator
from .verdict import Refused, Tally, decide


class LoadRun:
    """Chunks -> type -> validate -> stage; then upsert, change log, quarantine, COMMIT."""

    def __init__(
        self,
        engine: Engine,
        batch,
        batch_id: int,
        validator: Validator,
        config: IngestConfig,
        as_of: date,
        progress,
        token: str,
    ) -> None:
        self.engine, self.batch, self.batch_id, self.token = engine, batch, batch_id, token
        self.validator, self.config, self.as_of, self.progress = validator, config, as_of, progress
        self.entity = batch.entity
        self.tally = Tally()

    def execute(self) -> BatchResult:
        """Run the load transaction; returns the BatchResult (refusals included)."""
        try:
            return self._execute()
        except (Refused, IngestError):
            raise
        except ClaimLost as lost:  # the other process loads it: leave its claim alone
            return BatchResult(
                self.batch.name,
                self.entity,
                "FAILED",
                self.batch_id,
                error_code="CLAIM_LOST",
                message=str(lost),
            )
        except Exception as exc:
            self._release()  # free the claim: for the task's retry, or the next run
            if (full := disk_full(exc)) is not None:
                return self._disk_full(full)
            raise

    def _release(self) -> None:
        b = IngestBatch.__table__
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(b)
                    .where(
                        b.c.batch_id == self.batch_id,
                        b.c.status == BatchStatus.STARTED,
                        b.c.claim_token == self.token,
                    )
                    .values(
                        status=BatchStatus.ABANDONED,
                        finished_at=datetime.now(UTC),
                        lease_until=None,
                    )
                )
        except Exception:  # noqa: S110 - the sweep frees it later if the database is down
            pass

    def _execute(self) -> BatchResult:
        tally, b = self.tally, IngestBatch.__table__
        with self.engine.connect() as conn:
            begin_locked(conn)
            try:
                fault_point("before_first_write", conn=conn)
                load = StagedLoad(conn, targets(self.entity), natural_key(self.entity))
                declared = self._declared_product_lines(conn)
                self._read_and_stage(conn, load, declared)
                load.check_references()
                dupes = load.duplicate_keys()
                if dupes:
                    tally.batch_failures.append(("KEY_DUPLICATE", None, []))
                    tally.duplicate_keys = ", ".join("/".join(map(str, d)) for d in dupes)
                decide(tally, self.batch.name, self.config)
                inserted, updated, n_changes = load.inserted, load.updated, load.changes
                load.drop()
                # A corrected file replaces the quarantine of its earlier versions.
                conn.execute(
                    delete(QuarantineRecord).where(
                        QuarantineRecord.entity == self.entity,
                        QuarantineRecord.file_name == self.batch.name,
                        QuarantineRecord.batch_id != self.batch_id,
                    )
                )
                if tally.quarantine:
                    conn.execute(
                        insert(QuarantineRecord),
                        [{**r, "batch_id": self.batch_id} for r in tally.quarantine],
                    )
                committed = conn.execute(
                    update(b)
                    .where(b.c.batch_id == self.batch_id, b.c.claim_token == self.token)
                    .values(
                        status=BatchStatus.COMMITTED,
                        lease_until=None,
                        finished_at=datetime.now(UTC),
                        rows_read=tally.rows_read,
                        rows_loaded=inserted,
                        rows_updated=updated,
                        rows_quarantined=tally.rows_bad,
                        rows_skipped=tally.rows_skipped,
                        validation=self._validation(True, n_changes),
                    )
                )
                if not committed.rowcount:
                    raise ClaimLost(self._claim_lost_message(conn))
                fault_point("before_commit")
                conn.commit()
            except Refused as refused:
                conn.rollback()
                return self._refused(refused)
            except IngestError as err:  # a structural problem found while reading rows
                conn.rollback()
                return self._rejected(err)
        return BatchResult(
            self.batch.name,
            self.entity,
            "LOADED",
            self.batch_id,
            rows_read=tally.rows_read,
            rows_loaded=inserted,
            rows_updated=updated,
            rows_quarantined=tally.rows_bad,
            rows_skipped=tally.rows_skipped,
            changes=n_changes,
            message=(
                f"{self.batch.name}: {inserted:,} new, {updated:,} updated, "
                f"{tally.rows_bad:,} quarantined, {tally.rows_skipped:,} skipped"
            ),
            warnings=self.batch.warnings,
        )

    def _claim_lost_message(self, conn: Connection) -> str:
        b = IngestBatch.__table__
        row = conn.execute(
            select(
                b.c.batch_id, b.c.claimed_host, b.c.claimed_pid, b.c.started_at, b.c.lease_until
            ).where(b.c.batch_id == self.batch_id)
        ).first()
        who = ClaimHolder.of(row).describe() if row else "another process"
        return (
            f"[CLAIM_LOST] {self.batch.name}: batch {self.batch_id} was taken over by {who} "
            "while this load ran (its lease ran out: the process stalled or lost the "
            "database); nothing of this load was committed"
        )

    def _disk_full(self, reason: str) -> BatchResult:
        """A full disk: the load's transaction rolled back, so nothing of it was written."""
        return BatchResult(
            self.batch.name,
            self.entity,
            "FAILED",
            self.batch_id,
            rows_read=self.tally.rows_read,
            error_code="DISK_FULL",
            message=(
                f"[DISK_FULL] {self.batch.name}: the disk is full ({reason}); nothing of "
                f"batch {self.batch_id} was written: free space and run the ingest again"
            ),
        )

    def _validation(self, success: bool, changes: int) -> dict:
        return self.tally.validation(success, changes, self.batch.warnings, self.config)

    def _record_refusal(self, err: IngestError, **details: Any) -> int:
        """This batch's ledger row as refused for ``err`` (``details``: status, quarantine,
        counts, validation; see ``record_rejection``)."""
        return record_rejection(
            self.engine,
            batch_id=self.batch_id,
            source=self.batch.source,
            entity=self.entity,
            file_name=self.batch.name,
            sha256=self.batch.sha256,
            error=err,
            **details,
        )

    def _refused(self, refused: Refused) -> BatchResult:
        """Record a batch its suite or the threshold refused, with its quarantine."""
        tally, err = self.tally, refused.error
        batch_id = self._record_refusal(
            err,
            status=refused.status,
            quarantine=tally.quarantine or None,
            counts={
                "rows_read": tally.rows_read,
                "rows_quarantined": tally.rows_bad,
                "rows_skipped": tally.rows_skipped,
                "rows_rejected": tally.considered,
            },
            validation=self._validation(False, 0),
        )
        return BatchResult(
            self.batch.name,
            self.entity,
            "QUARANTINED" if refused.status == BatchStatus.QUARANTINED else "REJECTED",
            batch_id,
            rows_read=tally.rows_read,
            rows_quarantined=tally.rows_bad,
            rows_skipped=tally.rows_skipped,
            rows_rejected=tally.considered,
            error_code=err.code,
            message=str(err),
            warnings=self.batch.warnings,
        )

    def _rejected(self, err: IngestError) -> BatchResult:
        """Record a batch rejected for a structural problem found while reading rows."""
        rows_read = self.tally.rows_read
        batch_id = self._record_refusal(
            err, counts={"rows_read": rows_read, "rows_rejected": rows_read}
        )
        return BatchResult(
            self.batch.name,
            self.entity,
            "REJECTED",
            batch_id,
            rows_read=rows_read,
            rows_rejected=rows_read,
            error_code=err.code,
            message=str(err),
        )

    def _read_and_stage(self, conn: Connection, load: StagedLoad, declared: list[str]) -> None:
        """Every chunk prepared against the committed book, then written."""
        book = CommittedBook(self.engine, conn)
        try:
            payments = PaymentsCheck(book) if self.entity == "payments" else None
            # The payments check finds which of a chunk's invoices exist: the invoices
            # are not read whole, however few.
            looked_up = frozenset({FOUND_INVOICES}) if payments else frozenset()
            known = KnownKeys(book, self.entity, self.config.chunk_rows, looked_up)
            known.add("product_line", declared)
            preparer = ChunkPreparer(
                self.batch, self.validator, self.config, self.tally, known, payments
            )
            self._pipeline(conn, load, preparer)
        finally:
            book.close()

    def _pipeline(self, conn: Connection, load: StagedLoad, preparer: ChunkPreparer) -> None:
        """Chunks in order; on PostgreSQL the next chunk is typed and validated in
        this thread while a worker thread stages and writes the previous one (psycopg
        and Arrow release the GIL). One connection, never used by both at once."""
        overlap = conn.dialect.name == "postgresql"
        pool = ThreadPoolExecutor(max_workers=1) if overlap else None
        pending = None
        total = self.batch.total_rows
        try:
            for raw in self.batch.chunks():
                prepared = preparer.prepare(raw)
                if pending is not None:
                    pending.result()
                    pending = None
                if pool is not None:
                    pending = pool.submit(self._write, conn, load, prepared)
                else:
                    self._write(conn, load, prepared)
                fault_point("staged", self.tally.rows_staged, total, conn)
                if self.progress:
                    self.progress(self.batch.name, self.tally.rows_read, total)
            if pending is not None:
                pending.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _write(self, conn: Connection, load: StagedLoad, prepared: Prepared) -> None:
        if prepared.customers is not None:
            self._created_customers(conn, prepared.customers)
        load.write(prepared.good, self.batch_id, self.entity, prepared.existing)

    def _declared_product_lines(self, conn: Connection) -> list[str]:
        """Insert the product lines a mapping declares (if missing); their ids."""
        mapping = self.batch.mapping
        lines = ((mapping.create or {}).get("product_lines") or []) if mapping else []
        if not lines:
            return []
        rows = [
            {
                "product_line_id": str(p["product_line_id"]),
                "name": str(p["name"]),
                "category": p.get("category"),
                "batch_id": self.batch_id,
            }
            for p in lines
        ]
        conn.execute(_insert_new(conn, ProductLine), rows)
        return [r["product_line_id"] for r in rows]

    def _created_customers(self, conn: Connection, customers: pd.DataFrame) -> None:
        """Insert the customers a mapping creates from the chunk's rows (if missing)."""
        lengths = column_lengths("customers")
        # An id too long for the table is no customer: its rows are quarantined for it.
        customers = customers[customers["customer_id"].str.len() <= lengths["customer_id"]]
        if not len(customers):
            return
        rows = [
            {
                "customer_id": r.customer_id,
                "name": str(r.name)[: lengths["name"]],  # a name made from a template
                "country": (r.country or None),
                "status": r.status,
                "named_strategic": False,
                "batch_id": self.batch_id,
            }
            for r in customers.itertuples(index=False)
        ]
        conn.execute(_insert_new(conn, Customer), rows)


def _insert_new(conn: Connection, model):
    """INSERT that leaves an existing row (same key) as it is."""
    make_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return make_insert(model.__table__).on_conflict_do_nothing()
