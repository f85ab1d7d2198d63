"""roll-ups clustered by customer on SQLite: the per-customer roll-ups and window tables
become WITHOUT ROWID tables, stored in primary-key (customer) order, so a refresh
deletes and inserts a customer's rows in one b-tree instead of a table and its key index,
and the recompute reads them in customer order; open_invoice_rollup's key becomes
(customer_id, invoice_id) on both databases (its customer_id index goes: the key leads
with it), so ageing groups the open invoices by customer without a sort or a lookup per
row; the unused index on invoice_rollup.settled_day goes (ageing reads
open_invoice_rollup since 0009), which every refresh paid for on insert

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose primary key leads with customer_id (open_invoice_rollup's once 0010 is in).
_CLUSTERED = (
    "sales_rollup",
    "invoice_month_rollup",
    "open_invoice_rollup",
    "sales_window",
    "invoice_window",
)
_OPEN = "open_invoice_rollup"
_OPEN_PK = "pk_open_invoice_rollup"
_OPEN_IX = "ix_open_invoice_rollup_customer_id"
_SETTLED_IX = "ix_invoice_rollup_settled_day"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _open_key(batch, columns: list[str]) -> None:
    batch.drop_constraint(_OPEN_PK, type_="primary")
    batch.create_primary_key(_OPEN_PK, columns)


def upgrade() -> None:
    op.drop_index(_SETTLED_IX, table_name="invoice_rollup")
    op.drop_index(_OPEN_IX, table_name=_OPEN)
    if not _sqlite():
        with op.batch_alter_table(_OPEN) as batch:
            _open_key(batch, ["customer_id", "invoice_id"])
        return
    # SQLite cannot alter a table's storage: batch mode copies each into a new one.
    for table in _CLUSTERED:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ) as batch:
            if table == _OPEN:
                _open_key(batch, ["customer_id", "invoice_id"])


def downgrade() -> None:
    if _sqlite():
        for table in _CLUSTERED:
            with op.batch_alter_table(table, recreate="always") as batch:
                if table == _OPEN:
                    _open_key(batch, ["invoice_id"])
    else:
        with op.batch_alter_table(_OPEN) as batch:
            _open_key(batch, ["invoice_id"])
    op.create_index(_OPEN_IX, _OPEN, ["customer_id"], unique=False)
    op.create_index(_SETTLED_IX, "invoice_rollup", ["settled_day"], unique=False)
