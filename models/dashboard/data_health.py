"""Provenance of a snapshot and the data-health read models.

Every page shows where its numbers came from: the snapshot (as-of date, the flow run that
computed it and when), the batches that fed it with their validation state, quarantined
rows, and any batch refused since the previous snapshot (its rows are not in the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, case, func, literal, select

from models.schema import (
    BatchStatus,
    DashboardHeadline,
    IngestBatch,
    QuarantineRecord,
    Snapshot,
    SnapshotStatus,
)

REFUSED = (BatchStatus.REJECTED.value, BatchStatus.QUARANTINED.value)
BATCH_COLUMNS = [
    "batch_id",
    "entity",
    "file_name",
    "status",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_rejected",
    "error_code",
    "error_message",
    "started_at",
    "finished_at",
    "flow_run_id",
]


@dataclass(frozen=True)
class Provenance:
    """Where one snapshot's figures came from, and what to warn about beside them."""

    snapshot_id: int
    as_of: Any
    computed_at: datetime | None
    refreshed_at: datetime | None
    flow_run_id: str | None
    batches: pd.DataFrame  # the batches that fed the snapshot
    refused: pd.DataFrame  # batches refused since the previous snapshot (not in the figures)
    latest_load: datetime | None  # when the newest batch that fed it was committed

    @property
    def quarantined_rows(self) -> int:
        return int(self.batches["rows_quarantined"].sum()) if len(self.batches) else 0

    def warnings_for(self, *entities: str) -> list[str]:
        """One line per batch of these entities with quarantined rows, or refused since."""
        out = []
        b = self.batches
        hit = b[(b["rows_quarantined"] > 0) & b["entity"].isin(entities)] if len(b) else b
        for r in hit.to_dict("records"):
            out.append(
                f"Fed by batch {r['batch_id']} ({r['file_name'] or r['entity']}) with "
                f"{int(r['rows_quarantined']):,} quarantined row(s): those rows are not counted."
            )
        ref = self.refused
        ref = ref[ref["entity"].isin(entities)] if len(ref) else ref
        for r in ref.to_dict("records"):
            out.append(
                f"Batch {r['batch_id']} ({r['file_name'] or r['entity']}) was {r['status']} "
                "after the previous snapshot: its rows are not in these figures."
            )
        return out


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _batches(where) -> Any:
    b = IngestBatch.__table__
    return select(*(b.c[k] for k in BATCH_COLUMNS)).where(where).order_by(b.c.batch_id)


def provenance(engine: Engine, snapshot_id: int) -> Provenance:
    """The provenance of one snapshot (a handful of primary-key and small-table reads)."""
    s, h, b = Snapshot.__table__, DashboardHeadline.__table__, IngestBatch.__table__
    with engine.connect() as conn:
        snap = conn.execute(select(s).where(s.c.snapshot_id == snapshot_id)).mappings().one()
        refreshed = conn.scalar(select(h.c.refreshed_at).where(h.c.snapshot_id == snapshot_id))
        prev_done = conn.scalar(
            select(func.max(s.c.finished_at)).where(
                s.c.snapshot_id < snapshot_id, s.c.status == SnapshotStatus.COMPLETE
            )
        )
    ids = [int(i) for i in (snap["batch_ids"] or [])]
    batches = _frame(engine, _batches(b.c.batch_id.in_(ids))) if ids else _empty()
    refused_where = b.c.status.in_(REFUSED)
    if prev_done is not None:
        refused_where = refused_where & (b.c.started_at > prev_done)
    if snap["finished_at"] is not None:
        refused_where = refused_where & (b.c.started_at <= snap["finished_at"])
    refused = _frame(engine, _batches(refused_where))
    finished = batches["finished_at"].dropna() if len(batches) else pd.Series([], dtype=object)
    return Provenance(
        snapshot_id=snapshot_id,
        as_of=snap["as_of"],
        computed_at=snap["finished_at"],
        refreshed_at=refreshed,
        flow_run_id=snap["flow_run_id"],
        batches=batches,
        refused=refused,
        latest_load=pd.Timestamp(max(finished)).to_pydatetime() if len(finished) else None,
    )


# What decided an entity's latest delivery: a duplicate, an abandoned or a running batch
# changes nothing, so it does not hide a refusal before it.
DECIDED = (BatchStatus.COMMITTED.value, *REFUSED)


def latest_refused(engine: Engine) -> pd.DataFrame:
    """Each entity whose latest delivery (its newest committed or refused batch) was
    refused: that entity's newest data is not in any snapshot, whatever the snapshot."""
    b = IngestBatch.__table__
    newest = (
        select(func.max(b.c.batch_id).label("batch_id"))
        .where(b.c.status.in_(DECIDED))
        .group_by(b.c.entity)
        .subquery()
    )
    query = _batches(b.c.batch_id.in_(select(newest.c.batch_id)) & b.c.status.in_(REFUSED))
    return _frame(engine, query)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=BATCH_COLUMNS)


def recent_batches(engine: Engine, limit: int = 100) -> pd.DataFrame:
    """The newest batches with their status, counts and validation result."""
    b = IngestBatch.__table__
    q = (
        select(*(b.c[k] for k in BATCH_COLUMNS), b.c.validation)
        .order_by(b.c.batch_id.desc())
        .limit(limit)
    )
    frame = _frame(engine, q)
    frame["validation"] = frame["validation"].map(validation_summary)
    return frame


def validation_summary(result: Any) -> str:
    """One line for a stored validation result: passed, or which rules failed how often."""
    if not result:
        return "not validated"
    if isinstance(result, dict):
        checks = [r for r in result.get("expectations", []) if isinstance(r, dict)]
        failed = [
            f"{r.get('rule') or r.get('type')} on {r.get('column') or 'the file'} "
            f"({int(r.get('unexpected_count') or 0):,} row(s))"
            for r in checks
            if not r.get("success", True)
        ]
        if failed:
            return "rules broken: " + "; ".join(failed)
        return f"passed ({len(checks)} checks)" if result.get("success", True) else "failed"
    return str(result)


@dataclass(frozen=True)
class QuarantineSummary:
    """The quarantine per batch and rule, and how many records it holds in all.

    A record is one rule one row broke (a row that broke two rules has two), or the
    reason a file was refused whole (e.g. ``FILE_UNKNOWN_ENTITY``: no row was read).
    ``records`` and ``groups`` come from one query: ``records`` is the sum of every
    group's ``records``, those past ``limit`` included, so a page's figure and its table
    cannot disagree."""

    records: int
    groups: int  # groups in all; ``by_rule`` holds the newest ``limit`` of them
    by_rule: pd.DataFrame  # batch_id, entity, file_name, rule_code, records

    @property
    def complete(self) -> bool:
        """``by_rule`` holds every group (nothing cut by the limit)."""
        return len(self.by_rule) == self.groups


def quarantine_summary(engine: Engine, limit: int = 500) -> QuarantineSummary:
    """Quarantine records per batch and rule (newest batches first), with the totals
    over all of them (window sums of the same grouped query)."""
    q = QuarantineRecord.__table__
    records = func.count().label("records")
    query = (
        select(
            q.c.batch_id,
            q.c.entity,
            q.c.file_name,
            q.c.rule_code,
            records,
            func.sum(func.count()).over().label("all_records"),
            func.count().over().label("all_groups"),
        )
        .group_by(q.c.batch_id, q.c.entity, q.c.file_name, q.c.rule_code)
        .order_by(q.c.batch_id.desc(), q.c.rule_code)
        .limit(limit)
    )
    frame = _frame(engine, query)
    total = int(frame["all_records"].iloc[0]) if len(frame) else 0
    groups = int(frame["all_groups"].iloc[0]) if len(frame) else 0
    frame = frame.drop(columns=["all_records", "all_groups"])
    frame["records"] = frame["records"].astype("int64")
    return QuarantineSummary(total, groups, frame)


def quarantine_rows(
    engine: Engine, limit: int = 200, *, book: str | None = None
) -> pd.DataFrame | None:
    """The newest quarantined rows with the rule they broke.

    None for a reader restricted to a ``book`` (an account manager, see
    :func:`models.access.book_of`): a quarantined row never reached the customer master, so
    whose customer it names is unknown, and its key and message may name anyone's customer.
    The counts per batch and rule (:func:`quarantine_summary`) name no customer.
    """
    if book is not None:
        return None
    q = QuarantineRecord.__table__
    query = (
        select(
            q.c.batch_id,
            q.c.file_name,
            q.c.line_no,
            q.c.column_name,
            q.c.natural_key,
            q.c.rule_code,
            q.c.message,
        )
        .order_by(q.c.quarantine_id.desc())
        .limit(limit)
    )
    return _frame(engine, query)


def recent_snapshots(engine: Engine, limit: int = 20) -> pd.DataFrame:
    """The newest snapshots: status, when, which flow run, which batches, refreshed or not."""
    s, h = Snapshot.__table__, DashboardHeadline.__table__
    q = (
        select(
            s.c.snapshot_id,
            s.c.as_of,
            s.c.status,
            s.c.created_at,
            s.c.finished_at,
            s.c.flow_run_id,
            s.c.batch_ids,
            h.c.refreshed_at,
        )
        .select_from(s.outerjoin(h, h.c.snapshot_id == s.c.snapshot_id))
        .order_by(s.c.snapshot_id.desc())
        .limit(limit)
    )
    frame = _frame(engine, q)
    frame["status"] = frame["status"].map(lambda v: getattr(v, "value", v))
    frame["batches"] = frame["batch_ids"].map(_ranges)
    return frame.drop(columns=["batch_ids"])


def _ranges(ids: list | None) -> str:
    """[1, 2, 3, 7] -> '1-3, 7' (a snapshot may read thousands of batches)."""
    ids = sorted(int(i) for i in (ids or []))
    parts: list[str] = []
    start = prev = None
    for i in [*ids, None]:
        if i is not None and prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    return ", ".join(parts)


def recorded_runs(engine: Engine, limit: int = 10) -> pd.DataFrame:
    """The newest flow runs as the database recorded them (when no scheduler answers).

    An ingest run is the batches sharing its flow run id (first start to last finish,
    how many were refused); a recompute run is its snapshot. Newest first; one row per run:
    flow_run_id, work, outcome, started_at, finished_at, duration_seconds. The database
    knows nothing of schedules: the next runs only the scheduler knows.
    """
    b, s = IngestBatch.__table__, Snapshot.__table__
    refused = func.sum(case((b.c.status.in_(REFUSED), 1), else_=0))
    ingests = (
        select(
            b.c.flow_run_id,
            literal("ingest").label("work"),
            func.count().label("batches"),
            refused.label("refused"),
            func.min(b.c.started_at).label("started_at"),
            func.max(b.c.finished_at).label("finished_at"),
        )
        .where(b.c.flow_run_id.is_not(None))
        .group_by(b.c.flow_run_id)
        .order_by(func.min(b.c.started_at).desc())
        .limit(limit)
    )
    recomputes = (
        select(s.c.flow_run_id, s.c.snapshot_id, s.c.status, s.c.created_at, s.c.finished_at)
        .order_by(s.c.snapshot_id.desc())
        .limit(limit)
    )
    runs = [
        {
            "flow_run_id": r["flow_run_id"],
            "work": f"ingest of {int(r['batches'])} batch(es)",
            "outcome": f"{int(r['refused'])} refused" if r["refused"] else "all loaded",
            "started_at": r["started_at"],
            "finished_at": r["finished_at"],
        }
        for r in _frame(engine, ingests).to_dict("records")
    ]
    runs += [
        {
            "flow_run_id": r["flow_run_id"],
            "work": f"recompute of snapshot {r['snapshot_id']}",
            "outcome": getattr(r["status"], "value", r["status"]),
            "started_at": r["created_at"],
            "finished_at": r["finished_at"],
        }
        for r in _frame(engine, recomputes).to_dict("records")
    ]
    columns = ["flow_run_id", "work", "outcome", "started_at", "finished_at"]
    frame = pd.DataFrame(runs, columns=columns)
    if frame.empty:
        return frame.assign(duration_seconds=pd.Series(dtype=float))
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    frame["duration_seconds"] = (frame["finished_at"] - frame["started_at"]).dt.total_seconds()
    return frame.sort_values("started_at", ascending=False).head(limit).reset_index(drop=True)
