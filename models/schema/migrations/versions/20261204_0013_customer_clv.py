"""customer lifetime value per snapshot, written by the recompute: customer_clv (each
customer's purchase summary at the as-of date, p_alive, expected purchases, CLV) and
clv_fit (the BG/NBD and Gamma-Gamma models fitted for the snapshot, or why not). Snapshots
computed before this revision have no rows: their dashboard shows no CLV until recomputed.
customer_purchases (each customer's purchase days in the roll-up, which the summaries
are read from) and clv_purchases_state (the batches it reflects): derived data, built by
the next recompute; ix_invoice_line_credit, a partial index of the credit lines (amount
below 0) that reading the purchase days needs.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clv_fit",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("log_likelihood", sa.Float(), nullable=True),
        sa.Column("converged", sa.Boolean(), nullable=False),
        sa.Column("iterations", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", "model", name=op.f("pk_clv_fit")),
    )
    op.create_table(
        "clv_purchases_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("batch_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clv_purchases_state")),
    )
    op.create_table(
        "customer_purchases",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.Column("purchase_days", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("first_day_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_purchases")),
    )
    op.create_index(
        "ix_invoice_line_credit",
        "invoice_line",
        ["invoice_id", "amount"],
        postgresql_where=sa.text("amount < 0"),
        sqlite_where=sa.text("amount < 0"),
    )
    op.create_table(
        "customer_clv",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("monetary_value", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("p_alive", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("expected_purchases_90d", sa.Numeric(precision=14, scale=6), nullable=True),
        sa.Column("clv_12m", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_customer_clv")),
    )


def downgrade() -> None:
    op.drop_table("customer_clv")
    op.drop_index("ix_invoice_line_credit", table_name="invoice_line")
    op.drop_table("customer_purchases")
    op.drop_table("clv_purchases_state")
    op.drop_table("clv_fit")
