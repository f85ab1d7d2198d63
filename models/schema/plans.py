"""Strategic-account plans: one versioned document per account, with revisions.

The plan body (targets per year and product line, initiatives it relies on,
stakeholder map, objectives and actions) is one JSON document validated by
``models/plans/content.py``; ``version`` implements optimistic locking (compare and
set in one UPDATE) and every write appends one immutable :class:`PlanRevision`
(a trigger refuses UPDATE and DELETE on it, 0011). ``plan_id`` is the account's
customer_id: one plan per account.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, Base, UTCDateTime, created_at_column, enum_column, references


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
    # The version executives see: the last approved one, kept while a new draft is edited.
    approved_version: Mapped[int | None] = mapped_column(Integer)
    # Who last changed the content (status changes aside): they may not approve it.
    edited_by: Mapped[str | None] = mapped_column(String(200))
    # Why the last submission was sent back (kept until the next submission).
    rejection_reason: Mapped[str | None] = mapped_column(Text)


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
    # What the write was: create, edit, submit, approve, reject, restore.
    event: Mapped[str | None] = mapped_column(String(20))
    # The reason of a rejection, or the version a restore came from.
    note: Mapped[str | None] = mapped_column(Text)


class PlanAssignment(Base):
    """A planner assigned to an account: they may edit its plan (admins assign)."""

    __tablename__ = "plan_assignment"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customer.customer_id"), primary_key=True, index=True
    )
    assigned_by: Mapped[str] = mapped_column(String(320))
    assigned_at: Mapped[datetime] = created_at_column()


class _PerSnapshotPlan:
    """Rows written by the recompute for one snapshot and plan (no FOREIGN KEYs: 0008)."""

    # sort_order: the key's columns first, as the tables were created (0011).
    snapshot_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, info=references("snapshot.snapshot_id"), sort_order=-2
    )
    plan_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("account_plan.plan_id"), sort_order=-1
    )


class PlanReview(_PerSnapshotPlan, Base):
    """Per snapshot and plan: the 1+2+1 check and the warnings, on the snapshot's data."""

    __tablename__ = "plan_review"

    version: Mapped[int] = mapped_column(Integer)
    one_two_one_ok: Mapped[bool]
    missing: Mapped[list] = mapped_column(default=list)
    warnings: Mapped[list] = mapped_column(default=list)
    warning_count: Mapped[int] = mapped_column(Integer)


class PlanActualRow(_PerSnapshotPlan, Base):
    """Per snapshot, plan, year and product line: target against invoiced revenue."""

    __tablename__ = "plan_actual"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target: Mapped[Decimal | None] = mapped_column(MONEY)
    actual: Mapped[Decimal | None] = mapped_column(MONEY)
    gap: Mapped[Decimal | None] = mapped_column(MONEY)
    run_rate: Mapped[Decimal | None] = mapped_column(MONEY)
    run_rate_profile: Mapped[Decimal | None] = mapped_column(MONEY)
