"""Line numbers name the physical line a row starts on, also after quoted values that
hold line breaks: in the quarantine, in the batch's one-line error, whether the bad row
is found while typing (a chunk) or while splitting the file (a ragged or cut-off row),
and whichever chunk the breaks and the bad row fall in."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from models.ingest import ingest_config
from models.schema import QuarantineRecord
from tests.ingest_builders import (
    BASE_ENTITIES,
    MULTILINE_BAD_KINDS,
    build_multiline,
    fixture_batch,
)

from .ingest_support import load, rows_of_batch


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


def _quarantine(engine, batch_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(
            select(QuarantineRecord.__table__).where(QuarantineRecord.batch_id == batch_id)
        ).all()


@pytest.mark.parametrize("chunk_rows", [200_000, 3], ids=["one_chunk", "chunks_of_3"])
@pytest.mark.parametrize("kind", MULTILINE_BAD_KINDS)
def test_bad_row_after_multiline_values_is_named_by_its_physical_line(
    kind, chunk_rows, base, tmp_path, engine
):
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    case = build_multiline(kind, base, tmp_path / "in")
    config = replace(ingest_config(), chunk_rows=chunk_rows)

    result = load(engine, case.path, config)

    assert result.outcome == "REJECTED", result
    message = str(result.message)
    assert "\n" not in message and f"invoice_lines.csv line {case.line}" in message, message
    records = _quarantine(engine, result.batch_id)
    assert [(r.rule_code, r.line_no) for r in records] == [(case.code, case.line)]
    assert f"line {case.line}" in records[0].message
    if case.row_level:
        assert result.error_code == "ROWS_ABOVE_THRESHOLD"
        assert records[0].column_name == case.column
    else:
        assert result.error_code == case.code
    assert rows_of_batch(engine, result.batch_id) == 0


def test_rows_with_line_breaks_load_and_the_bad_row_alone_is_quarantined(base, tmp_path, engine):
    case = build_multiline("non_numeric_amount", base, tmp_path / "in")
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    config = replace(ingest_config(), chunk_rows=4, row_quarantine_threshold=0.1)

    result = load(engine, case.path, config)

    assert result.outcome == "LOADED", result.message
    assert (result.rows_loaded, result.rows_quarantined) == (19, 1)
    records = _quarantine(engine, result.batch_id)
    assert [(r.rule_code, r.line_no, r.column_name) for r in records] == [
        ("NUMBER_INVALID", case.line, "amount")
    ]
