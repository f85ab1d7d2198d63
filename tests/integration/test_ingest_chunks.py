"""Chunk boundaries: a chunk's rows are new (plain insert) or existing (the careful
path), and a natural key repeated in a later chunk is caught either way."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.config import load_config
from models.ingest import ingest_config, ingest_file
from models.schema import InvoiceLine
from tests.ingest_builders import AS_OF, BASE_ENTITIES, fixture_batch, read_rows, write_rows

from .ingest_support import checksum, counts, integrity_ok, load


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"), customers=6)


def _small_chunks(rows: int):
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "chunk_rows": rows}
    return ingest_config(raw)


def _lines(base):
    header, rows = read_rows(base / "invoice_lines.csv")
    return header, rows


def _prepare(engine, base):
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"


def test_invoices_split_across_chunks_load_whole(base, engine):
    _prepare(engine, base)
    header, rows = _lines(base)
    assert any(a[0] == b[0] for a, b in zip(rows, rows[1:], strict=False))  # multi-line invoices
    result = load(engine, base / "invoice_lines.csv", _small_chunks(3))
    assert result.outcome == "LOADED", result.message
    assert (result.rows_loaded, result.rows_updated) == (len(rows), 0)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(InvoiceLine)) == len(rows)
    integrity_ok(engine)


@pytest.mark.parametrize("already_loaded", [False, True], ids=["new-key", "existing-key"])
def test_a_key_repeated_in_a_later_chunk_rejects_the_batch(base, engine, tmp_path, already_loaded):
    _prepare(engine, base)
    header, rows = _lines(base)
    if already_loaded:  # both copies equal the stored row: nothing would be rewritten
        assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    path = write_rows(tmp_path / "invoice_lines.csv", header, [*rows, rows[0]])
    before, digest = counts(engine), checksum(engine)
    result = load(engine, path, _small_chunks(4))
    assert result.outcome == "QUARANTINED"
    assert result.error_code == "KEY_DUPLICATE"
    assert f"{rows[0][0]}/{rows[0][1]}" in result.message
    assert checksum(engine) == digest
    assert {k: v for k, v in counts(engine).items() if k != "ingest_batch"} == {
        k: v for k, v in before.items() if k != "ingest_batch"
    }


def test_amended_file_in_small_chunks_updates_and_inserts(base, engine, tmp_path):
    _prepare(engine, base)
    header, rows = _lines(base)
    assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    amount = header.index("amount")
    amended = [list(r) for r in rows]
    amended[5][amount] = f"{float(amended[5][amount]) + 1:.2f}"
    extra_line = list(rows[-1])  # a new line on an invoice that exists
    extra_line[1] = "99"
    new_invoice = list(rows[-1])
    new_invoice[0], new_invoice[1] = "INV-CHUNK-NEW", "1"
    path = write_rows(tmp_path / "invoice_lines.csv", header, [*amended, extra_line, new_invoice])
    result = load(engine, path, _small_chunks(7))
    assert result.outcome == "LOADED", result.message
    assert (result.rows_loaded, result.rows_updated, result.changes) == (2, 1, 1)
    with engine.connect() as conn:
        stored = conn.scalar(
            select(InvoiceLine.amount).where(
                InvoiceLine.invoice_id == rows[5][0], InvoiceLine.line_no == int(rows[5][1])
            )
        )
    assert float(stored) == float(amended[5][amount])
    integrity_ok(engine)


@pytest.mark.parametrize("existing_invoice", [False, True], ids=["new-invoice", "existing-invoice"])
def test_a_reference_validation_missed_is_caught_before_commit(
    base, engine, tmp_path, existing_invoice
):
    """invoice/invoice_line have no FOREIGN KEY: ingest re-checks what it wrote. With a
    validator that lets everything through, an unknown customer and product line must
    still roll the batch back (fast path and careful path)."""
    from models.ingest.validation import ValidationOutcome

    _prepare(engine, base)
    header, rows = _lines(base)
    if existing_invoice:
        assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    bad = list(rows[0] if existing_invoice else rows[-1])
    if not existing_invoice:
        bad[0] = "INV-NO-CUSTOMER"
        bad[header.index("customer_id")] = "C-NOBODY"
    bad[1] = "77"  # a new line; on an existing invoice its header must agree
    bad[header.index("product_line_id")] = "PL-NOWHERE"
    path = write_rows(tmp_path / "invoice_lines.csv", header, [*rows, bad])
    before, digest = counts(engine), checksum(engine)
    config = ingest_config()
    with pytest.raises(RuntimeError, match="does not resolve"):
        ingest_file(
            engine,
            path,
            validator=lambda entity, frame, params: ValidationOutcome(),
            config=config,
            as_of=AS_OF,
        )
    assert checksum(engine) == digest
    assert counts(engine)["invoice_line"] == before["invoice_line"]
    integrity_ok(engine)
