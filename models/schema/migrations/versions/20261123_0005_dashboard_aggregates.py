"""dashboard aggregates: per-snapshot tables the executive pages read (headline, tiers,
customers, CLV, Pareto points, migrations, ageing, DSO trend, managers, segment effort)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_ageing",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_ageing_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "position", name=op.f("pk_dashboard_ageing")),
    )
    op.create_table(
        "dashboard_clv",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("clv_12m", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("p_alive", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_clv_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_dashboard_clv")),
    )
    op.create_table(
        "dashboard_customer",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("previous_tier", sa.String(length=32), nullable=True),
        sa.Column("migration", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.String(length=1000), nullable=True),
        sa.Column("score", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("revenue_previous", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("growth", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.Column("gross_margin_pct", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("collection_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("on_time_share", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("influence", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("manager_id", sa.String(length=64), nullable=True),
        sa.Column("manager", sa.String(length=200), nullable=True),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("group_name", sa.String(length=200), nullable=True),
        sa.Column("main_segment", sa.String(length=16), nullable=True),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("overdue", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("late_invoices", sa.Integer(), nullable=True),
        sa.Column("late_cost", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_customer_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_dashboard_customer")),
    )
    op.create_index(
        "ix_dashboard_customer_customer_id", "dashboard_customer", ["customer_id"], unique=False
    )
    op.create_table(
        "dashboard_dso_month",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("invoiced", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("trailing_revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("dso_days", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_dso_month_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "month", name=op.f("pk_dashboard_dso_month")),
    )
    op.create_table(
        "dashboard_headline",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "refreshed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("trading_customers", sa.Integer(), nullable=False),
        sa.Column("trading_customers_prev", sa.Integer(), nullable=True),
        sa.Column("prospects", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("revenue_prev", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("gross_margin_pct", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("gross_margin_pct_prev", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("dso_days", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("dso_days_prev", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("revenue_at_risk", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("revenue_at_risk_prev", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column(
            "relationship_revenue_at_risk", sa.Numeric(precision=18, scale=2), nullable=False
        ),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("overdue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("over_90", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("late_cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("sales_to_recover_90", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("collection_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("top20_revenue_share", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("upgrades", sa.Integer(), nullable=False),
        sa.Column("downgrades", sa.Integer(), nullable=False),
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("lost_customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_headline_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_dashboard_headline")),
    )
    op.create_table(
        "dashboard_manager",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
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
        sa.Column("problem_customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_manager_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "manager_id", name=op.f("pk_dashboard_manager")),
    )
    op.create_table(
        "dashboard_migration",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("from_tier", sa.String(length=32), nullable=False),
        sa.Column("to_tier", sa.String(length=32), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_migration_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "from_tier", "to_tier", name=op.f("pk_dashboard_migration")
        ),
    )
    op.create_table(
        "dashboard_pareto",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_share", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("revenue_share", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_pareto_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "rank", name=op.f("pk_dashboard_pareto")),
    )
    op.create_table(
        "dashboard_segment_effort",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("potential", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_segment_effort_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "manager_id", "segment", name=op.f("pk_dashboard_segment_effort")
        ),
    )
    op.create_table(
        "dashboard_tier",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("customers_prev", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_dashboard_tier_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "tier", name=op.f("pk_dashboard_tier")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_tier")
    op.drop_table("dashboard_segment_effort")
    op.drop_table("dashboard_pareto")
    op.drop_table("dashboard_migration")
    op.drop_table("dashboard_manager")
    op.drop_table("dashboard_headline")
    op.drop_table("dashboard_dso_month")
    op.drop_index("ix_dashboard_customer_customer_id", table_name="dashboard_customer")
    op.drop_table("dashboard_customer")
    op.drop_table("dashboard_clv")
    op.drop_table("dashboard_ageing")
