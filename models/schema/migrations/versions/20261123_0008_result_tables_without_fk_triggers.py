"""per-snapshot result tables without FOREIGN KEY constraints: the recompute bulk-writes
~300,000 rows per snapshot and PostgreSQL checked each one with a trigger (the references
stay documented in the models' column info); an index on invoice_rollup.last_paid_on finds
the invoices paid after an as-of date; the unused table rollup_dirty_customer goes (the
refresh's work list is a temporary table)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, referred column)
_REFERENCES = (
    ("customer_measure", "customer_id", "customer", "customer_id"),
    ("customer_measure", "snapshot_id", "snapshot", "snapshot_id"),
    ("customer_tier", "customer_id", "customer", "customer_id"),
    ("customer_tier", "snapshot_id", "snapshot", "snapshot_id"),
    ("customer_receivable", "snapshot_id", "snapshot", "snapshot_id"),
    ("customer_segment", "snapshot_id", "snapshot", "snapshot_id"),
    ("manager_measure", "snapshot_id", "snapshot", "snapshot_id"),
    ("tier_migration", "snapshot_id", "snapshot", "snapshot_id"),
)
_TABLES = tuple(dict.fromkeys(t for t, *_ in _REFERENCES))


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for t, column, referred, _ in _REFERENCES:
                if t == table:
                    batch.drop_constraint(_name(t, column, referred), type_="foreignkey")
    op.create_index(
        op.f("ix_invoice_rollup_last_paid_on"), "invoice_rollup", ["last_paid_on"], unique=False
    )
    op.drop_table("rollup_dirty_customer")


def downgrade() -> None:
    op.create_table(
        "rollup_dirty_customer",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_rollup_dirty_customer")),
    )
    op.drop_index(op.f("ix_invoice_rollup_last_paid_on"), table_name="invoice_rollup")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for t, column, referred, referred_column in _REFERENCES:
                if t == table:
                    batch.create_foreign_key(
                        _name(t, column, referred), referred, [column], [referred_column]
                    )
