"""ingest change log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "ingest_change",
        sa.Column("change_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("natural_key", sa.String(length=200), nullable=False),
        sa.Column("previous_customer_id", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_ingest_change_batch_id_ingest_batch"),
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_ingest_change")),
    )
    op.create_index(op.f("ix_ingest_change_batch_id"), "ingest_change", ["batch_id"], unique=False)


def downgrade() -> None:

    op.drop_index(op.f("ix_ingest_change_batch_id"), table_name="ingest_change")
    op.drop_table("ingest_change")
