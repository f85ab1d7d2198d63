"""Shared helpers for the ingest integration tests."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from models.ingest import ingest_config, ingest_file
from models.ingest.lease import database_now
from models.ingest.load import unresolved_references
from models.schema import BatchStatus, IngestBatch, metadata
from tests.ingest_builders import AS_OF

_runners: dict = {}

FACT_TABLES = ("customer", "invoice", "invoice_line", "payment", "product_line", "account_manager")


def runner(config):
    from expectations.runner import SuiteRunner

    key = repr(config)
    if key not in _runners:
        _runners[key] = SuiteRunner(config, AS_OF)
    return _runners[key]


def load(engine, path: Path, config=None, **kw):
    config = config or ingest_config()
    return ingest_file(engine, path, validator=runner(config), config=config, as_of=AS_OF, **kw)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.scalar(select(func.count()).select_from(metadata.tables[t]))
            for t in (*FACT_TABLES, "ingest_change", "ingest_batch")
        }


def checksum(engine, tables=("invoice", "invoice_line", "payment", "customer")) -> str:
    """sha256 of the sorted rows of the fact tables (batch ids excluded)."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for name in tables:
            table = metadata.tables[name]
            cols = [c for c in table.columns if c.name != "batch_id"]
            rows = conn.execute(select(*cols)).all()
            for row in sorted(tuple(str(v) for v in r) for r in rows):
                digest.update("|".join(row).encode())
    return digest.hexdigest()


def rows_of_batch(engine, batch_id: int) -> int:
    with engine.connect() as conn:
        return sum(
            conn.scalar(
                select(func.count())
                .select_from(metadata.tables[t])
                .where(metadata.tables[t].c.batch_id == batch_id)
            )
            for t in ("invoice", "invoice_line", "payment")
        )


def integrity_ok(engine) -> None:
    with engine.connect() as conn:  # the fact tables' references no constraint enforces
        assert unresolved_references(conn, metadata) == []
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def plant_claim(engine, path: Path, *, host: str, pid: int, lease: timedelta) -> int:
    """The claim on invoice lines ``path`` that a process on ``host`` left: ``started``,
    its lease ending ``lease`` from now (negative: it ran out); the batch id."""
    with engine.begin() as conn:
        now = database_now(conn)
        return conn.execute(
            insert(IngestBatch)
            .values(
                source="file:invoice_lines",
                entity="invoice_lines",
                file_name=path.name,
                content_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                status=BatchStatus.STARTED,
                started_at=now - timedelta(minutes=1),
                claim_token=f"left-by-{host}",
                claimed_host=host,
                claimed_pid=pid,
                lease_until=now + lease,
                validation={},
            )
            .returning(IngestBatch.batch_id)
        ).scalar_one()
