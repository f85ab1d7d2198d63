"""sales_rollup's money in whole cents (BIGINT): a month's first recompute adds up ~3.6M
roll-up rows at 10M lines into the new windows, and PostgreSQL spent most of that
converting each NUMERIC value to a double (through text); integers add up exactly and
several times faster, each sum converted once. Data: every row's revenue, cost and
costed revenue times 100; downgrade divides them back.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "sales_rollup"
_MONEY = ("revenue", "cost", "revenue_costed")
_NUMERIC = sa.Numeric(precision=18, scale=2)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _retype(new_type, old_type) -> None:
    """Each money column's type changed (SQLite: the table copied, still WITHOUT ROWID)."""
    sqlite = _sqlite()
    with op.batch_alter_table(
        _TABLE,
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_with_rowid": False} if sqlite else {},
    ) as batch:
        for column in _MONEY:
            batch.alter_column(column, type_=new_type, existing_type=old_type)


def upgrade() -> None:
    if _sqlite():
        # Values first, as integers (the columns' NUMERIC affinity stores them so).
        op.execute(
            "UPDATE sales_rollup SET revenue = CAST(round(revenue * 100) AS INTEGER),"
            " cost = CAST(round(cost * 100) AS INTEGER),"
            " revenue_costed = CAST(round(revenue_costed * 100) AS INTEGER)"
        )
        _retype(sa.BigInteger(), _NUMERIC)
        return
    # One statement: PostgreSQL rewrites the table once, not once per column.
    op.execute(
        "ALTER TABLE sales_rollup"
        " ALTER COLUMN revenue TYPE BIGINT USING round(revenue * 100)::bigint,"
        " ALTER COLUMN cost TYPE BIGINT USING round(cost * 100)::bigint,"
        " ALTER COLUMN revenue_costed TYPE BIGINT USING round(revenue_costed * 100)::bigint"
    )


def downgrade() -> None:
    if _sqlite():
        _retype(_NUMERIC, sa.BigInteger())
        op.execute(
            "UPDATE sales_rollup SET revenue = round(revenue / 100.0, 2),"
            " cost = round(cost / 100.0, 2), revenue_costed = round(revenue_costed / 100.0, 2)"
        )
        return
    op.execute(
        "ALTER TABLE sales_rollup"
        " ALTER COLUMN revenue TYPE NUMERIC(18, 2) USING round(revenue / 100.0, 2),"
        " ALTER COLUMN cost TYPE NUMERIC(18, 2) USING round(cost / 100.0, 2),"
        " ALTER COLUMN revenue_costed TYPE NUMERIC(18, 2)"
        " USING round(revenue_costed / 100.0, 2)"
    )
