"""audit trail: audit_event.client (the address a sign-in came from), indexes to count
recent failed sign-ins per user name and per client and to list events by time, and
audit_event made append-only: a trigger refuses UPDATE and DELETE on both databases

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = "audit_event is append-only: audit events are never changed or deleted"

_PG_UP = (
    f"""
    CREATE FUNCTION audit_event_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_REFUSAL}' USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    """
    CREATE TRIGGER audit_event_immutable BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_immutable()
    """,
)
_PG_DOWN = (
    "DROP TRIGGER IF EXISTS audit_event_immutable ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_immutable()",
)
_SQLITE_UP = tuple(
    f"""
    CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event
    BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END
    """
    for verb in ("UPDATE", "DELETE")
)
_SQLITE_DOWN = tuple(
    f"DROP TRIGGER IF EXISTS audit_event_no_{verb}" for verb in ("update", "delete")
)


def _triggers(up: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    statements = (_SQLITE_UP if up else _SQLITE_DOWN) if sqlite else (_PG_UP if up else _PG_DOWN)
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("client", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_event_target_id_at", "audit_event", ["target_id", "at"])
    op.create_index("ix_audit_event_client_at", "audit_event", ["client", "at"])
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    _triggers(up=True)


def downgrade() -> None:
    # The triggers go first: SQLite's batch mode rebuilds the table to drop the column.
    _triggers(up=False)
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_index("ix_audit_event_client_at", table_name="audit_event")
    op.drop_index("ix_audit_event_target_id_at", table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("client")
