"""roadmap matching: an optional description of roadmap items and initiatives (matched as
text beside the title); planners' decisions on suggested pairs (roadmap_decision); per
snapshot the pairs that serve each initiative (roadmap_match, written once while nothing
matched changes: roadmap_matching says which snapshot holds a snapshot's pairs) and each
open initiative's coverage and value at stake (initiative_coverage)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.schema.base import UTCDateTime

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("roadmap_item", "initiative"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("description", sa.String(length=2000), nullable=True))
    op.create_table(
        "initiative_coverage",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column(
            "timing",
            sa.Enum(
                "in_time",
                "late",
                "gap",
                name="match_timing",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("months_late", sa.Integer(), nullable=False),
        sa.Column("value_at_stake", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("served_by", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "initiative_id", name=op.f("pk_initiative_coverage")
        ),
    )
    op.create_table(
        "roadmap_decision",
        sa.Column("initiative_id", sa.String(length=64), nullable=False),
        sa.Column("roadmap_item_id", sa.String(length=64), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "confirm",
                "reject",
                name="match_decision",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.String(length=320), nullable=False),
        sa.Column(
            "decided_at",
            UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "initiative_id", "roadmap_item_id", name=op.f("pk_roadmap_decision")
        ),
    )
    op.create_table(
        "roadmap_match",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.String(length=64), nullable=False),
        sa.Column("roadmap_item_id", sa.String(length=64), nullable=False),
        sa.Column(
            "via",
            sa.Enum(
                "tags",
                "text",
                "confirmed",
                name="match_via",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "timing",
            sa.Enum(
                "in_time",
                "late",
                "gap",
                name="match_timing",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("months_late", sa.Integer(), nullable=False),
        sa.Column("tag_share", sa.Float(), nullable=False),
        sa.Column("text_similarity", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "initiative_id", "roadmap_item_id", name=op.f("pk_roadmap_match")
        ),
    )

    op.create_table(
        "roadmap_matching",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("pairs_in", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_roadmap_matching")),
    )


def downgrade() -> None:
    op.drop_table("roadmap_matching")
    op.drop_table("roadmap_match")
    op.drop_table("roadmap_decision")
    op.drop_table("initiative_coverage")
    for table in ("initiative", "roadmap_item"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("description")
