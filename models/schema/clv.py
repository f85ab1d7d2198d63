"""Customer lifetime value per snapshot: each customer's summary and prediction, and the
models fitted for it (written by the recompute, models/value/clv_store.py); and the
customers' purchase days as the roll-ups hold them now, which the summaries are read
from (kept by the recompute, models/value/purchases.py).

A snapshot keeps the CLV of its own as-of date: later invoices, and later snapshots,
leave it as it was. No FOREIGN KEY constraints, as the other per-snapshot result tables
(see models/schema/snapshots.py): the rows are written in the transaction that inserts
their snapshot.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Float, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, RATIO, Base, references
from .sales import InvoiceLine

_SNAPSHOT = references("snapshot.snapshot_id")


class CustomerClv(Base):
    """A customer's purchase summary at the snapshot's as-of date and the CLV predicted
    from it. Only customers with a purchase day on or before the as-of date have a row;
    the predictions are NULL where a model could not be fitted (see ``clv_fit``)."""

    __tablename__ = "customer_clv"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("customer.customer_id")
    )
    # Purchase days after the first.
    frequency: Mapped[int] = mapped_column(Integer)
    # Days from the first to the last purchase day.
    recency: Mapped[int] = mapped_column(Integer)
    # Days from the first purchase day to the as-of date (the models' T).
    age: Mapped[int] = mapped_column(Integer)
    # Mean revenue of the repeat purchase days (0 without a repeat purchase).
    monetary_value: Mapped[Decimal] = mapped_column(MONEY)
    p_alive: Mapped[Decimal | None] = mapped_column(RATIO)
    # Over value.clv.prediction_days and value.clv.horizon_months (defaults: 90 days, 12
    # months), as the CLV export names them.
    expected_purchases_90d: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    clv_12m: Mapped[Decimal | None] = mapped_column(MONEY)


class ClvFit(Base):
    """One CLV model fitted for a snapshot (``bgnbd`` or ``gamma_gamma``): its parameters,
    how the fit went, or why it was not fitted (``message``; parameters then null)."""

    __tablename__ = "clv_fit"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    model: Mapped[str] = mapped_column(String(16), primary_key=True)
    # {"r": .., "alpha": .., "a": .., "b": ..} or {"p": .., "q": .., "v": ..}.
    parameters: Mapped[dict] = mapped_column(default=dict)
    log_likelihood: Mapped[float | None] = mapped_column(Float)
    converged: Mapped[bool] = mapped_column(default=False)
    iterations: Mapped[int] = mapped_column(Integer)
    # Customers the model was fitted on (or counted, when there were too few).
    customers: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(1000), default="")


class CustomerPurchases(Base):
    """A customer's purchase days in the per-invoice roll-up, over every date: a purchase
    day is a day with an invoice line of positive amount. What the CLV summary at an
    as-of date on or after ``last_day`` is made of. Derived data, like the roll-ups: the
    recompute brings up to date the rows of the customers each roll-up refresh rebuilt,
    adding a night's new days or summing a customer's days again (or everyone's: see
    ``clv_purchases_state``)."""

    __tablename__ = "customer_purchases"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Day numbers (days since 1970-01-01), as invoice_rollup.invoice_day.
    first_day: Mapped[int] = mapped_column(Integer)
    last_day: Mapped[int] = mapped_column(Integer)
    purchase_days: Mapped[int] = mapped_column(Integer)
    # Revenue of the positive lines in whole cents: of every purchase day, of the first.
    cents: Mapped[int] = mapped_column(BigInteger)
    first_day_cents: Mapped[int] = mapped_column(BigInteger)


class ClvPurchasesState(Base):
    """Which committed batches ``customer_purchases`` reflects (one row, ``name`` =
    "customer_purchases"; none: the table is to be built whole). A data migration that
    rewrites the roll-ups must delete this row."""

    __tablename__ = "clv_purchases_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_ids: Mapped[list] = mapped_column(default=list)


# The credit lines (~1% of invoice lines), for the purchase days: an invoice's positive
# lines are its net amount in the roll-up less these. A partial index, so it costs
# nothing for the other 99% of lines an ingest writes; reading every credit line through
# it took 0.05 s instead of a 1.5-2 s scan of 10M lines. Declared here, beside what reads
# it, on the invoice_line table (models/schema/sales.py).
CREDIT_LINES = Index(
    "ix_invoice_line_credit",
    InvoiceLine.__table__.c.invoice_id,
    InvoiceLine.__table__.c.amount,
    postgresql_where=text("amount < 0"),
    sqlite_where=text("amount < 0"),
)
