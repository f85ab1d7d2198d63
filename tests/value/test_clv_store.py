"""Customer lifetime value stored with each snapshot (models/value/clv_store.py), on
SQLite and PostgreSQL.

* The recompute stores one ``customer_clv`` row per customer with a purchase, equal to
  the plain path (``clv_table`` of the line-level purchases, as the CLV export reads
  them), and one ``clv_fit`` row per model.
* A snapshot keeps its own CLV: an invoice after the as-of date changes nothing in it,
  and an invoice loaded later (even one dated before) changes only later snapshots; the
  dashboard refresh copies the stored CLV.
* The summary from the kept purchase days (rebuilt for the customers each refresh
  rebuilt) and the one statement over the per-invoice roll-up both equal
  ``rfm_summary`` of the invoice lines on random books (credit lines inside invoices,
  credit notes, zero lines, invoices after the as-of date, lines added by a later
  batch), bit for bit; the kept table is rebuilt whole when a refresh ran elsewhere,
  and a night's customers who only bought again later get their new days added.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select

from models.config import load_config
from models.dashboard import refresh_dashboard
from models.schema import (
    ClvFit,
    CustomerClv,
    CustomerPurchases,
    DashboardClv,
    IngestChange,
    InvoiceLine,
)
from models.schema.base import Base
from models.value.clv import CLV_COLUMNS, clv_table, rfm_summary
from models.value.clv_store import stored_clv, stored_fits
from models.value.exports import purchases
from models.value.purchases import appendable, keep_purchases, kept_summary, summary_at
from models.value.recompute import STEPS, recompute, refresh
from models.value.rollups import refresh_rollups
from tests import value_builders as vb

AS_OF = date(2026, 6, 30)
CUSTOMERS = 30
CONFIG = load_config()  # the CLV's floors: 20 customers, 10 with a repeat purchase


def build_book(engine, seed: int = 7) -> None:
    """30 customers buying on 1-12 days over two years before AS_OF; some invoices carry a
    credit line, some are credit notes, some lines are zero."""
    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.product_line(conn, "PL1", b)
        for c in range(CUSTOMERS):
            cid = f"C{c:02d}"
            vb.customer(conn, cid, b)
            days = sorted(set(rng.integers(0, 730, rng.integers(1, 13)).tolist()))
            for k, ago in enumerate(days):
                day = AS_OF - timedelta(days=int(ago))
                lines = [("PL1", f"{rng.integers(1000, 90000) / 100:.2f}", None)]
                if rng.random() < 0.2:
                    lines.append(("PL1", f"-{rng.integers(100, 900) / 100:.2f}", None))
                if rng.random() < 0.1:
                    lines.append(("PL1", "0.00", None))
                vb.invoice(conn, f"{cid}-{k}", cid, day, day + timedelta(days=30), lines, b)
            if rng.random() < 0.2:
                day = AS_OF - timedelta(days=int(rng.integers(0, 200)))
                vb.invoice(conn, f"{cid}-CN", cid, day, day, [("PL1", "-50.00", None)], b)


def _stored(engine, snapshot_id: int) -> pd.DataFrame:
    with engine.connect() as conn:
        return stored_clv(conn, snapshot_id)


def _plain(engine, as_of: date) -> pd.DataFrame:
    """The plain path: the line-level purchases, summarised and fitted in pandas."""
    with engine.connect() as conn:
        return clv_table(purchases(conn, as_of), as_of, CONFIG["value"])


def _dashboard(engine, snapshot_id: int) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(DashboardClv.customer_id, DashboardClv.clv_12m, DashboardClv.p_alive)
            .where(DashboardClv.snapshot_id == snapshot_id)
            .order_by(DashboardClv.customer_id)
        ).all()
    return pd.DataFrame(rows, columns=["customer_id", "clv_12m", "p_alive"])


def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    """CLV rows as the tables hold them: money in cents, ratios to six places."""
    out = table[CLV_COLUMNS].copy()
    for c in ("monetary_value", "clv_12m"):
        out[c] = [None if v is None else Decimal(v).quantize(Decimal("0.01")) for v in out[c]]
    for c in ("p_alive", "expected_purchases_90d"):
        out[c] = [None if v != v else round(float(v), 6) for v in out[c]]
    for c in ("frequency", "recency", "T"):
        out[c] = out[c].astype(int)
    return out.reset_index(drop=True)


def test_recompute_stores_the_clv_of_the_plain_path(engine):
    build_book(engine)
    steps = []
    result = recompute(engine, CONFIG, as_of=AS_OF, progress=lambda *args: steps.append(args))
    stored = _stored(engine, result.snapshot_id)
    assert len(stored) == CUSTOMERS
    plain = _plain(engine, AS_OF)
    pd.testing.assert_frame_equal(_comparable(stored), _comparable(plain))
    assert stored["clv_12m"].notna().all() and stored["p_alive"].notna().all()
    with engine.connect() as conn:
        fits = stored_fits(conn, result.snapshot_id)
    assert set(fits) == {"bgnbd", "gamma_gamma"}
    assert all(fit.fitted for fit in fits.values())
    expected = plain.attrs["fits"]["bgnbd"]
    assert fits["bgnbd"].r == pytest.approx(expected.r, rel=1e-9)
    assert fits["bgnbd"].n_customers == CUSTOMERS
    # Progress came through the callable passed in: every step in order, then the end.
    assert [s[1] for s in steps] == list(range(len(STEPS) + 1))
    assert [s[0] for s in steps[:-1]] == list(STEPS) and steps[-1][0] == "snapshot complete"


def test_a_snapshot_keeps_its_own_clv(engine):
    build_book(engine)
    first = recompute(engine, CONFIG, as_of=AS_OF)
    refresh_dashboard(engine, first.snapshot_id, CONFIG)
    before, shown = _stored(engine, first.snapshot_id), _dashboard(engine, first.snapshot_id)
    assert list(shown["clv_12m"]) == list(before["clv_12m"])
    assert list(shown["p_alive"]) == list(before["p_alive"])

    # A later invoice (after the as-of date): the same as-of date gives the same CLV.
    with engine.begin() as conn:
        b = vb.batch(conn)
        later = AS_OF + timedelta(days=3)
        vb.invoice(conn, "LATER", "C00", later, later, [("PL1", "5000.00", None)], b)
    same_day = recompute(engine, CONFIG, as_of=AS_OF)
    pd.testing.assert_frame_equal(_stored(engine, same_day.snapshot_id), before)

    # An invoice dated before the as-of date but loaded later changes the next snapshot's
    # CLV, not the stored one's; refreshing the first snapshot's dashboard copies it again.
    with engine.begin() as conn:
        b = vb.batch(conn)
        day = AS_OF - timedelta(days=1)
        vb.invoice(conn, "BACKDATED", "C01", day, day, [("PL1", "7000.00", None)], b)
    newer = recompute(engine, CONFIG, as_of=AS_OF)
    assert not _stored(engine, newer.snapshot_id).equals(before)
    pd.testing.assert_frame_equal(_stored(engine, first.snapshot_id), before)
    result = refresh_dashboard(engine, first.snapshot_id, CONFIG)
    assert result.clv == "computed"
    pd.testing.assert_frame_equal(_dashboard(engine, first.snapshot_id), shown)


def test_too_few_customers_store_the_summary_and_say_why(engine):
    build_book(engine)
    result = recompute(engine, CONFIG, as_of=date(2024, 7, 31))  # a month into the book
    stored = _stored(engine, result.snapshot_id)
    assert 0 < len(stored) < 20
    assert stored["clv_12m"].isna().all() and stored["p_alive"].isna().all()
    with engine.connect() as conn:
        fit = conn.execute(select(ClvFit.__table__).where(ClvFit.model == "bgnbd")).one()
    assert fit.parameters == {"r": None, "alpha": None, "a": None, "b": None}
    assert "value.clv.min_customers" in fit.message
    refreshed = refresh_dashboard(engine, result.snapshot_id, CONFIG)
    assert refreshed.clv.startswith("not fitted:") and "min_customers" in refreshed.clv


def test_a_snapshot_stored_before_clv_was_says_so(engine):
    build_book(engine)
    result = recompute(engine, CONFIG, as_of=AS_OF)
    with engine.begin() as conn:  # as a snapshot from before migration 0013 stands
        for table in (CustomerClv, ClvFit):
            conn.execute(delete(table).where(table.snapshot_id == result.snapshot_id))
    refreshed = refresh_dashboard(engine, result.snapshot_id, CONFIG)
    assert "recompute" in refreshed.clv and refreshed.tables["dashboard_clv"] == 0


# --- contract: the kept purchase days and the roll-up statement equal the plain summary ---


@st.composite
def books(draw) -> tuple[date, list[tuple], list[tuple]]:
    """(as_of, invoices (id, customer, day, [amount cents], load 1 or 2), late lines
    (invoice, cents), added by load 2)."""
    as_of = draw(st.sampled_from([date(2026, 2, 28), date(2026, 6, 15), date(2025, 12, 31)]))
    day = st.integers(-400, 20).map(lambda d: as_of + timedelta(days=d))
    cents = st.one_of(
        st.integers(1, 500_000),
        st.integers(-500_000, -1),  # a credit line (in an invoice, or a credit note)
        st.just(0),
    )
    invoices = []
    for k in range(draw(st.integers(0, 12))):
        customer = draw(st.sampled_from(["A", "B", "C", "D"]))
        amounts = draw(st.lists(cents, min_size=1, max_size=3))
        invoices.append((f"I{k}", customer, draw(day), amounts, draw(st.sampled_from([1, 2]))))
    late = []
    for inv_id, *_, part in invoices:
        if part == 1 and draw(st.integers(0, 3)) == 0:
            late.append((inv_id, draw(cents)))
    return as_of, invoices, late


def _money(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


def _load(engine, invoices, late, part: int) -> None:
    with engine.begin() as conn:
        b = vb.batch(conn)
        if part == 1:
            vb.product_line(conn, "PL1", b)
            for c in "ABCD":
                vb.customer(conn, c, b)
        for inv_id, customer, day, amounts, p in invoices:
            if p == part:
                lines = [("PL1", _money(a), None) for a in amounts]
                vb.invoice(conn, inv_id, customer, day, day, lines, b)
        for n, (inv_id, amount) in enumerate(late if part == 2 else []):
            row = {"invoice_id": inv_id, "line_no": 90 + n, "product_line_id": "PL1"}
            row |= {"quantity": 1, "amount": Decimal(_money(amount)), "batch_id": b}
            conn.execute(insert(InvoiceLine), row)


def _refresh_and_keep(engine) -> str:
    with engine.begin() as conn:
        return keep_purchases(conn, refresh_rollups(conn))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(book=books())
def test_the_kept_and_the_rollup_summaries_equal_the_plain_one(engine, book):
    """Loaded in two batches, each refreshed and kept as the recompute does (the second
    incrementally: only its customers rebuilt), the summary from the kept purchase days
    and the one straight from the roll-up both equal ``rfm_summary`` of the lines, to the
    bit, with invoices after the as-of date summarised afresh."""
    as_of, invoices, late = book
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    _load(engine, invoices, late, 1)
    assert _refresh_and_keep(engine) == "rebuilt"
    _load(engine, invoices, late, 2)
    assert _refresh_and_keep(engine) == "incremental"
    with engine.connect() as conn:
        kept = kept_summary(conn, as_of)
        fresh = summary_at(conn, as_of)
        plain = rfm_summary(purchases(conn, as_of), as_of)
        lines = conn.scalar(select(func.count()).select_from(InvoiceLine))
    assert lines == sum(len(inv[3]) for inv in invoices) + len(late)
    for got in (kept, fresh):
        pd.testing.assert_frame_equal(got, plain, check_dtype=False, check_exact=True)


def test_the_kept_purchase_days_are_rebuilt_when_a_refresh_ran_elsewhere(engine):
    build_book(engine)
    assert _refresh_and_keep(engine) == "rebuilt"
    assert _refresh_and_keep(engine) == "current"  # no new batch
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(conn, "X1", "C00", AS_OF, AS_OF, [("PL1", "10.00", None)], b)
    refresh(engine)  # not kept: the next keep cannot follow it
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(conn, "X2", "C01", AS_OF, AS_OF, [("PL1", "10.00", None)], b)
    assert _refresh_and_keep(engine) == "rebuilt"
    with engine.connect() as conn:
        kept = kept_summary(conn, AS_OF)
        pd.testing.assert_frame_equal(kept, summary_at(conn, AS_OF), check_exact=True)


def test_a_night_adds_the_new_days_of_customers_who_bought_again(engine):
    """Customers whose new invoices all fall after their last kept day get those days
    added to their row; a backdated invoice, a line added to an older invoice, a customer
    with no row yet and any amendment send the customer (or everyone) to a rebuild. Each
    way, the kept summary equals the one straight from the roll-up, to the bit."""
    d = AS_OF - timedelta(days=100)
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.product_line(conn, "PL1", b)
        for c in ("A", "B", "C", "D", "E"):
            vb.customer(conn, c, b)
        for inv, c, ago in (("A1", "A", 0), ("A2", "A", 5), ("B1", "B", 10), ("C1", "C", 3)):
            vb.invoice(conn, inv, c, d + timedelta(days=ago), d, [("PL1", "100.00", None)], b)
        vb.invoice(conn, "E1", "E", d, d, [("PL1", "40.00", None)], b)
    assert _refresh_and_keep(engine) == "rebuilt"
    with engine.begin() as conn:
        b = vb.batch(conn)
        later = d + timedelta(days=20)
        vb.invoice(
            conn, "A3", "A", later, later, [("PL1", "30.00", None), ("PL1", "-5.00", None)], b
        )
        vb.invoice(conn, "A4", "A", later, later, [("PL1", "12.50", None)], b)
        vb.invoice(conn, "B2", "B", d + timedelta(days=7), d, [("PL1", "9.00", None)], b)
        row = {"invoice_id": "C1", "line_no": 9, "product_line_id": "PL1", "quantity": 1}
        conn.execute(insert(InvoiceLine), row | {"amount": Decimal("7.00"), "batch_id": b})
        vb.invoice(conn, "D1", "D", later, later, [("PL1", "55.00", None)], b)
        vb.invoice(conn, "E2", "E", later, later, [("PL1", "-40.00", None)], b)  # credit note
    with engine.begin() as conn:
        refreshed = refresh_rollups(conn)
        assert appendable(conn, refreshed) == {"A", "E"}
        assert keep_purchases(conn, refreshed) == "incremental"
    with engine.connect() as conn:
        kept = kept_summary(conn, AS_OF)
        pd.testing.assert_frame_equal(kept, summary_at(conn, AS_OF), check_exact=True)
        a = conn.execute(
            select(CustomerPurchases).where(CustomerPurchases.customer_id == "A")
        ).one()
    assert (a.purchase_days, a.cents, a.first_day_cents) == (3, 20000 + 3000 + 1250, 10000)
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(conn, "A5", "A", later + timedelta(days=1), later, [("PL1", "1.00", None)], b)
        change = {"batch_id": b, "entity": "invoice", "natural_key": "A5", "changes": {}}
        conn.execute(insert(IngestChange), change)
        assert appendable(conn, refresh_rollups(conn)) == frozenset()
