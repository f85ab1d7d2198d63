"""ingest ledger details: rejected row count per batch, column of a quarantine rule

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD/DROP COLUMN, not batch mode: SQLite supports both natively (3.35+),
# and batch mode would recreate ingest_batch, which every fact table references.
def upgrade() -> None:
    op.add_column(
        "ingest_batch",
        sa.Column("rows_rejected", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("quarantine_record", sa.Column("column_name", sa.String(length=100)))


def downgrade() -> None:
    op.drop_column("quarantine_record", "column_name")
    op.drop_column("ingest_batch", "rows_rejected")
