"""Customers, their groups and the account managers who own the relationship."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, Base, enum_column


class CustomerStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    CHURNED = "churned"


class BuyingFactor(enum.StrEnum):
    """DOMAIN.md section 3: what mainly drives the customer's buying."""

    RELATIONSHIP = "relationship"
    PRICE = "price"
    INNOVATION = "innovation"


class Seniority(enum.StrEnum):
    JUNIOR = "junior"
    SENIOR = "senior"
    PRINCIPAL = "principal"


class AccountManager(Base):
    __tablename__ = "account_manager"

    manager_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    region: Mapped[str | None] = mapped_column(String(100))
    seniority: Mapped[Seniority | None] = mapped_column(enum_column(Seniority, "seniority"))
    specialty: Mapped[str | None] = mapped_column(String(100))
    hired_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)


class ProductLine(Base):
    __tablename__ = "product_line"

    product_line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)


class Customer(Base):
    """A business customer or prospect, identified everywhere by its source id."""

    __tablename__ = "customer"
    __table_args__ = (CheckConstraint("influence BETWEEN 0 AND 100", name="influence_range"),)

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    ownership_type: Mapped[str | None] = mapped_column(String(50))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    # Subsidiaries point at their group's parent customer; measures roll up.
    parent_customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customer.customer_id"), index=True
    )
    manager_id: Mapped[str | None] = mapped_column(
        ForeignKey("account_manager.manager_id"), index=True
    )
    influence: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[CustomerStatus] = mapped_column(enum_column(CustomerStatus, "customer_status"))
    buying_factor: Mapped[BuyingFactor | None] = mapped_column(
        enum_column(BuyingFactor, "buying_factor")
    )
    named_strategic: Mapped[bool] = mapped_column(default=False)
    # Prospects: estimated deal potential, used to split key / general opportunities.
    estimated_potential: Mapped[Decimal | None] = mapped_column(MONEY)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)
