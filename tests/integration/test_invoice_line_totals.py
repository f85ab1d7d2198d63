"""invoice.line_total, kept by the lines' load, is always what the invoice's stored lines
add up to: in one chunk or split across chunks, lines arriving in a later batch, a credit
note, a batch loaded again, an amended line, amounts that are not whole cents. The
payments check reads it instead of the lines, so a drift would change which payments are
overpaid."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.config import load_config
from models.ingest import ingest_config
from models.ingest.line_totals import summed
from models.schema import Invoice, InvoiceLine
from tests.ingest_builders import BASE_ENTITIES, fixture_batch, read_rows, write_rows

from .ingest_support import load


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"), customers=6)


def _chunks(rows: int):
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "chunk_rows": rows}
    return ingest_config(raw)


def _prepare(engine, base):
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"


def _kept(engine) -> dict[str, Decimal | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Invoice.invoice_id, Invoice.line_total)).all())


def _drift(engine) -> list[tuple]:
    """Invoices whose kept total is not the sum of their stored lines (want [])."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with engine.connect() as conn:
        for invoice_id, amount in conn.execute(select(InvoiceLine.invoice_id, InvoiceLine.amount)):
            sums[invoice_id] += amount
    kept = _kept(engine)
    assert kept, "no invoices: nothing was checked"
    return [(i, total, sums.get(i)) for i, total in kept.items() if total != sums.get(i)]


def _line(row: list[str], header: list[str], line_no: str, amount: str) -> list[str]:
    out = list(row)
    out[header.index("line_no")], out[header.index("amount")] = line_no, amount
    return out


@pytest.mark.parametrize("chunk_rows", [200_000, 3], ids=["one_chunk", "chunks_of_3"])
def test_a_fresh_load_keeps_each_invoice_total(base, engine, chunk_rows):
    _prepare(engine, base)
    assert load(engine, base / "invoice_lines.csv", _chunks(chunk_rows)).outcome == "LOADED"
    assert _drift(engine) == []
    assert None not in _kept(engine).values()


def test_lines_in_a_later_batch_and_a_credit_note_move_the_total(base, engine, tmp_path):
    _prepare(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    first = rows[0][0]
    assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    before = _kept(engine)[first]
    later = [
        _line(rows[0], header, "90", "100.10"),
        _line(rows[0], header, "91", "-250.05"),  # a credit note
    ]
    quantity = header.index("quantity")
    later[1][quantity] = "-1"
    path = write_rows(tmp_path / "invoice_lines.csv", header, later)
    assert load(engine, path).outcome == "LOADED"
    assert _kept(engine)[first] == before + Decimal("100.10") - Decimal("250.05")
    assert _drift(engine) == []


def test_a_batch_loaded_again_or_amended_keeps_the_total(base, engine, tmp_path):
    _prepare(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    kept = _kept(engine)
    # The same lines again (another file: the same one is refused as a duplicate).
    (tmp_path / "again").mkdir()
    again = write_rows(tmp_path / "again" / "invoice_lines.csv", header, rows[::-1])
    assert load(engine, again, _chunks(5)).outcome == "LOADED"
    assert _kept(engine) == kept
    amount = header.index("amount")
    amended = [list(r) for r in rows]
    amended[4][amount] = str(Decimal(amended[4][amount]) + Decimal("7.01"))
    path = write_rows(tmp_path / "invoice_lines.csv", header, amended)
    assert load(engine, path, _chunks(5)).outcome == "LOADED"
    assert _kept(engine)[rows[4][0]] == kept[rows[4][0]] + Decimal("7.01")
    assert _drift(engine) == []


def test_amounts_not_in_whole_cents_are_totalled_as_the_check_summed_them(base, engine, tmp_path):
    """Sub-cent amounts: the database adds the stored lines up, as the payments check did
    before it read the kept total (PostgreSQL rounds each line to cents, SQLite keeps it
    in binary), so the figure is the one the check computed either way."""
    _prepare(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    invoice = rows[0][0]
    odd = [_line(rows[0], header, "1", "10.005"), _line(rows[0], header, "2", "0.125")]
    assert load(engine, write_rows(tmp_path / "invoice_lines.csv", header, odd)).outcome == (
        "LOADED"
    )
    with engine.connect() as conn:
        rule = conn.scalar(select(summed(invoice)))
    kept = _kept(engine)[invoice]
    assert kept is not None
    assert kept == Decimal(str(rule)).quantize(Decimal("0.01"))
