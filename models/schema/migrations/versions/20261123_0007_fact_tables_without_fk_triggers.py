"""fact tables without FOREIGN KEY constraints: invoice and invoice_line references are
enforced by ingest, set-based, instead of one trigger per row (see models/schema/sales.py);
the unused product-line index on invoice_line goes, and on PostgreSQL the batch_id
indexes of both become BRIN (batch ids grow as rows are appended)

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, referred column)
_REFERENCES = (
    ("invoice", "customer_id", "customer", "customer_id"),
    ("invoice", "batch_id", "ingest_batch", "batch_id"),
    ("invoice_line", "invoice_id", "invoice", "invoice_id"),
    ("invoice_line", "product_line_id", "product_line", "product_line_id"),
    ("invoice_line", "batch_id", "ingest_batch", "batch_id"),
)


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def _batch_indexes(using: str) -> None:
    for table in ("invoice", "invoice_line"):
        op.drop_index(f"ix_{table}_batch_id", table_name=table)
        op.create_index(f"ix_{table}_batch_id", table, ["batch_id"], postgresql_using=using)


def upgrade() -> None:
    op.drop_index("ix_invoice_line_product_line", table_name="invoice_line")
    _batch_indexes("brin")
    for table in ("invoice_line", "invoice"):
        with op.batch_alter_table(table) as batch:
            for t, column, referred, _ in _REFERENCES:
                if t == table:
                    batch.drop_constraint(_name(t, column, referred), type_="foreignkey")


def downgrade() -> None:
    for table in ("invoice", "invoice_line"):
        with op.batch_alter_table(table) as batch:
            for t, column, referred, referred_column in _REFERENCES:
                if t == table:
                    batch.create_foreign_key(
                        _name(t, column, referred), referred, [column], [referred_column]
                    )
    op.create_index("ix_invoice_line_product_line", "invoice_line", ["product_line_id"])
    _batch_indexes("btree")
