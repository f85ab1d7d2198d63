"""An invoice's lines must agree on its header (customer, dates, currency), also
when the invoice continues from one chunk into the next."""

from __future__ import annotations

import pandas as pd

from models.ingest.normalise import header_mismatches


def lines(rows: list[tuple], start: int = 0) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["invoice_id", "customer_id", "invoice_date", "due_date", "currency"]
    ).astype("str")
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def test_lines_that_differ_from_their_invoices_first_line_are_flagged():
    chunk = lines(
        [
            ("I1", "C1", "2026-01-02", None, "EUR"),
            ("I1", "C1", "2026-01-02", None, "EUR"),
            ("I2", "C2", "2026-01-03", "2026-02-02", "EUR"),
            ("I1", "C9", "2026-01-02", None, "EUR"),  # other customer
            ("I2", "C2", "2026-01-03", None, "EUR"),  # due date missing here only
            ("I2", "C2", "2026-01-03", "2026-02-02", "USD"),  # other currency
        ]
    )
    mismatch, carry = header_mismatches(chunk, None)
    assert mismatch.tolist() == [False, False, False, True, True, True]
    assert carry == {"I2": ("C2", "2026-01-03", "2026-02-02", "EUR")}


def test_an_invoice_continued_in_the_next_chunk_is_compared_with_its_first_line():
    first = lines(
        [("I1", "C1", "2026-01-02", None, "EUR"), ("I2", "C2", "2026-01-03", None, "EUR")]
    )
    _, carry = header_mismatches(first, None)
    second = lines(
        [
            ("I2", "C3", "2026-01-03", None, "EUR"),  # differs from I2's first line
            ("I2", "C3", "2026-01-03", None, "EUR"),  # agrees with the line above, not I2
            ("I2", "C2", "2026-01-03", None, "EUR"),
            ("I3", "C3", "2026-01-04", None, "EUR"),
        ],
        start=2,
    )
    mismatch, carry = header_mismatches(second, carry)
    assert mismatch.tolist() == [True, True, False, False]
    assert list(mismatch.index) == [2, 3, 4, 5]
    assert carry == {"I3": ("C3", "2026-01-04", None, "EUR")}


def test_a_chunk_of_one_continued_invoice_keeps_carrying_it():
    _, carry = header_mismatches(lines([("I1", "C1", "2026-01-02", None, "EUR")]), None)
    mismatch, again = header_mismatches(lines([("I1", "C1", "2026-01-02", None, "EUR")]), carry)
    assert mismatch.tolist() == [False]
    assert again == carry
