"""Opportunities and their stage history (the sales funnel, DOMAIN.md section 6)."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, Base, enum_column


class Stage(enum.StrEnum):
    """Stages of key-account expansion, in funnel order, then the two endings."""

    TARGET_ACCOUNT = "target_account"
    CUSTOMER_ANALYSIS = "customer_analysis"
    BUILD_TRUST = "build_trust"
    DISCOVER_NEEDS = "discover_needs"
    PRESENT_VALUE = "present_value"
    WIN_COMMITMENT = "win_commitment"
    WON = "won"
    COLLECT_PAYMENT = "collect_payment"
    LOST = "lost"


class OpportunityStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Opportunity(Base):
    __tablename__ = "opportunity"

    opportunity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.customer_id"), index=True)
    product_line_id: Mapped[str | None] = mapped_column(ForeignKey("product_line.product_line_id"))
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    owner_manager_id: Mapped[str | None] = mapped_column(ForeignKey("account_manager.manager_id"))
    created_on: Mapped[date] = mapped_column(Date)
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, "opportunity_stage_name"))
    status: Mapped[OpportunityStatus] = mapped_column(
        enum_column(OpportunityStatus, "opportunity_status")
    )
    closed_on: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)


class OpportunityStage(Base):
    """One stage change; an opportunity advances only on a customer action."""

    __tablename__ = "opportunity_stage"

    opportunity_id: Mapped[str] = mapped_column(
        ForeignKey("opportunity.opportunity_id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, "opportunity_stage_name"))
    entered_on: Mapped[date] = mapped_column(Date)
    customer_action: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)
