"""Strategic-account plans: one versioned document per account, with revisions.

The plan body (targets per year and product line, initiatives it relies on,
stakeholder map, objectives and actions) is one JSON document validated by the
plans service; ``version`` implements optimistic locking and every save
appends one immutable :class:`PlanRevision`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, created_at_column, enum_column


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"


class AccountPlan(Base):
    __tablename__ = "account_plan"
    __table_args__ = (
        CheckConstraint("end_year >= start_year", name="years_ordered"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    plan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.customer_id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[dict] = mapped_column(default=dict)
    # The iron triangle (DOMAIN.md section 8).
    account_lead: Mapped[str | None] = mapped_column(String(200))
    solution_lead: Mapped[str | None] = mapped_column(String(200))
    delivery_lead: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlanRevision(Base):
    """Immutable record of one save: who, when, from which version, what changed."""

    __tablename__ = "plan_revision"

    plan_id: Mapped[str] = mapped_column(ForeignKey("account_plan.plan_id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = created_at_column()
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"))
    changed_fields: Mapped[list] = mapped_column(default=list)
    content: Mapped[dict] = mapped_column(default=dict)
