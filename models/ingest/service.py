"""The load service: the one place that opens ingest transactions.

One batch (a file or a query result) goes through:

1. checks on the raw input (reader) -> a rejection is recorded, nothing loads;
2. a short *claim* transaction: the ledger row ``started`` under
   ``UNIQUE(source, content_sha256)``, with a lease this process renews while it
   works (lease.py); an existing committed row means DUPLICATE; a ``started`` one
   another living process holds is waited for (IN_PROGRESS if it still holds it
   when the wait runs out); a rejected/abandoned one, or one whose lease ran out,
   is claimed again;
3. the *load* transaction, under a database lock (``pg_advisory_xact_lock`` on
   PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite): chunks are typed, validated by the
   suite, staged in bulk; then one upsert per target table, the change log, the
   quarantine and the ledger row ``committed`` -- all in one COMMIT. A process
   killed anywhere before that COMMIT leaves no row of the batch behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from models.canonical import ENTITIES, entity_for_file

from .claim import ADVISORY_LOCK_KEY, claim_batch, record_rejection
from .errors import CODES, IngestError
from .file_checks import FileFacts, check_header, inspect_file
from .mapping import Mapping
from .paths import unknown_entity
from .query_source import QuerySource
from .reader import read_chunks
from .result import BatchResult
from .settings import IngestConfig
from .validation import ValidationOutcome, Validator

Progress = Callable[[str, int, int], None]


# --- the batch ------------------------------------------------------------------------------


@dataclass
class _Input:
    """One batch to load, independent of where it comes from."""

    name: str
    entity: str
    source: str
    sha256: str
    total_rows: int
    chunks: Callable[[], Iterator[pd.DataFrame]]
    mapping: Mapping | None = None
    warnings: list[str] = field(default_factory=list)


def _file_sha(path: Path, limit: int) -> str:
    try:
        st = path.stat()
    except OSError:
        return hashlib.sha256(f"missing:{path}".encode()).hexdigest()
    if st.st_size > limit:  # do not read a file we refuse: its size and time identify it
        return hashlib.sha256(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ingest_file(
    engine: Engine,
    path: Path,
    *,
    validator: Validator,
    config: IngestConfig,
    as_of: date,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
    flow_run_id: str | None = None,
    waiting: Callable[[str], None] | None = None,
) -> BatchResult:
    """Ingest one file (canonical CSV/Parquet, or a foreign export with a mapping)."""
    path = Path(path)
    name = path.name
    spec = ENTITIES.get(mapping.entity) if mapping else entity_for_file(name)
    entity = spec.entity if spec else None
    source = f"file:{entity or 'unknown'}" + (f":{mapping.name}" if mapping else "")
    try:
        if not path.is_file():  # before the name: a typo in the path is the problem
            raise IngestError("FILE_NOT_FOUND", name, "no such file: check the path")
        if spec is None:
            raise unknown_entity(name)
        if mapping:
            expected, required = mapping.expected_source, mapping.required_source
            encoding, delimiter = mapping.encoding, mapping.delimiter
        else:
            expected = spec.column_names + sorted(_extra(spec.entity))
            required = [c.name for c in spec.columns if c.required]
            encoding, delimiter = "utf-8", ","
        facts: FileFacts = inspect_file(
            path,
            config=config,
            expected=expected,
            required=required,
            encoding=encoding,
            delimiter=delimiter,
        )
    except IngestError as exc:
        sha = _file_sha(path, config.max_file_bytes)
        if mapping:
            sha = hashlib.sha256((sha + mapping.sha256).encode()).hexdigest()
        batch_id = record_rejection(
            engine,
            batch_id=None,
            source=source,
            entity=entity,
            file_name=name,
            sha256=sha,
            error=exc,
        )
        return BatchResult(
            name, entity, "REJECTED", batch_id, error_code=exc.code, message=str(exc)
        )
    sha = facts.sha256
    if mapping:  # the same file read through another mapping is another batch
        sha = hashlib.sha256((sha + mapping.sha256).encode()).hexdigest()
    batch = _Input(
        name=name,
        entity=spec.entity,
        source=source,
        sha256=sha,
        total_rows=facts.data_lines,
        chunks=lambda: read_chunks(facts, config, encoding=encoding, delimiter=delimiter),
        mapping=mapping,
        warnings=facts.warnings,
    )
    return _ingest(engine, batch, validator, config, as_of, progress, flow_run_id, waiting)


def ingest_query(
    engine: Engine,
    query: QuerySource,
    *,
    validator: Validator,
    config: IngestConfig,
    as_of: date,
    progress: Progress | None = None,
    flow_run_id: str | None = None,
    waiting: Callable[[str], None] | None = None,
) -> BatchResult:
    """Ingest the result of a SQL query on another database (invoice lines or payments)."""
    name = query.name
    source = f"sql:{query.entity}"
    with ExitStack() as stack:
        try:
            if query.entity not in {"invoice_lines", "payments"}:
                raise IngestError(
                    "SOURCE_QUERY_FAILED", name, "a query can load invoice_lines or payments only"
                )
            spool = stack.enter_context(query.spooled(config.chunk_rows))
            if spool.rows == 0:
                raise IngestError("FILE_HEADER_ONLY", name, "the query returned no rows")
            spec = ENTITIES[query.entity]
            facts = FileFacts(Path("."), name, 0, spool.sha256, "sql", spool.columns, spool.rows)
            check_header(
                facts,
                spec.column_names + sorted(_extra(query.entity)),
                [c.name for c in spec.columns if c.required],
                config,
            )
        except IngestError as exc:
            sha = hashlib.sha256(f"{query.url}:{query.query}".encode()).hexdigest()
            batch_id = record_rejection(
                engine,
                batch_id=None,
                source=source,
                entity=query.entity,
                file_name=name,
                sha256=sha,
                error=exc,
            )
            return BatchResult(
                name, query.entity, "REJECTED", batch_id, error_code=exc.code, message=str(exc)
            )
        batch = _Input(
            name,
            query.entity,
            source,
            spool.sha256,
            spool.rows,
            lambda: spool.chunks(config.chunk_rows),
            warnings=facts.warnings,
        )
        return _ingest(engine, batch, validator, config, as_of, progress, flow_run_id, waiting)


def _extra(entity: str) -> set[str]:
    from .entities import EXTRA_COLUMNS

    return EXTRA_COLUMNS.get(entity, set())


def _ingest(
    engine: Engine,
    batch: _Input,
    validator: Validator,
    config: IngestConfig,
    as_of: date,
    progress: Progress | None,
    flow_run_id: str | None,
    waiting: Callable[[str], None] | None,
) -> BatchResult:
    claim = claim_batch(
        engine,
        source=batch.source,
        entity=batch.entity,
        file_name=batch.name,
        sha256=batch.sha256,
        flow_run_id=flow_run_id,
        config=config,
        waiting=waiting,
    )
    if claim.verdict == "DUPLICATE":
        message = f"{batch.name}: already loaded as batch {claim.batch_id}; nothing to do"
        return BatchResult(batch.name, batch.entity, "DUPLICATE", claim.batch_id, message=message)
    if claim.verdict is not None:
        holder = claim.holder.describe() if claim.holder else "another process"
        return BatchResult(
            batch.name,
            batch.entity,
            claim.verdict,
            claim.batch_id,
            error_code="BATCH_IN_PROGRESS",
            message=(
                f"[BATCH_IN_PROGRESS] {batch.name}: batch {claim.batch_id} is still being "
                f"loaded by {holder}; waited {config.claim_wait_seconds:g} s "
                "(ingest.claim_wait_seconds): run again once it has finished"
            ),
        )
    from .lease import LeaseKeeper
    from .run import LoadRun

    assert claim.token is not None  # a claim that is ours carries its token
    run = LoadRun(engine, batch, claim.batch_id, validator, config, as_of, progress, claim.token)
    with LeaseKeeper(engine, claim.batch_id, claim.token, config.claim_lease_seconds):
        return run.execute()


__all__ = [
    "ADVISORY_LOCK_KEY",
    "CODES",
    "IngestError",
    "BatchResult",
    "QuerySource",
    "ValidationOutcome",
    "claim_batch",
    "ingest_file",
    "ingest_query",
    "record_rejection",
]
