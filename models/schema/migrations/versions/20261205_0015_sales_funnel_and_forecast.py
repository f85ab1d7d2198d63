"""sales funnel and forecast: what each recompute stores of the funnel, per snapshot
(funnel_run: period, shape and backtest errors; funnel_deal: each opportunity's stage and
state; funnel_stage: shape, conversion, time in stage and probabilities; funnel_probability:
per segment; funnel_period: state counts per period; funnel_forecast and funnel_backtest).
New tables only, no FOREIGN KEYs (as for every per-snapshot result table).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funnel_backtest",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("learned", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("naive", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("won", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", "period_start", name=op.f("pk_funnel_backtest")),
    )
    op.create_table(
        "funnel_deal",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("owner_manager_id", sa.String(length=64), nullable=True),
        sa.Column("product_line_id", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("days_in_stage", sa.Integer(), nullable=True),
        sa.Column("expected_close_on", sa.Date(), nullable=True),
        sa.Column("unbacked_moves", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("forecast_period", sa.Date(), nullable=True),
        sa.Column("weighted_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("naive_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.PrimaryKeyConstraint("snapshot_id", "opportunity_id", name=op.f("pk_funnel_deal")),
    )
    op.create_table(
        "funnel_forecast",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("learned", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("naive", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("won", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "period_start", "owner", name=op.f("pk_funnel_forecast")
        ),
    )
    op.create_table(
        "funnel_period",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "period_start", "state", name=op.f("pk_funnel_period")
        ),
    )
    op.create_table(
        "funnel_probability",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("won", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "segment", "stage", name=op.f("pk_funnel_probability")
        ),
    )
    op.create_table(
        "funnel_run",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("forecast_start", sa.Date(), nullable=False),
        sa.Column("segment_by", sa.String(length=16), nullable=False),
        sa.Column("middle_share", sa.Float(), nullable=True),
        sa.Column("bulge_stage", sa.String(length=32), nullable=True),
        sa.Column("learned_error", sa.Float(), nullable=True),
        sa.Column("naive_error", sa.Float(), nullable=True),
        sa.Column("backtest_periods", sa.Integer(), nullable=False),
        sa.Column("no_close_date", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_funnel_run")),
    )
    op.create_table(
        "funnel_stage",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("open_deals", sa.Integer(), nullable=False),
        sa.Column("open_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("conversion", sa.Float(), nullable=True),
        sa.Column("stays", sa.Integer(), nullable=False),
        sa.Column("median_days", sa.Float(), nullable=True),
        sa.Column("p25_days", sa.Float(), nullable=True),
        sa.Column("p75_days", sa.Float(), nullable=True),
        sa.Column("history_deals", sa.Integer(), nullable=False),
        sa.Column("history_won", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("stalled_deals", sa.Integer(), nullable=False),
        sa.Column("stalled_won", sa.Integer(), nullable=False),
        sa.Column("stalled_probability", sa.Float(), nullable=False),
        sa.Column("naive_probability", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", "stage", name=op.f("pk_funnel_stage")),
    )


def downgrade() -> None:
    op.drop_table("funnel_stage")
    op.drop_table("funnel_run")
    op.drop_table("funnel_probability")
    op.drop_table("funnel_period")
    op.drop_table("funnel_forecast")
    op.drop_table("funnel_deal")
    op.drop_table("funnel_backtest")
