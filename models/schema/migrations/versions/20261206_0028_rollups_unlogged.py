"""The roll-ups, the window tables and the two tables that say what they hold, UNLOGGED
(PostgreSQL; nothing changes on SQLite).

Everything in them is derived from the facts by the roll-up refresh. Written to the
write-ahead log, a night that touched a third of the customers at 10M lines logged a full
page image for nearly every roll-up page it changed (the sales roll-up alone: 17,500
pages, 138 MB, for 17,085 rows), and the first build logged every roll-up row. Unlogged,
the incremental refresh of that night took 5.1 s instead of 7.3 s.

What a crash does: PostgreSQL empties every unlogged table when it recovers from one (the
server or any of its processes killed), so all of these are emptied together,
``rollup_batch`` (the batches the roll-ups include) and ``rollup_window`` (the window the
window tables hold) with them. That is the state of a database no recompute has run on
yet: the next recompute rebuilds the roll-ups whole (``models/value/rollups.py``: no
applied batch means a full refresh) and the windows with them. Until then the two other
readers check ``rolled_up``: a plan's actuals are summed from the lines, and the
dashboard refresh stops saying to recompute. The facts, the snapshots and the
dashboard's tables stay logged. A hot standby cannot read unlogged tables.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "sales_rollup",
    "invoice_rollup",
    "invoice_month_rollup",
    "open_invoice_rollup",
    "payment_month_rollup",
    "sales_window",
    "invoice_window",
    "rollup_window",
    "rollup_batch",
)


def _persistence(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET {kind}")


def upgrade() -> None:
    _persistence("UNLOGGED")


def downgrade() -> None:
    _persistence("LOGGED")
