"""one name, one meaning: the per-manager "revenue at risk if the manager leaves" column
of manager_measure and dashboard_manager is renamed relationship_revenue_at_risk, the name
the headline already gives the same figure summed. ``revenue_at_risk`` now means only the
revenue of the Problem tier (dashboard_headline). The managers export's column is renamed
with it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("manager_measure", "dashboard_manager")


def _rename(old: str, new: str) -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(old, new_column_name=new)


def upgrade() -> None:
    _rename("revenue_at_risk", "relationship_revenue_at_risk")


def downgrade() -> None:
    _rename("relationship_revenue_at_risk", "revenue_at_risk")
