"""invoice.line_total: what an invoice's lines add up to (rounded to cents; NULL for an
invoice without lines), kept by the lines' load, so that the payments check reads one
row per invoice (one index probe) instead of summing its ~5 lines through the line
table's primary key and heap (~170,000 such sums per 200,000 payments: ~1 s of database
CPU). Existing invoices get the sum of their lines as stored.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("line_total", sa.Numeric(precision=18, scale=2), nullable=True))
    # The figure the payments check summed before (round(sum, 2): SQLite adds in binary).
    op.execute(
        "UPDATE invoice SET line_total = (SELECT round(sum(l.amount), 2) FROM invoice_line l"
        " WHERE l.invoice_id = invoice.invoice_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("line_total")
