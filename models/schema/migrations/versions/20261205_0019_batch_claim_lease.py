"""batch claims with a lease: ingest_batch.claim_token, claimed_host, claimed_pid and
lease_until, so a claim left by a dead process (on any host) is taken over as soon as its
lease runs out instead of blocking a rerun for an hour

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from models.schema.base import UTCDateTime

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A batch still `started` when the schema changes keeps the rule it was claimed under:
# 60 minutes from its start (the old ingest.stale_batch_minutes default).
OLD_STALE_AFTER = timedelta(minutes=60)


def upgrade() -> None:
    with op.batch_alter_table("ingest_batch") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("claimed_host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("claimed_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True))
    b = sa.table(
        "ingest_batch",
        sa.column("batch_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("started_at", UTCDateTime(timezone=True)),
        sa.column("validation", sa.JSON()),
        sa.column("claimed_host", sa.String()),
        sa.column("claimed_pid", sa.Integer()),
        sa.column("lease_until", UTCDateTime(timezone=True)),
    )
    conn = op.get_bind()
    started = conn.execute(
        sa.select(b.c.batch_id, b.c.started_at, b.c.validation).where(b.c.status == "started")
    ).all()
    for row in started:  # a handful at most: the claims of loads running or killed
        claimed_by = (row.validation or {}).get("claimed_by") or {}
        conn.execute(
            sa.update(b)
            .where(b.c.batch_id == row.batch_id)
            .values(
                claimed_host=claimed_by.get("host"),
                claimed_pid=claimed_by.get("pid"),
                lease_until=row.started_at + OLD_STALE_AFTER,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_batch") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_pid")
        batch.drop_column("claimed_host")
        batch.drop_column("claim_token")
