"""The load transaction of one claimed batch (see service.py for the whole story)."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from models.schema import (
    BatchStatus,
    Customer,
    IngestBatch,
    InvoiceLine,
    Payment,
    ProductLine,
    QuarantineRecord,
)

from .claim import begin_locked, fault_point, record_rejection
from .entities import foreign_keys, natural_key, targets
from .errors import CODES, IngestError
from .load import StagedLoad
from .mapping import apply_mapping
from .normalise import header_mismatches, normalise
from .result import BatchResult
from .settings import IngestConfig
from .validation import Validator, merge_summaries


class _Refused(Exception):
    def __init__(self, error: IngestError, status: BatchStatus) -> None:
        self.error, self.status = error, status


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
    ) -> None:
        self.engine, self.batch, self.batch_id = engine, batch, batch_id
        self.validator, self.config, self.as_of, self.progress = validator, config, as_of, progress
        self.entity = batch.entity
        self.rows_read = self.rows_bad = self.rows_skipped = self.rows_staged = 0
        self.quarantine: list[dict] = []
        self.summary: list[dict] = []
        self.batch_failures: list[tuple[str, str | None, list[int]]] = []
        self.state: dict[str, Any] = {}

    # -- helpers --------------------------------------------------------------------------

    def _known(self, conn) -> dict[str, set]:
        known: dict[str, set] = {}
        for _col, (table, col) in foreign_keys(self.entity).items():
            name = f"known.{table}"
            if name in known:
                continue
            tbl = next(t for t in _tables() if t.name == table)
            known[name] = set(conn.execute(select(tbl.c[col])).scalars())
        return known

    def _payments_context(self, conn) -> None:
        line = InvoiceLine.__table__
        pay = Payment.__table__
        self.state["invoice_total"] = dict(
            conn.execute(
                select(line.c.invoice_id, func.sum(line.c.amount)).group_by(line.c.invoice_id)
            ).all()
        )
        self.state["paid_total"] = dict(
            conn.execute(
                select(pay.c.invoice_id, func.sum(pay.c.amount))
                .where(pay.c.invoice_id.is_not(None))
                .group_by(pay.c.invoice_id)
            ).all()
        )
        self.state["existing_payment"] = {
            r.payment_id: (r.invoice_id, float(r.amount))
            for r in conn.execute(select(pay.c.payment_id, pay.c.invoice_id, pay.c.amount))
        }
        self.state["paid_in_batch"] = {}

    def _overpayment(self, check: pd.DataFrame) -> pd.Series:
        total = {k: float(v) for k, v in self.state["invoice_total"].items()}
        paid = {k: float(v) for k, v in self.state["paid_total"].items()}
        existing = self.state["existing_payment"]
        inv = check["invoice_id"]
        amount = check["amount"].fillna(0.0)
        # Already-recorded payments re-sent in this batch must not count twice.
        resent = check["payment_id"].map(
            lambda p: existing.get(p, (None, 0.0))[1] if p in existing else 0.0
        )
        prior = inv.map(paid).fillna(0.0) - resent
        carried = inv.map(self.state["paid_in_batch"]).fillna(0.0)
        cumulative = amount.groupby(inv, sort=False).cumsum() + carried
        for k, v in amount.groupby(inv, sort=False).sum().items():
            self.state["paid_in_batch"][k] = self.state["paid_in_batch"].get(k, 0.0) + v
        over = prior + cumulative - inv.map(total)
        return over.where(inv.notna() & inv.isin(total.keys())).astype("float64")

    def _quarantine_rows(self, raw: pd.DataFrame, bad: dict[int, list[tuple[str, str | None]]]):
        for idx, rules in sorted(bad.items()):
            if len(self.quarantine) >= self.config.max_quarantine_records:
                return
            values = {str(k): ("" if pd.isna(v) else str(v)) for k, v in raw.loc[idx].items()}
            raw_sha = hashlib.sha256("\x1f".join(values.values()).encode()).hexdigest()
            key = "/".join(values.get(k, "") for k in natural_key(self.entity))
            line = int(idx) + 2  # header is line 1
            seen = set()
            for code, column in rules:
                if (code, column) in seen:
                    continue
                seen.add((code, column))
                where = f"{self.batch.name} line {line}" + (f" column {column}" if column else "")
                value = values.get(column or "")
                shown = f" (value {value!r})" if value is not None else ""
                self.quarantine.append(
                    {
                        "entity": self.entity,
                        "file_name": self.batch.name,
                        "line_no": line,
                        "column_name": column,
                        "raw_sha256": raw_sha,
                        "natural_key": key[:200] or None,
                        "raw": values,
                        "rule_code": code,
                        "message": f"{where}: {CODES.get(code, code)}{shown}",
                    }
                )

    # -- the transaction ------------------------------------------------------------------

    def execute(self):
        """Run the load transaction; returns the BatchResult (refusals included)."""
        tgts = targets(self.entity)
        try:
            return self._execute(tgts)
        except (_Refused, IngestError):
            raise
        except Exception:
            # A transient failure (the task retries it): free the claim for the retry.
            self._release()
            raise

    def _release(self) -> None:
        b = IngestBatch.__table__
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(b)
                    .where(b.c.batch_id == self.batch_id, b.c.status == BatchStatus.STARTED)
                    .values(status=BatchStatus.ABANDONED, finished_at=datetime.now(UTC))
                )
        except Exception:  # noqa: S110 - the sweep frees it later if the database is down
            pass

    def _execute(self, tgts):

        b = IngestBatch.__table__
        with self.engine.connect() as conn:
            begin_locked(conn)
            try:
                fault_point("before_first_write")
                load = StagedLoad(conn, tgts, natural_key(self.entity))
                self._created_rows(conn, None)  # product lines a mapping declares
                known = self._known(conn)
                if self.entity == "payments":
                    self._payments_context(conn)
                self._pipeline(conn, load, known)
                load.check_references()
                dupes = load.duplicate_keys()
                if dupes:
                    self.batch_failures.append(("KEY_DUPLICATE", None, []))
                    self._dupe_message = ", ".join("/".join(map(str, d)) for d in dupes)
                self._decide()
                counts = {"inserted": load.inserted, "updated": load.updated}
                n_changes = load.changes
                load.drop()
                # A corrected file replaces the quarantine of its earlier versions.
                conn.execute(
                    delete(QuarantineRecord).where(
                        QuarantineRecord.entity == self.entity,
                        QuarantineRecord.file_name == self.batch.name,
                        QuarantineRecord.batch_id != self.batch_id,
                    )
                )
                if self.quarantine:
                    conn.execute(
                        insert(QuarantineRecord),
                        [{**r, "batch_id": self.batch_id} for r in self.quarantine],
                    )
                conn.execute(
                    update(b)
                    .where(b.c.batch_id == self.batch_id)
                    .values(
                        status=BatchStatus.COMMITTED,
                        finished_at=datetime.now(UTC),
                        rows_read=self.rows_read,
                        rows_loaded=counts["inserted"],
                        rows_updated=counts["updated"],
                        rows_quarantined=self.rows_bad,
                        rows_skipped=self.rows_skipped,
                        validation=self._validation(True, n_changes),
                    )
                )
                fault_point("before_commit")
                conn.commit()
            except _Refused as refused:
                conn.rollback()
                err = refused.error
                batch_id = record_rejection(
                    self.engine,
                    batch_id=self.batch_id,
                    source=self.batch.source,
                    entity=self.entity,
                    file_name=self.batch.name,
                    sha256=self.batch.sha256,
                    error=err,
                    status=refused.status,
                    quarantine=self.quarantine or None,
                    counts={
                        "rows_read": self.rows_read,
                        "rows_quarantined": self.rows_bad,
                        "rows_skipped": self.rows_skipped,
                        "rows_rejected": self.rows_read - self.rows_skipped,
                    },
                    validation=self._validation(False, 0),
                )
                return BatchResult(
                    self.batch.name,
                    self.entity,
                    "QUARANTINED" if refused.status == BatchStatus.QUARANTINED else "REJECTED",
                    batch_id,
                    rows_read=self.rows_read,
                    rows_quarantined=self.rows_bad,
                    rows_skipped=self.rows_skipped,
                    rows_rejected=self.rows_read - self.rows_skipped,
                    error_code=err.code,
                    message=str(err),
                    warnings=self.batch.warnings,
                )
            except IngestError as err:  # a structural problem found while reading rows
                conn.rollback()
                batch_id = record_rejection(
                    self.engine,
                    batch_id=self.batch_id,
                    source=self.batch.source,
                    entity=self.entity,
                    file_name=self.batch.name,
                    sha256=self.batch.sha256,
                    error=err,
                    counts={"rows_read": self.rows_read, "rows_rejected": self.rows_read},
                )
                return BatchResult(
                    self.batch.name,
                    self.entity,
                    "REJECTED",
                    batch_id,
                    rows_read=self.rows_read,
                    rows_rejected=self.rows_read,
                    error_code=err.code,
                    message=str(err),
                )
        return BatchResult(
            self.batch.name,
            self.entity,
            "LOADED",
            self.batch_id,
            rows_read=self.rows_read,
            rows_loaded=counts["inserted"],
            rows_updated=counts["updated"],
            rows_quarantined=self.rows_bad,
            rows_skipped=self.rows_skipped,
            changes=n_changes,
            message=(
                f"{self.batch.name}: {counts['inserted']:,} new, {counts['updated']:,} updated, "
                f"{self.rows_bad:,} quarantined, {self.rows_skipped:,} skipped"
            ),
            warnings=self.batch.warnings,
        )

    def _validation(self, success: bool, changes: int) -> dict[str, Any]:
        return {
            "success": success and not self.rows_bad,
            "expectations": self.summary,
            "rows_bad": self.rows_bad,
            "changes": changes,
            "warnings": self.batch.warnings,
            "threshold": self.config.row_quarantine_threshold,
        }

    def _decide(self) -> None:
        name = self.batch.name
        if self.batch_failures:
            code, column, rows = self.batch_failures[0]
            where = f" line {rows[0] + 2}" if rows else ""
            detail = getattr(self, "_dupe_message", "")
            problem = {
                "KEY_DUPLICATE": "the same natural key appears more than once"
                + (f" ({detail})" if detail else ""),
            }.get(code, CODES.get(code, code))
            raise _Refused(
                IngestError(
                    code,
                    name + where,
                    f"{problem}: the batch failed its suite; nothing was loaded",
                    column=column,
                ),
                BatchStatus.QUARANTINED,
            )
        considered = self.rows_read - self.rows_skipped
        share = self.rows_bad / considered if considered else 0.0
        if share > self.config.row_quarantine_threshold:
            first = self.quarantine[0] if self.quarantine else None
            hint = f"; first: {first['message']}" if first else ""
            raise _Refused(
                IngestError(
                    "ROWS_ABOVE_THRESHOLD",
                    name,
                    f"{self.rows_bad:,} of {considered:,} rows broke rules ({share:.1%} > "
                    f"ingest.row_quarantine_threshold {self.config.row_quarantine_threshold:.1%})"
                    f": batch rejected, 0 rows loaded{hint}",
                ),
                BatchStatus.REJECTED,
            )

    def _created_rows(self, conn, customers: pd.DataFrame | None) -> None:
        mapping = self.batch.mapping
        if mapping is None:
            return
        make_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        if customers is None:
            lines = (mapping.create or {}).get("product_lines") or []
            if lines:
                rows = [
                    {
                        "product_line_id": str(p["product_line_id"]),
                        "name": str(p["name"]),
                        "category": p.get("category"),
                        "batch_id": self.batch_id,
                    }
                    for p in lines
                ]
                conn.execute(make_insert(ProductLine.__table__).on_conflict_do_nothing(), rows)
            return
        if len(customers):
            rows = [
                {
                    "customer_id": r.customer_id,
                    "name": r.name[:200],
                    "country": (r.country or None),
                    "status": r.status,
                    "named_strategic": False,
                    "batch_id": self.batch_id,
                }
                for r in customers.itertuples(index=False)
            ]
            conn.execute(make_insert(Customer.__table__).on_conflict_do_nothing(), rows)

    def _pipeline(self, conn, load: StagedLoad, known: dict[str, set]) -> None:
        """Chunks in order; on PostgreSQL the next chunk is typed and validated in
        this thread while a worker thread stages and writes the previous one (psycopg
        and Arrow release the GIL). One connection, never used by both at once."""
        overlap = conn.dialect.name == "postgresql"
        pool = ThreadPoolExecutor(max_workers=1) if overlap else None
        pending = None
        try:
            for raw in self.batch.chunks():
                prepared = self._prepare(raw, known)
                if pending is not None:
                    pending.result()
                    pending = None
                if pool is not None:
                    pending = pool.submit(self._write, conn, load, prepared)
                else:
                    self._write(conn, load, prepared)
                fault_point("staged", self.rows_staged, self.batch.total_rows)
                if self.progress:
                    self.progress(self.batch.name, self.rows_read, self.batch.total_rows)
            if pending is not None:
                pending.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _write(self, conn, load: StagedLoad, prepared: dict[str, Any]) -> None:
        if prepared["customers"] is not None:
            self._created_rows(conn, prepared["customers"])
        load.write(prepared["good"], self.batch_id, self.entity)

    def _prepare(self, raw: pd.DataFrame, known: dict[str, set]) -> dict[str, Any]:
        """Map, type and validate one chunk; no database work (runs beside a flush)."""
        self.rows_read += len(raw)
        mapping = self.batch.mapping
        frame = raw
        customers = None
        if mapping is not None:
            mapped = apply_mapping(mapping, raw, self.state)
            self.rows_skipped += mapped.skipped
            frame = mapped.frame
            if mapped.customers is not None and len(mapped.customers):
                customers = mapped.customers
                known.setdefault("known.customer", set()).update(mapped.customers["customer_id"])
        norm = normalise(self.entity, frame, date_format=mapping.date_format if mapping else None)
        bad = norm.violations
        if self.entity == "invoice_lines":
            mismatch, carry = header_mismatches(norm.load, self.state.get("headers"))
            self.state["headers"] = carry
            for idx in mismatch.index[mismatch.to_numpy()]:
                bad.setdefault(int(idx), []).append(("INVOICE_HEADER_MISMATCH", "invoice_id"))
        if self.entity == "payments":
            norm.check["overpayment"] = self._overpayment(norm.check)
        # Keys of this batch resolve references inside it (a parent customer in the same file).
        own_table = targets(self.entity)[0].table.name
        for table, ref in foreign_keys(self.entity).values():
            if table == own_table and ref in norm.load:
                known.setdefault(f"known.{table}", set()).update(norm.load[ref].dropna())
        outcome = self.validator(self.entity, norm.check, known)
        self.summary = merge_summaries(self.summary, outcome.summary)
        for idx, rules in outcome.rows.items():
            # An unreadable value is empty once typed: report it once, as unreadable.
            typed = {col for _code, col in bad.get(idx, [])}
            rules = [r for r in rules if not (r[0] == "REQUIRED_MISSING" and r[1] in typed)]
            if rules:
                bad.setdefault(idx, []).extend(rules)
        for code, column, rows in outcome.batch:
            self.batch_failures.append((code, column, rows))
            for idx in rows:
                bad.setdefault(idx, []).append((code, column))
        self.rows_bad += len(bad)
        if bad:
            self._quarantine_rows(raw, bad)
        good = norm.load.drop(index=list(bad)) if bad else norm.load
        self.rows_staged += len(good) + len(bad) + (len(raw) - len(frame))
        return {"good": good, "customers": customers}


def _tables():
    from models.schema import metadata

    return metadata.tables.values()


__all__ = ["LoadRun", "json"]
