"""run_lock.lease_until: on SQLite, a lock row left by a run on another host (a container
replaced, its database file kept) is taken over once its lease runs out, instead of
holding every later run up for good. A row held when the schema changes gets one hour
from its start, as a batch claim did in 0019.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from models.schema.base import UTCDateTime

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_HOLD = timedelta(hours=1)


def upgrade() -> None:
    with op.batch_alter_table("run_lock") as batch:
        batch.add_column(sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's lock is the server's advisory lock: no lease
    t = sa.table(
        "run_lock",
        sa.column("name", sa.String()),
        sa.column("since", UTCDateTime(timezone=True)),
        sa.column("lease_until", UTCDateTime(timezone=True)),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(t.c.name, t.c.since)).all():  # one row per lock at most
        held = t.update().where(t.c.name == row.name)
        conn.execute(held.values(lease_until=row.since + OLD_HOLD))


def downgrade() -> None:
    with op.batch_alter_table("run_lock") as batch:
        batch.drop_column("lease_until")
