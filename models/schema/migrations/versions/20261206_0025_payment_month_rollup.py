"""payment_month_rollup: what payments applied per customer and month, kept by the
roll-up refresh, so the DSO trend no longer joins every payment with its invoice each
night (~3 s at 10M lines). Filled here from the per-invoice roll-up when the roll-ups
are built already (the refresh keeps it from then on; a first refresh fills it anyway).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The month of the day a payment applied: its date, or its invoice's when paid before.
_APPLIED_ON = "CASE WHEN p.paid_on < i.invoice_date THEN i.invoice_date ELSE p.paid_on END"
_MONTH = {
    "postgresql": f"CAST(date_trunc('month', {_APPLIED_ON}) AS DATE)",
    "sqlite": f"date({_APPLIED_ON}, 'start of month')",
}


def upgrade() -> None:
    op.create_table(
        "payment_month_rollup",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("applied", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "month", name=op.f("pk_payment_month_rollup")),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    if not conn.execute(sa.text("SELECT 1 FROM rollup_batch LIMIT 1")).first():
        return  # no roll-ups yet: the first refresh builds them all
    month = _MONTH[conn.dialect.name]
    # The month expression is one of _MONTH's: no input reaches the statement.
    op.execute(
        "INSERT INTO payment_month_rollup (customer_id, month, applied) "  # noqa: S608
        f"SELECT i.customer_id, {month}, round(sum(p.amount), 2) "
        "FROM payment p JOIN invoice_rollup i ON i.invoice_id = p.invoice_id "
        "WHERE i.amount_due > 0 AND i.paid_amount <= i.amount_due "
        f"GROUP BY i.customer_id, {month}"
    )
    if conn.dialect.name == "postgresql":
        op.execute("ANALYZE payment_month_rollup")  # a refresh's first DELETE plans by it


def downgrade() -> None:
    op.drop_table("payment_month_rollup")
