"""Payments against their invoices: PAYMENT_EXCEEDS_DUE row by row, whatever the
chunking, counting what was recorded before and what the file paid earlier on,
a payment sent again only once; and the check reads only the chunk's invoices."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, select

from models.config import load_config
from models.ingest import ingest_config
from models.schema import BatchStatus, IngestBatch, Payment, QuarantineRecord
from tests.ingest_builders import BASE_ENTITIES, fixture_batch, read_rows, write_rows

from .ingest_support import load

HEADER = ["payment_id", "invoice_id", "customer_id", "paid_on", "amount", "currency"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="module")
def invoices(base) -> list[tuple[str, str, Decimal]]:
    """(invoice_id, customer_id, total) of the fixture's invoices with a positive total."""
    header, rows = read_rows(base / "invoice_lines.csv")
    amount, customer = header.index("amount"), header.index("customer_id")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    owner = {}
    for r in rows:
        totals[r[0]] += Decimal(r[amount])
        owner[r[0]] = r[customer]
    return [(i, owner[i], t) for i, t in totals.items() if t > 20]


def _config(chunk_rows: int = 200_000):
    raw = load_config()
    # Bad rows are the subject here: the batch loads around them.
    raw["ingest"] = {**raw["ingest"], "chunk_rows": chunk_rows, "row_quarantine_threshold": 0.9}
    return ingest_config(raw)


def _books(engine, base):
    for entity in (*BASE_ENTITIES, "invoice_lines"):
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"


def _payments(folder: Path, rows: list[tuple]) -> Path:
    """payments.csv of (payment_id, invoice, amount) rows; invoice = (id, customer, total)
    or None for a payment on account."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for payment_id, invoice, amount in rows:
        invoice_id, customer = (invoice[0], invoice[1]) if invoice else ("", "C-000001")
        out.append([payment_id, invoice_id, customer, "2026-09-01", f"{amount:.2f}", "EUR"])
    return write_rows(folder / "payments.csv", HEADER, out)


def _quarantined(engine, batch_id: int) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(
                    QuarantineRecord.line_no,
                    QuarantineRecord.rule_code,
                    QuarantineRecord.column_name,
                ).where(QuarantineRecord.batch_id == batch_id)
            ).all()
        )


def _stored(engine) -> dict[str, Decimal]:
    with engine.connect() as conn:
        return {
            p: Decimal(str(a)) for p, a in conn.execute(select(Payment.payment_id, Payment.amount))
        }


@pytest.mark.parametrize("chunk_rows", [200_000, 2, 1], ids=["one-chunk", "pairs", "rows"])
def test_payments_beyond_the_invoice_total_are_quarantined(
    base, invoices, engine, tmp_path, chunk_rows
):
    _books(engine, base)
    x, y = invoices[0], invoices[1]
    path = _payments(
        tmp_path,
        [
            ("P-1", x, x[2] - 10),
            ("P-2", y, y[2]),  # another invoice, paid in full
            ("P-3", x, Decimal(10)),  # x paid in full, over several rows
            ("P-4", x, Decimal(5)),  # 5.00 more than x's total
            ("P-5", None, Decimal(999_999)),  # on account: no invoice to exceed
        ],
    )
    result = load(engine, path, _config(chunk_rows))
    assert result.outcome == "LOADED", result.message
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    assert _quarantined(engine, result.batch_id) == [(5, "PAYMENT_EXCEEDS_DUE", "amount")]
    with engine.connect() as conn:
        message = conn.scalar(
            select(QuarantineRecord.message).where(QuarantineRecord.batch_id == result.batch_id)
        )
    assert message == (
        "payments.csv line 5 column amount: payments above the invoice's amount due (value '5.00')"
    )
    assert set(_stored(engine)) == {"P-1", "P-2", "P-3", "P-5"}


def test_payments_recorded_before_count_toward_the_invoice(base, invoices, engine, tmp_path):
    _books(engine, base)
    x = invoices[0]
    first = load(engine, _payments(tmp_path / "1", [("P-1", x, x[2] - 1)]), _config())
    assert first.outcome == "LOADED" and first.rows_quarantined == 0
    second = load(
        engine,
        _payments(tmp_path / "2", [("P-2", x, Decimal(1)), ("P-3", x, Decimal(1))]),
        _config(1),
    )
    assert second.outcome == "LOADED", second.message
    assert _quarantined(engine, second.batch_id) == [(3, "PAYMENT_EXCEEDS_DUE", "amount")]
    assert set(_stored(engine)) == {"P-1", "P-2"}


def test_a_payment_sent_again_counts_once(base, invoices, engine, tmp_path):
    _books(engine, base)
    x, y, z = invoices[:3]
    first = load(engine, _payments(tmp_path / "1", [("P-1", x, x[2]), ("P-2", y, y[2])]), _config())
    assert first.outcome == "LOADED" and first.rows_quarantined == 0
    # The same payments again with one amended and one new: still not above the totals.
    again = [("P-1", x, x[2]), ("P-2", y, y[2] - 1), ("P-3", z, z[2])]
    for chunk_rows in (200_000, 1):
        result = load(engine, _payments(tmp_path / f"2-{chunk_rows}", again), _config(chunk_rows))
        assert result.outcome in {"LOADED", "DUPLICATE"}, result.message
        assert _quarantined(engine, result.batch_id) == []
    assert _stored(engine) == {"P-1": x[2], "P-2": y[2] - 1, "P-3": z[2]}


def test_a_payment_on_an_unknown_invoice_is_unresolved_not_overpaid(
    base, invoices, engine, tmp_path
):
    _books(engine, base)
    x = invoices[0]
    unknown = ("INV-NOWHERE", x[1], Decimal(0))
    path = _payments(tmp_path, [("P-1", x, x[2]), ("P-2", unknown, Decimal(5))])
    result = load(engine, path, _config())
    assert result.outcome == "LOADED", result.message
    assert _quarantined(engine, result.batch_id) == [(3, "FK_UNRESOLVED", "invoice_id")]


def test_a_refused_batch_keeps_its_overpaid_rows_in_quarantine(base, invoices, engine, tmp_path):
    _books(engine, base)
    x = invoices[0]
    path = _payments(tmp_path, [("P-1", x, x[2] + 100)])
    result = load(engine, path)  # the default threshold: 1 bad row of 1 rejects the batch
    assert result.outcome == "REJECTED" and result.error_code == "ROWS_ABOVE_THRESHOLD"
    assert "payments above the invoice's amount due" in result.message
    assert _quarantined(engine, result.batch_id) == [(2, "PAYMENT_EXCEEDS_DUE", "amount")]
    with engine.connect() as conn:
        status = conn.scalar(
            select(IngestBatch.status).where(IngestBatch.batch_id == result.batch_id)
        )
    assert status == BatchStatus.REJECTED and _stored(engine) == {}


def test_the_check_reads_only_the_invoices_of_the_chunk(base, invoices, engine, tmp_path):
    """Memory stays flat with the book: no statement of a payments ingest reads every
    invoice, line or payment. Each read of them is joined to a TEMP table of the chunk's
    own keys (the batch's TEMP tables are named stage_*) or reads at most a LIMIT
    (whether a table is small enough to be read whole)."""
    _books(engine, base)
    rows = [(f"P-{i}", inv, inv[2]) for i, inv in enumerate(invoices[:6])]
    path = _payments(tmp_path, rows)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = load(engine, path, _config(2))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result.outcome == "LOADED" and result.rows_quarantined == 0, result.message
    facts = ("invoice_line", "invoice", "payment")
    reads = [
        s
        for s in statements
        if s.startswith("select") and any(f" {t} " in f"{s} " or f'"{t}"' in s for t in facts)
    ]
    assert reads, "the check reads invoices somewhere"
    unbounded = [s for s in reads if "stage_" not in s and " limit " not in s]
    assert unbounded == [], "a read of the invoices not restricted to the chunk's keys"


@pytest.mark.parametrize("chunk_rows", [200_000, 1], ids=["one-chunk", "rows"])
def test_an_invoice_paid_in_instalments_sent_again_counts_each_once(
    base, invoices, engine, tmp_path, chunk_rows
):
    """A payments export sent again (amended elsewhere) takes each recorded payment off
    before adding it back: an invoice paid in full in two instalments is not overpaid."""
    _books(engine, base)
    x, z = invoices[0], invoices[2]
    half = (x[2] / 2).quantize(Decimal("0.01"))
    first = [("P-1", x, half), ("P-2", x, x[2] - half)]
    assert load(engine, _payments(tmp_path / "1", first), _config()).rows_quarantined == 0
    again = [*first, ("P-3", z, z[2] - 1), ("P-4", x, Decimal(1))]  # P-4: x is paid
    result = load(engine, _payments(tmp_path / "2", again), _config(chunk_rows))
    assert result.outcome == "LOADED", result.message
    assert _quarantined(engine, result.batch_id) == [(5, "PAYMENT_EXCEEDS_DUE", "amount")]
    assert set(_stored(engine)) == {"P-1", "P-2", "P-3"}


def test_a_payment_moved_to_another_invoice_frees_the_first(base, invoices, engine, tmp_path):
    _books(engine, base)
    x, y = invoices[0], invoices[1]
    assert load(engine, _payments(tmp_path / "1", [("P-1", x, x[2])]), _config()).outcome == (
        "LOADED"
    )
    moved = [("P-1", y, y[2]), ("P-2", x, x[2])]  # P-1 now pays y; x is open again
    result = load(engine, _payments(tmp_path / "2", moved), _config(1))
    assert result.outcome == "LOADED", result.message
    assert _quarantined(engine, result.batch_id) == []
    assert _stored(engine) == {"P-1": y[2], "P-2": x[2]}


@pytest.mark.parametrize("chunk_rows", [200_000, 1], ids=["one-chunk", "rows"])
def test_a_payment_on_account_sent_again_is_updated_not_written_twice(
    base, invoices, engine, tmp_path, chunk_rows
):
    """The check tells the load which of the first chunk's payments the book holds
    (the load asks no more): those on account too, which take nothing off an invoice."""
    _books(engine, base)
    x = invoices[0]
    first = [("P-1", None, Decimal(50)), ("P-2", x, x[2])]
    assert load(engine, _payments(tmp_path / "1", first), _config()).outcome == "LOADED"
    again = [("P-1", None, Decimal(40)), ("P-2", x, x[2]), ("P-3", None, Decimal(7))]
    result = load(engine, _payments(tmp_path / "2", again), _config(chunk_rows))
    assert result.outcome == "LOADED", result.message
    assert (result.rows_loaded, result.rows_updated, result.rows_quarantined) == (1, 1, 0)
    assert _stored(engine) == {"P-1": Decimal(40), "P-2": x[2], "P-3": Decimal(7)}
