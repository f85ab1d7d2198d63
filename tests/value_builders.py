"""Small builders for the value engine's tests: rows inserted with SQLAlchemy Core.

Tests never depend on the ingest flow: each fact row carries the batch_id of a
committed ``ingest_batch`` row created here, exactly as ingest leaves them.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, insert, update

from models.schema import (
    AccountManager,
    BatchStatus,
    Customer,
    IngestBatch,
    Invoice,
    InvoiceLine,
    Opportunity,
    OpportunityStage,
    Payment,
    ProductLine,
    WalletEstimate,
)

_seq = itertools.count(1)


def batch(conn: Connection, entity: str = "invoice_lines") -> int:
    """A committed ingest batch; returns its id."""
    n = next(_seq)
    return conn.execute(
        insert(IngestBatch).returning(IngestBatch.batch_id),
        {
            "source": "tests",
            "entity": entity,
            "content_sha256": f"{n:064x}",
            "status": BatchStatus.COMMITTED,
        },
    ).scalar_one()


def manager(conn: Connection, manager_id: str, b: int, **kw) -> None:
    conn.execute(
        insert(AccountManager), {"manager_id": manager_id, "name": manager_id, "batch_id": b} | kw
    )


def product_line(conn: Connection, pl: str, b: int) -> None:
    conn.execute(insert(ProductLine), {"product_line_id": pl, "name": pl, "batch_id": b})


def customer(conn: Connection, customer_id: str, b: int, **kw) -> None:
    row = {"customer_id": customer_id, "name": customer_id, "status": "active", "batch_id": b}
    conn.execute(insert(Customer), row | kw)


def invoice(
    conn: Connection,
    invoice_id: str,
    customer_id: str,
    day: date,
    due: date | None,
    lines: list[tuple[str, str, str | None]],
    b: int,
) -> None:
    """An invoice with lines (product_line_id, amount, cost or None)."""
    conn.execute(
        insert(Invoice),
        {
            "invoice_id": invoice_id,
            "customer_id": customer_id,
            "invoice_date": day,
            "due_date": due,
            "currency": "EUR",
            "batch_id": b,
        },
    )
    conn.execute(
        insert(InvoiceLine),
        [
            {
                "invoice_id": invoice_id,
                "line_no": i,
                "product_line_id": pl,
                "quantity": Decimal(1),
                "amount": Decimal(amount),
                "cost": None if cost is None else Decimal(cost),
                "batch_id": b,
            }
            for i, (pl, amount, cost) in enumerate(lines, start=1)
        ],
    )


def payment(
    conn: Connection,
    payment_id: str,
    customer_id: str,
    invoice_id: str | None,
    day: date,
    amount: str,
    b: int,
) -> None:
    conn.execute(
        insert(Payment),
        {
            "payment_id": payment_id,
            "invoice_id": invoice_id,
            "customer_id": customer_id,
            "paid_on": day,
            "amount": Decimal(amount),
            "currency": "EUR",
            "batch_id": b,
        },
    )


def wallet(conn: Connection, customer_id: str, pl: str, year: int, amount: str, b: int) -> None:
    conn.execute(
        insert(WalletEstimate),
        {
            "customer_id": customer_id,
            "product_line_id": pl,
            "year": year,
            "potential_amount": Decimal(amount),
            "currency": "EUR",
            "batch_id": b,
        },
    )


# --- loading the sample generator's CSVs ------------------------------------------------------


def _records(frame: pd.DataFrame, dates=(), money=(), ints=(), bools=()) -> list[dict]:
    frame = frame.astype(object).where(frame.notna(), None)
    convert = {c: date.fromisoformat for c in dates} | {c: Decimal for c in money}
    convert |= {c: int for c in ints}
    for c, fn in convert.items():
        # object dtype: a column of ints with None must not turn into floats with NaN.
        values = [None if v is None else fn(v) for v in frame[c]]
        frame[c] = pd.Series(values, index=frame.index, dtype=object)
    for c in bools:
        frame[c] = pd.Series([v == "true" for v in frame[c]], index=frame.index, dtype=object)
    return frame.to_dict("records")


def load_sample(engine: Engine, folder: Path) -> None:
    """Load the sample CSVs (managers, product lines, customers, invoices, payments, wallet,
    opportunities and their stage changes)."""

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False).replace(
            "", None
        )

    with engine.begin() as conn:
        b = batch(conn, "sample")
        managers = read("account_managers")
        conn.execute(
            insert(AccountManager),
            [r | {"batch_id": b} for r in _records(managers, dates=("hired_on", "left_on"))],
        )
        conn.execute(
            insert(ProductLine),
            [r | {"batch_id": b} for r in _records(read("product_lines"))],
        )
        cust = read("customers")
        recs = _records(
            cust, money=("estimated_potential",), ints=("influence",), bools=("named_strategic",)
        )
        conn.execute(
            insert(Customer), [r | {"parent_customer_id": None, "batch_id": b} for r in recs]
        )
        parents = [
            {"cid": r["customer_id"], "pid": r["parent_customer_id"]}
            for r in recs
            if r["parent_customer_id"]
        ]
        if parents:
            conn.execute(
                update(Customer)
                .where(Customer.customer_id == bindparam("cid"))
                .values(parent_customer_id=bindparam("pid")),
                parents,
            )
        lines = read("invoice_lines")
        heads = lines.drop_duplicates("invoice_id")[
            ["invoice_id", "customer_id", "invoice_date", "due_date", "currency"]
        ]
        conn.execute(
            insert(Invoice),
            [r | {"batch_id": b} for r in _records(heads, dates=("invoice_date", "due_date"))],
        )
        cols = ["invoice_id", "line_no", "product_line_id", "product_code", "quantity"]
        cols += ["amount", "cost"]
        conn.execute(
            insert(InvoiceLine),
            [
                r | {"batch_id": b}
                for r in _records(
                    lines[cols], money=("quantity", "amount", "cost"), ints=("line_no",)
                )
            ],
        )
        pays = read("payments")
        conn.execute(
            insert(Payment),
            [r | {"batch_id": b} for r in _records(pays, dates=("paid_on",), money=("amount",))],
        )
        wal = read("wallet_estimates")
        conn.execute(
            insert(WalletEstimate),
            [
                r | {"batch_id": b}
                for r in _records(wal, money=("potential_amount",), ints=("year",))
            ],
        )
        opps = read("opportunities")
        dates = ("created_on", "expected_close_on", "closed_on")
        conn.execute(
            insert(Opportunity),
            [r | {"batch_id": b} for r in _records(opps, dates=dates, money=("amount",))],
        )
        moves = read("opportunity_stages")
        conn.execute(
            insert(OpportunityStage),
            [r | {"batch_id": b} for r in _records(moves, dates=("entered_on",), ints=("seq",))],
        )


def assert_rollups_match_a_full_rebuild(conn: Connection) -> None:
    """Every roll-up table holds exactly what a full rebuild from the facts would."""
    from models.value.invoice_state import (
        invoice_month_select,
        open_invoice_select,
        payments_applied_in_full,
    )
    from models.value.rollups import (
        APPLIED,
        INVOICE_MONTHS,
        INVOICES,
        OPEN_INVOICES,
        SALES,
        invoice_rows,
        sales_select,
    )

    rebuilt = (
        (SALES, sales_select()),
        (INVOICES, invoice_rows()),
        (INVOICE_MONTHS, invoice_month_select(invoice_rows().subquery())),
        (OPEN_INVOICES, open_invoice_select(invoice_rows().subquery())),
        (APPLIED, payments_applied_in_full(invoice_rows().subquery())),
    )
    for table, full in rebuilt:
        assert_table_holds(conn, table, full)
    assert_windows_match_the_rollups(conn)


def assert_windows_match_the_rollups(conn: Connection) -> list[str]:
    """Every window table that holds a window holds what aggregating the roll-ups for that
    window gives now. Returns the names of the windows held."""
    from models.value.window_tables import WINDOW_TABLES, held_window

    held = []
    for name, (table, rows) in WINDOW_TABLES.items():
        windows = held_window(conn, name)
        if windows is not None:
            assert_table_holds(conn, table, rows(windows))
            held.append(name)
    return held


def assert_table_holds(conn: Connection, table, query) -> None:
    """``table`` holds exactly the rows ``query`` gives (money compared in cents)."""
    from sqlalchemy import select

    key = [c.name for c in table.primary_key.columns]
    stored = pd.DataFrame(conn.execute(select(table)).mappings().all(), columns=table.c.keys())
    expected = pd.DataFrame(conn.execute(query).mappings().all(), columns=table.c.keys())
    stored = stored.sort_values(key).reset_index(drop=True)
    expected = expected.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(_as_text(stored), _as_text(expected[stored.columns]))


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    # Money comes back as Decimal from a table and as float from a bare SQLite expression.
    def cell(v):
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return f"{float(v):.2f}" if isinstance(v, Decimal | float | int) else str(v)

    return frame.reset_index(drop=True).astype(object).map(cell)


def a_batch_of_new_rows(engine: Engine) -> None:
    """On the book of ``tests.unit.test_value_measures.build_book``: a new invoice for B,
    a payment for A's old invoice A2 and a new line on C's old invoice C1."""
    from models.schema import InvoiceLine

    with engine.begin() as conn:
        b = batch(conn)
        invoice(conn, "B2", "B", date(2026, 6, 1), date(2026, 7, 1), [("PL2", "250", "100")], b)
        payment(conn, "pA2c", "A", "A2", date(2026, 6, 20), "500", b)
        conn.execute(
            InvoiceLine.__table__.insert(),
            {
                "invoice_id": "C1",
                "line_no": 9,
                "product_line_id": "PL3",
                "quantity": 1,
                "amount": 75,
                "cost": 30,
                "batch_id": b,
            },
        )
