"""DSO, late-payment cost and bad-debt cover: hand-computed, and one figure everywhere.

The book (tests/unit/test_value_measures.build_book) at 2026-06-30, window 12 months
(2025-07-01 .. 2026-06-30, 365 days), borrowing rate 5%, net margin 3%:

- A: A1 1,500 paid on time; credit note -100; A2 2,000 due 03-31, 1,500 paid in April,
  500 open 91 days overdue (over 90); A3 300 not yet due. Revenue 3,700, open 800.
- B: B1 800 due 05-31, unpaid: 30 days overdue. Revenue 800, open 800.
- C: C1 1,000 due 05-01, unpaid (a 400 payment on account pays no invoice): 60 days.

DSO: A 800 / 3,700 x 365 = 78.92; B and C 365.00; all 2,600 / 5,500 x 365 = 172.55.
Late cost (amount x 5% x days late / 365): A2 2,000 x 91 -> 24.93, B1 800 x 30 -> 3.29,
C1 1,000 x 60 -> 8.22; total 36.44. Bad-debt cover: 500 / 3% = 16,666.67.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from models.config import load_config
from models.dashboard import read, refresh_dashboard
from models.value.readmodels import late_invoices, receivables_frame
from models.value.recompute import recompute
from models.value.rules import value_rules
from tests import value_builders as vb
from tests.unit.test_value_measures import AS_OF, build_book

CONFIG = load_config()
RULES = value_rules(CONFIG)
D = Decimal


def _snapshot(engine, as_of=AS_OF) -> int:
    sid = recompute(engine, CONFIG, as_of=as_of).snapshot_id
    refresh_dashboard(engine, sid, CONFIG)
    return sid


def test_receivables_figures_by_hand(engine):
    build_book(engine)
    sid = _snapshot(engine)
    with engine.connect() as conn:
        frame = receivables_frame(conn, sid, RULES).set_index("customer_id")
    assert frame.loc["A", "outstanding"] == D("800.00")
    assert frame.loc["A", "days_over_90"] == D("500.00")
    assert frame.loc["A", "dso_days"] == D("78.92")
    assert frame.loc["B", "dso_days"] == D("365.00")
    assert frame.loc["C", "days_31_60"] == D("1000.00")
    assert [frame.loc[c, "late_cost"] for c in "ABC"] == [D("24.93"), D("3.29"), D("8.22")]
    assert frame.loc["A", "sales_to_recover_90"] == D("16666.67")
    assert frame.loc["B", "sales_to_recover_90"] == D("0.00")  # nothing over 90 days
    total = frame.loc["TOTAL"]
    assert total["outstanding"] == D("2600.00")
    assert total["dso_days"] == D("172.55")
    assert total["late_cost"] == D("36.44")
    assert total["late_invoices"] == 3
    assert total["sales_to_recover_90"] == D("16666.67")


def test_the_pages_and_the_export_show_one_dso_late_cost_and_bad_debt_cover(engine):
    """Receivables page (headline, credit cost, trend), the receivables export and the
    customer page read the same figures for the same snapshot."""
    build_book(engine)
    sid = _snapshot(engine)
    with engine.connect() as conn:
        export = receivables_frame(conn, sid, RULES).set_index("customer_id")
    head = read.headline(engine, sid)
    cost = read.credit_cost_of(engine, sid, RULES)
    trend = read.dso_trend(engine, sid)
    total = export.loc["TOTAL"]
    assert D(str(head["dso_days"])) == total["dso_days"] == D("172.55")
    assert D(str(head["late_cost"])) == total["late_cost"]
    assert D(str(head["sales_to_recover_90"])) == total["sales_to_recover_90"]
    assert cost["sales_to_make_up"] == total["sales_to_recover_90"]
    # The trend's last point is the snapshot's DSO at its as-of date.
    assert D(str(trend["dso_days"].iloc[-1])).quantize(D("0.01")) == total["dso_days"]
    for cid in "ABC":
        page = read.customer_receivables(engine, sid, cid, RULES)
        row = page["ageing"]
        for col in ("dso_days", "late_cost", "sales_to_recover_90", "outstanding"):
            assert row[col] == export.loc[cid, col], (cid, col)
        # The late invoices listed add up to the customer's late cost.
        listed = D(str(round(page["late"]["cost_of_delay"].sum(), 2))).quantize(D("0.01"))
        assert listed == row["late_cost"]


def test_the_dso_trend_by_hand(engine):
    """Each point is the DSO at that month end: at 2026-03-31 A0, A1 and A2 are due (4,700),
    1,200 + 1,500 paid: 2,000 open over the revenue of 2025-04 .. 2026-03 (1,500 - 100 +
    2,000 = 3,400) x 365 days = 214.71. Points need a whole window behind them: the data
    starts in 2025-03, so the first is 2026-02."""
    build_book(engine)
    sid = _snapshot(engine)
    trend = read.dso_trend(engine, sid)
    months = [m if isinstance(m, date) else date.fromisoformat(str(m)) for m in trend["month"]]
    assert months[0] == date(2026, 2, 1) and months[-1] == date(2026, 6, 1)
    march = trend.iloc[months.index(date(2026, 3, 1))]
    assert float(march["outstanding"]) == 2000.0
    assert float(march["trailing_revenue"]) == 3400.0
    assert float(march["dso_days"]) == 214.71


def test_an_older_snapshot_keeps_its_own_late_invoices(engine):
    """A payment loaded after a snapshot, even dated before its as-of date, does not change
    the late invoices that snapshot's customer page lists (nor their cost)."""
    build_book(engine)
    sid = _snapshot(engine)
    with engine.connect() as conn:
        before = late_invoices(conn, sid, RULES)
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.payment(conn, "pB1", "B", "B1", date(2026, 6, 15), "800", b)
    newer = _snapshot(engine)
    with engine.connect() as conn:
        again = late_invoices(conn, sid, RULES)
        now = late_invoices(conn, newer, RULES).set_index("invoice_id")
    assert again.equals(before)
    assert before.set_index("invoice_id").loc["B1", "days_late"] == 30
    assert now.loc["B1", "days_late"] == 15  # settled 06-15, due 05-31
    assert now.loc["B1", "late_cost"] == D("1.64")  # 800 x 5% x 15 / 365
    page = read.customer_receivables(engine, sid, "B", RULES)
    assert page["late"]["days_late"].tolist() == [30]
