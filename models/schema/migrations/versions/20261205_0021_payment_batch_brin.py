"""payment's batch_id index becomes BRIN on PostgreSQL, as invoice's and invoice_line's
(migration 0007): a batch's payments all carry its one id, appended in order, and
keeping a B-tree of those equal ids cost about a quarter of writing a payments file.
SQLite keeps a B-tree

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _batch_index(using: str) -> None:
    op.drop_index("ix_payment_batch_id", table_name="payment")
    op.create_index("ix_payment_batch_id", "payment", ["batch_id"], postgresql_using=using)


def upgrade() -> None:
    _batch_index("brin")


def downgrade() -> None:
    _batch_index("btree")
