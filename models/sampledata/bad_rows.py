"""A handful of bad rows, planted on purpose, so the quarantine has something to show.

``generate_sample(..., bad_rows=True)`` (the demo asks for them) appends, after the good
rows, rows an export really gets wrong: an invoice line whose quantity is negative and
amount positive, an invoice for a customer id that does not exist, an invoice dated 30
February, and a payment of an invoice that was never issued. Each is an invoice or a
payment of its own (new ids), so no good row depends on it: the ingest quarantines
exactly these rows and loads the rest.

The answer key, ``intended/quarantined_on_purpose.csv`` (outside the folder's top level:
the ingest never reads it), names each row's file, line and the error code the ingest
gives it. The rows are planted in a file only when it holds at least
:data:`GOOD_ROWS_PER_BAD_ROW` good rows per bad one, far below the share of bad rows
(``ingest.row_quarantine_threshold``, 1%) above which the ingest refuses a whole batch;
a tiny sample gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from models.canonical import ENTITIES

from .customers import ACTIVE, CustomerBook
from .invoices import Catalogue, Counters
from .names import PRODUCT_LINES
from .window import Window

GOOD_ROWS_PER_BAD_ROW = 200  # at most 0.5% bad rows in a file
KEY_FILE = "quarantined_on_purpose.csv"
KEY_COLUMNS = ("file_name", "line_no", "rule_code", "what")


@dataclass(frozen=True)
class Planted:
    """One bad row: the entity's file, its physical line (the header is line 1), the
    error code the ingest gives it and what is wrong, in words."""

    file_name: str
    line_no: int
    rule_code: str
    what: str


def _invoice_line(invoice_id, customer_id, invoice_date, due_date, quantity, amount):
    """One invoice line of the first product line's first article, every cell as text."""
    return {
        "invoice_id": invoice_id,
        "line_no": "1",
        "customer_id": customer_id,
        "invoice_date": invoice_date,
        "due_date": due_date,
        "product_line_id": PRODUCT_LINES[0][0],
        "product_code": None,
        "quantity": quantity,
        "amount": amount,
        "cost": None,
        "currency": "EUR",
    }


def bad_invoice_lines(
    book: CustomerBook, window: Window, catalogue: Catalogue, counters: Counters, good_rows: int
) -> tuple[dict[str, pa.Array], list[tuple[str, str]]]:
    """The bad invoice lines (no rows when the file is too small for them) and, per row,
    its error code and what is wrong with it. Takes the next invoice numbers."""
    trading = np.flatnonzero(book.status == ACTIVE)
    if good_rows < 3 * GOOD_ROWS_PER_BAD_ROW or not len(trading):
        return {name: pa.array([], pa.string()) for name in _line_columns()}, []
    day = np.datetime64(window.end - 10, "D").astype(object)
    due = (day + timedelta(days=30)).isoformat()
    customer = book.ids[int(trading[0])].as_py()
    unknown = f"C-{len(book.status) + 1:06d}"  # one past the last customer
    number = [f"INV-{counters.invoice + k:07d}" for k in (1, 2, 3)]
    counters.invoice += 3
    code = catalogue.codes[0].as_py()
    rows = [
        _invoice_line(number[0], customer, day.isoformat(), due, "-3", "450.00"),
        _invoice_line(number[1], unknown, day.isoformat(), due, "2", "380.00"),
        _invoice_line(number[2], customer, f"{day.year}-02-30", due, "1", "125.00"),
    ]
    for row in rows:
        row["product_code"] = code
    what = [
        ("QUANTITY_AMOUNT_SIGN", f"{number[0]}: quantity -3 with a positive amount"),
        ("FK_UNRESOLVED", f"{number[1]}: customer {unknown} does not exist"),
        ("DATE_UNPARSEABLE", f"{number[2]}: invoice date {day.year}-02-30 is no date"),
    ]
    return _columns(rows, _line_columns()), what


def bad_payments(
    book: CustomerBook, window: Window, counters: Counters, good_rows: int
) -> tuple[dict[str, pa.Array], list[tuple[str, str]]]:
    """The bad payment (none when the file is too small): one of an invoice never issued.
    Takes the next payment number and skips an invoice number."""
    trading = np.flatnonzero(book.status == ACTIVE)
    if good_rows < GOOD_ROWS_PER_BAD_ROW or not len(trading):
        return {name: pa.array([], pa.string()) for name in _payment_columns()}, []
    counters.invoice += 1  # never issued
    counters.payment += 1
    invoice = f"INV-{counters.invoice:07d}"
    row = {
        "payment_id": f"PAY-{counters.payment:07d}",
        "invoice_id": invoice,
        "customer_id": book.ids[int(trading[0])].as_py(),
        "paid_on": np.datetime64(window.end - 5, "D").astype(object).isoformat(),
        "amount": "1200.00",
        "currency": "EUR",
    }
    what = [("FK_UNRESOLVED", f"{row['payment_id']}: invoice {invoice} was never issued")]
    return _columns([row], _payment_columns()), what


def _line_columns() -> list[str]:
    return ENTITIES["invoice_lines"].column_names


def _payment_columns() -> list[str]:
    return ENTITIES["payments"].column_names


def _columns(rows: list[dict[str, str | None]], names: list[str]) -> dict[str, pa.Array]:
    return {name: pa.array([r[name] for r in rows], pa.string()) for name in names}


def planted(entity: str, first_line: int, what: list[tuple[str, str]]) -> list[Planted]:
    """The key's rows for bad rows appended to ``entity``'s file from ``first_line``."""
    name = ENTITIES[entity].file_name
    return [Planted(name, first_line + i, code, text) for i, (code, text) in enumerate(what)]


def write_key(folder: Path, rows: list[Planted]) -> None:
    """The answer key, ``folder/quarantined_on_purpose.csv``."""
    table = pa.table(
        {
            "file_name": pa.array([r.file_name for r in rows], pa.string()),
            "line_no": pa.array([r.line_no for r in rows], pa.int64()),
            "rule_code": pa.array([r.rule_code for r in rows], pa.string()),
            "what": pa.array([r.what for r in rows], pa.string()),
        }
    )
    options = pacsv.WriteOptions(include_header=True, eol="\n", quoting_style="needed")
    pacsv.write_csv(table, str(folder / KEY_FILE), write_options=options)


def read_key(folder: Path) -> list[Planted]:
    """The answer key of a sample folder's ``intended/`` (empty when it has none)."""
    path = folder / KEY_FILE
    if not path.exists():
        return []
    table = pacsv.read_csv(str(path)).to_pylist()
    return [Planted(r["file_name"], int(r["line_no"]), r["rule_code"], r["what"]) for r in table]
