"""plans service: the approved version kept beside a new draft (account_plan.approved_version),
who last edited the content and why a submission was sent back; what each revision was
(event, note); planners assigned to accounts (plan_assignment); per-snapshot plan review
and plan vs actual (plan_review, plan_actual); and plan_revision made immutable: a
trigger refuses UPDATE and DELETE on both databases

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.schema.base import UTCDateTime

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = "plan_revision is append-only: revisions are never changed or deleted"

_PG_UP = (
    f"""
    CREATE FUNCTION plan_revision_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_REFUSAL}' USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    """
    CREATE TRIGGER plan_revision_immutable BEFORE UPDATE OR DELETE ON plan_revision
    FOR EACH ROW EXECUTE FUNCTION plan_revision_immutable()
    """,
)
_PG_DOWN = (
    "DROP TRIGGER IF EXISTS plan_revision_immutable ON plan_revision",
    "DROP FUNCTION IF EXISTS plan_revision_immutable()",
)
_SQLITE_UP = tuple(
    f"""
    CREATE TRIGGER plan_revision_no_{verb.lower()} BEFORE {verb} ON plan_revision
    BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END
    """
    for verb in ("UPDATE", "DELETE")
)
_SQLITE_DOWN = tuple(
    f"DROP TRIGGER IF EXISTS plan_revision_no_{verb}" for verb in ("update", "delete")
)


def _triggers(up: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    statements = (_SQLITE_UP if up else _SQLITE_DOWN) if sqlite else (_PG_UP if up else _PG_DOWN)
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "plan_actual",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("actual", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("gap", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("run_rate", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("run_rate_profile", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "plan_id", "year", "product_line_id", name=op.f("pk_plan_actual")
        ),
    )
    op.create_table(
        "plan_review",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("one_two_one_ok", sa.Boolean(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", "plan_id", name=op.f("pk_plan_review")),
    )
    op.create_table(
        "plan_assignment",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_by", sa.String(length=320), nullable=False),
        sa.Column(
            "assigned_at",
            UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_plan_assignment_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.user_id"], name=op.f("fk_plan_assignment_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "customer_id", name=op.f("pk_plan_assignment")),
    )
    op.create_index(
        op.f("ix_plan_assignment_customer_id"), "plan_assignment", ["customer_id"], unique=False
    )
    with op.batch_alter_table("account_plan") as batch:
        batch.add_column(sa.Column("approved_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("edited_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("plan_revision") as batch:
        batch.add_column(sa.Column("event", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    _triggers(up=True)


def downgrade() -> None:
    _triggers(up=False)
    with op.batch_alter_table("plan_revision") as batch:
        batch.drop_column("note")
        batch.drop_column("event")
    with op.batch_alter_table("account_plan") as batch:
        batch.drop_column("rejection_reason")
        batch.drop_column("edited_by")
        batch.drop_column("approved_version")
    op.drop_index(op.f("ix_plan_assignment_customer_id"), table_name="plan_assignment")
    op.drop_table("plan_assignment")
    op.drop_table("plan_review")
    op.drop_table("plan_actual")
