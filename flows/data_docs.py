"""The ingest task's last step: the batch's Great Expectations Data Docs page.

It runs after the service has returned, so after the load's COMMIT (or its refusal): the
page never holds a transaction open or slows the load. A failure to write it is logged as
a warning; the batch's outcome stands.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from models.ingest import BatchResult, IngestConfig
from models.ingest.data_docs import data_docs_root, remove_batch_runs

NOT_VALIDATED_HERE = {"DUPLICATE", "IN_PROGRESS"}  # the batch id names an earlier load


def publish_data_docs(
    runner: Any,
    result: BatchResult,
    config: IngestConfig,
    logger: logging.Logger | logging.LoggerAdapter,
    data_dir: Path | None = None,
) -> Path | None:
    """Write the Data Docs page of the batch ``runner`` just validated; its path or None.

    ``data_dir`` defaults to the settings' (``ACCOUNTOPS_DATA_DIR``). A batch refused
    before any row was validated gets no page, and loses any page a batch of the same id
    left there (a database built afresh numbers its batches from 1 again).
    """
    try:
        # Taken whatever happens next, so the runner never carries it to another batch.
        validation = runner.take_validation(result.entity) if result.entity else None
        if result.batch_id is None or result.outcome in NOT_VALIDATED_HERE:
            return None
        from expectations.data_docs import BatchFacts, publish_validation

        if data_dir is None:
            from models.settings import Settings

            data_dir = Settings().data_dir
        root = data_docs_root(data_dir)
        if validation is None:
            remove_batch_runs(root, result.batch_id)
            return None
        if config.data_docs_keep <= 0:
            return None
        started = time.perf_counter()
        facts = BatchFacts(
            batch_id=result.batch_id,
            entity=str(result.entity),
            file_name=result.file,
            outcome=result.outcome,
            message=result.message,
            rows_read=result.rows_read,
            rows_quarantined=result.rows_quarantined,
        )
        page = publish_validation(root, config.data_docs_keep, validation, facts)
    except Exception as exc:  # the docs are a report: the batch's outcome stands
        logger.warning(
            "Data Docs of batch %s not written (the batch is %s regardless): %s",
            result.batch_id,
            result.outcome,
            exc,
        )
        return None
    logger.info(
        "Data Docs of batch %s written in %.0f ms: %s",
        result.batch_id,
        (time.perf_counter() - started) * 1000,
        page,
    )
    return page
