"""The monthly DSO trend, by the cheap (count-back free) method.

At each month end: open receivables = everything invoiced so far minus everything paid so
far; DSO = open receivables / revenue invoiced in the trailing 12 months x 365. Two
aggregate queries (invoiced per month, paid per month) do the work; the running sums are
over at most a few hundred months. A month is shown only once 12 months of history lie
behind it, so the first year of data does not show an inflated DSO.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, case, func, select

from models.schema import InvoiceRollup, Payment
from models.value.sqlfuncs import month_start

TRAILING_MONTHS = 12
CENT = Decimal("0.01")


def _per_month(conn: Connection, column, amount, as_of: date) -> pd.Series:
    month = month_start(column)
    # The as-of cut is in the sum, not a WHERE: a WHERE on the dated column makes SQLite
    # walk its index and fetch a million rows one by one (4x slower than one scan).
    upto = func.sum(case((column <= as_of, amount), else_=0))
    rows = conn.execute(select(month.label("month"), upto).group_by(month)).all()
    return pd.Series({pd.Timestamp(m): float(v or 0) for m, v in rows}, dtype=float, name="amount")


def dso_trend(conn: Connection, as_of: date, months: int) -> pd.DataFrame:
    """Up to ``months`` month-end rows ending with the as-of month (columns as the table)."""
    inv = InvoiceRollup.__table__
    invoiced = _per_month(conn, inv.c.invoice_date, inv.c.amount_due, as_of)
    paid = _per_month(conn, Payment.__table__.c.paid_on, Payment.__table__.c.amount, as_of)
    cols = ["month", "invoiced", "paid", "outstanding", "trailing_revenue", "dso_days"]
    if invoiced.empty:
        return pd.DataFrame(columns=cols)
    start = min(invoiced.index.min(), paid.index.min() if len(paid) else invoiced.index.min())
    span = pd.date_range(start, pd.Timestamp(as_of.replace(day=1)), freq="MS")
    frame = pd.DataFrame(
        {
            "invoiced": invoiced.reindex(span, fill_value=0.0),
            "paid": paid.reindex(span, fill_value=0.0),
        }
    )
    frame["outstanding"] = frame["invoiced"].cumsum() - frame["paid"].cumsum()
    frame["trailing_revenue"] = frame["invoiced"].rolling(TRAILING_MONTHS).sum()
    frame = frame.dropna(subset=["trailing_revenue"]).tail(months)
    trailing = frame["trailing_revenue"]
    frame["dso_days"] = (frame["outstanding"] / trailing * 365).where(trailing > 0)
    frame = frame.reset_index(names="month")
    frame["month"] = frame["month"].dt.date
    return frame[cols]


def dso_rows(frame: pd.DataFrame, snapshot_id: int) -> list[dict]:
    """The trend as rows for ``dashboard_dso_month`` (money to cents, unknown DSO as None)."""

    def cents(v: float) -> Decimal:
        return Decimal(str(round(v, 2))).quantize(CENT)

    return [
        {
            "snapshot_id": snapshot_id,
            "month": r.month,
            "invoiced": cents(r.invoiced),
            "paid": cents(r.paid),
            "outstanding": cents(r.outstanding),
            "trailing_revenue": cents(r.trailing_revenue),
            "dso_days": None if pd.isna(r.dso_days) else cents(r.dso_days),
        }
        for r in frame.itertuples(index=False)
    ]
