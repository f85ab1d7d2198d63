"""window tables: the recompute's per-customer aggregates over the current and previous
windows (sales per customer and product line, invoices per customer), kept with the
roll-ups for the window ``rollup_window`` names, so a recompute in the same month reads
~400,000 stored rows instead of aggregating millions of roll-up rows again; and
open_invoice_rollup, the open invoices of invoice_rollup (filled here from it), so the
receivables read ~10% of the invoices instead of scanning them all

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open_invoice_rollup",
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("amount_due", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_capped", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("open_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("due_day", sa.Integer(), nullable=True),
        sa.Column("overdue_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_open_invoice_rollup")),
    )
    op.create_index(
        op.f("ix_open_invoice_rollup_customer_id"),
        "open_invoice_rollup",
        ["customer_id"],
        unique=False,
    )
    # The refresh's own query (models/value/rollups.py, open_invoice_select), as of 0009.
    op.execute(
        "INSERT INTO open_invoice_rollup (invoice_id, customer_id, invoice_date, amount_due,"
        " paid_capped, open_amount, due_day, overdue_day)"
        " SELECT invoice_id, customer_id, invoice_date, amount_due,"
        " CASE WHEN paid_amount > amount_due THEN amount_due ELSE paid_amount END,"
        " CASE WHEN amount_due > 0 AND round(amount_due - paid_amount, 2) > 0"
        " THEN round(amount_due - paid_amount, 2) END,"
        " due_day, coalesce(due_day, invoice_day)"
        " FROM invoice_rollup WHERE settled_day IS NULL"
    )
    op.create_table(
        "sales_window",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("revenue_previous", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("revenue_costed", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", "product_line_id", name=op.f("pk_sales_window")),
    )
    op.create_table(
        "invoice_window",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_count", sa.BigInteger(), nullable=False),
        sa.Column("last_invoice_date", sa.Date(), nullable=True),
        sa.Column("paid_any", sa.Float(), nullable=True),
        sa.Column("settled_due", sa.Float(), nullable=True),
        sa.Column("settled_timed", sa.BigInteger(), nullable=True),
        sa.Column("settled_on_time", sa.BigInteger(), nullable=True),
        sa.Column("settled_days_late", sa.BigInteger(), nullable=True),
        sa.Column("settled_late", sa.BigInteger(), nullable=True),
        sa.Column("settled_late_amount_days", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_invoice_window")),
    )
    op.create_table(
        "rollup_window",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("as_of_month", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_window")),
    )


def downgrade() -> None:
    op.drop_table("rollup_window")
    op.drop_table("invoice_window")
    op.drop_table("sales_window")
    op.drop_index(op.f("ix_open_invoice_rollup_customer_id"), table_name="open_invoice_rollup")
    op.drop_table("open_invoice_rollup")
