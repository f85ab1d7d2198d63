"""I5: the malformed-file kinds (the 20 of I5; invoice lines whose quantity and amount
disagree in sign; ids with an invisible character or a look-alike letter; values longer
than their column holds, the same on SQLite and PostgreSQL), each with a stable code, a
message naming file, line (and column), a quarantine record and 0 fact rows from the
file."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models.config import load_config
from models.ingest import ingest_config
from models.ingest.entities import column_lengths
from models.schema import BatchStatus, IngestBatch, Invoice, QuarantineRecord
from tests.ingest_builders import (
    BASE_ENTITIES,
    MALFORMED_KINDS,
    build_malformed,
    fixture_batch,
    read_rows,
    write_rows,
)

from .ingest_support import counts, load, rows_of_batch


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_malformed(kind, base, tmp_path, engine):
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    case = build_malformed(kind, base, tmp_path / "in")
    if case.needs_invoices:
        assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    config = ingest_config(load_config()) if not case.config else None
    if case.config:
        raw = load_config()
        raw["ingest"] = {**raw["ingest"], **case.config}
        config = ingest_config(raw)
    before = counts(engine)
    result = load(engine, case.path, config)

    if case.loads:  # the positive control (UTF-8 BOM)
        assert result.outcome == "LOADED", result.message
        assert result.rows_loaded == 20
        return

    assert result.outcome in {"REJECTED", "QUARANTINED"}, result
    name = case.path.name
    with engine.connect() as conn:
        batch = conn.execute(
            select(IngestBatch.__table__).where(IngestBatch.batch_id == result.batch_id)
        ).one()
        records = conn.execute(
            select(QuarantineRecord.__table__).where(QuarantineRecord.batch_id == result.batch_id)
        ).all()
    assert batch.status in {BatchStatus.REJECTED, BatchStatus.QUARANTINED}
    assert batch.error_code == result.error_code
    # (a) a stable code: the batch's own, or the row rule that sank it
    if case.row_level:
        assert result.error_code == "ROWS_ABOVE_THRESHOLD"
    else:
        assert result.error_code == case.code
    # (b) one line naming the file and the line (and the column where relevant)
    message = str(result.message)
    assert "\n" not in message and name in message
    # (c) quarantine records with batch, file, line, raw sha256, rule code and message
    mine = [r for r in records if r.rule_code == case.code]
    assert mine, [(r.rule_code, r.line_no) for r in records]
    rec = next((r for r in mine if r.line_no == case.line), mine[0])
    assert rec.batch_id == result.batch_id and rec.file_name == name
    assert rec.line_no == case.line
    assert re.fullmatch(r"[0-9a-f]{64}", rec.raw_sha256 or "")
    assert name in rec.message and f"line {case.line}" in rec.message
    if case.column:
        assert rec.column_name == case.column and f"column {case.column}" in rec.message
    if case.code == "ID_CONFUSABLE":  # which id it resembles
        assert "reads as 'C-" in rec.message, rec.message
    if case.code == "VALUE_TOO_LONG":  # the limit the table declares, in one short line
        limit = column_lengths(case.path.name.split(".")[0])[case.column]
        assert f"holds at most {limit}" in rec.message and len(rec.message) < 300, rec.message
    if not case.row_level:
        assert f"line {case.line}" in message or case.code == "KEY_DUPLICATE"
    # (d) nothing of the file reached the fact tables
    assert rows_of_batch(engine, result.batch_id) == 0
    after = counts(engine)
    assert {t: after[t] for t in ("invoice", "invoice_line", "payment")} == {
        t: before[t] for t in ("invoice", "invoice_line", "payment")
    }


def test_file_above_size_limit_is_rejected_cleanly(base, tmp_path, engine):
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "max_file_bytes": 1000}
    result = load(engine, base / "invoice_lines.csv", ingest_config(raw))
    assert result.outcome == "REJECTED" and result.error_code == "FILE_TOO_LARGE"
    assert "invoice_lines.csv" in result.message


@pytest.mark.parametrize("name", ["invoice_lines.csv", "invoices-2026.csv"])
def test_missing_file_is_recorded(tmp_path, engine, name):
    # A missing file is FILE_NOT_FOUND whatever its name (not FILE_UNKNOWN_ENTITY).
    result = load(engine, tmp_path / name)
    assert result.error_code == "FILE_NOT_FOUND"
    assert name in result.message
    assert counts(engine)["ingest_batch"] == 1


@pytest.mark.parametrize("kind", ["opposite_signs", "zero_quantity"])
def test_a_sign_rule_turned_off_in_the_rules_file_lets_the_line_load(kind, base, tmp_path, engine):
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    case = build_malformed(kind, base, tmp_path / "in")
    switch = {"opposite_signs": "quarantine_opposite_signs"}.get(
        kind, "quarantine_zero_quantity_amount"
    )
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], switch: False}
    result = load(engine, case.path, ingest_config(raw))
    assert result.outcome == "LOADED" and result.rows_loaded == 20, result.message


def test_ids_are_read_in_one_spelling(base, tmp_path, engine):
    """A full-width or compatibility-encoded id is the id itself (NFKC): the line loads
    against its customer and is stored with the canonical id."""
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    header, rows = read_rows(base / "invoice_lines.csv")
    rows = [r for r in rows if r[0] == rows[0][0]]  # one invoice
    customer = rows[0][header.index("customer_id")]
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in customer)
    assert wide != customer
    for row in rows:
        row[header.index("customer_id")] = wide
    path = write_rows(tmp_path / "invoice_lines.csv", header, rows)
    result = load(engine, path)
    assert result.outcome == "LOADED", result.message
    with engine.connect() as conn:
        stored = conn.execute(
            select(Invoice.customer_id).where(Invoice.invoice_id == rows[0][0])
        ).scalar_one()
    assert stored == customer
