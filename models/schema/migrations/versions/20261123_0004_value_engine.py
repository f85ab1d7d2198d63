"""value engine: roll-ups of the facts, per-snapshot segments, receivables, managers, migrations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD/DROP COLUMN (not batch mode) on the existing snapshot tables, as 0003 does:
# SQLite supports both natively and batch mode would recreate referenced tables.
def upgrade() -> None:
    op.create_table(
        "invoice_month_rollup",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("last_invoice_date", sa.Date(), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("settled_count", sa.Integer(), nullable=False),
        sa.Column("settled_due", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("settled_timed", sa.Integer(), nullable=False),
        sa.Column("settled_on_time", sa.Integer(), nullable=False),
        sa.Column("settled_days_late", sa.Integer(), nullable=False),
        sa.Column("settled_late", sa.Integer(), nullable=False),
        sa.Column("settled_late_amount_days", sa.Numeric(precision=24, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "month", name=op.f("pk_invoice_month_rollup")),
    )
    op.create_table(
        "invoice_rollup",
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("amount_due", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_by_due", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("last_paid_on", sa.Date(), nullable=True),
        sa.Column("invoice_day", sa.Integer(), nullable=False),
        sa.Column("due_day", sa.Integer(), nullable=True),
        sa.Column("settled_day", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice_rollup")),
    )
    op.create_index(
        "ix_invoice_rollup_customer_date",
        "invoice_rollup",
        ["customer_id", "invoice_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_invoice_rollup_invoice_date"), "invoice_rollup", ["invoice_date"], unique=False
    )
    op.create_index(
        op.f("ix_invoice_rollup_settled_day"), "invoice_rollup", ["settled_day"], unique=False
    )
    op.create_table(
        "rollup_batch",
        sa.Column("batch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_rollup_batch")),
    )
    op.create_table(
        "rollup_dirty_customer",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_rollup_dirty_customer")),
    )
    op.create_table(
        "sales_rollup",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("revenue_costed", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", "product_line_id", "month", name=op.f("pk_sales_rollup")
        ),
    )
    op.create_table(
        "customer_receivable",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("current", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("days_1_30", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("days_31_60", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("days_61_90", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("days_over_90", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("dso_days", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("collection_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("late_invoices", sa.Integer(), nullable=False),
        sa.Column("late_cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("sales_to_recover_90", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_customer_receivable_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_customer_receivable")),
    )
    op.create_table(
        "customer_segment",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("wallet_year", sa.Integer(), nullable=False),
        sa.Column("potential", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("potential_previous", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("revenue_previous", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("share", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.Column("potential_level", sa.String(length=16), nullable=False),
        sa.Column("share_level", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("whitespace", sa.Boolean(), nullable=False),
        sa.Column("our_growth", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.Column("wallet_growth", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_customer_segment_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "customer_id", "product_line_id", name=op.f("pk_customer_segment")
        ),
    )
    op.create_table(
        "manager_measure",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("churned_customers", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("revenue_share", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("invoices_per_customer", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("upgrades", sa.Integer(), nullable=False),
        sa.Column("downgrades", sa.Integer(), nullable=False),
        sa.Column("collection_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("revenue_at_risk", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_manager_measure_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "manager_id", name=op.f("pk_manager_measure")),
    )
    op.create_table(
        "tier_migration",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("previous_tier", sa.String(length=32), nullable=True),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_tier_migration_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_tier_migration")),
    )
    op.create_index(op.f("ix_tier_migration_kind"), "tier_migration", ["kind"], unique=False)
    op.add_column(
        "customer_measure",
        sa.Column("amount_due", sa.Numeric(precision=18, scale=2), nullable=True),
    )
    op.add_column(
        "customer_measure",
        sa.Column("amount_collected", sa.Numeric(precision=18, scale=2), nullable=True),
    )
    op.add_column(
        "customer_measure",
        sa.Column("revenue_costed", sa.Numeric(precision=18, scale=2), nullable=True),
    )
    op.add_column(
        "customer_measure",
        sa.Column("gross_profit", sa.Numeric(precision=18, scale=2), nullable=True),
    )
    op.add_column(
        "customer_tier", sa.Column("top_share", sa.Numeric(precision=9, scale=6), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("customer_tier", "top_share")
    op.drop_column("customer_measure", "gross_profit")
    op.drop_column("customer_measure", "revenue_costed")
    op.drop_column("customer_measure", "amount_collected")
    op.drop_column("customer_measure", "amount_due")
    op.drop_index(op.f("ix_tier_migration_kind"), table_name="tier_migration")
    op.drop_table("tier_migration")
    op.drop_table("manager_measure")
    op.drop_table("customer_segment")
    op.drop_table("customer_receivable")
    op.drop_table("sales_rollup")
    op.drop_table("rollup_dirty_customer")
    op.drop_table("rollup_batch")
    op.drop_index(op.f("ix_invoice_rollup_settled_day"), table_name="invoice_rollup")
    op.drop_index(op.f("ix_invoice_rollup_invoice_date"), table_name="invoice_rollup")
    op.drop_index("ix_invoice_rollup_customer_date", table_name="invoice_rollup")
    op.drop_table("invoice_rollup")
    op.drop_table("invoice_month_rollup")
