"""Purchase potential (wallet) per customer, product line and year."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, Base


class WalletEstimate(Base):
    """What the customer spends on a product line in a year, from any supplier."""

    __tablename__ = "wallet_estimate"
    __table_args__ = (CheckConstraint("potential_amount >= 0", name="potential_not_negative"),)

    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.customer_id"), primary_key=True)
    product_line_id: Mapped[str] = mapped_column(
        ForeignKey("product_line.product_line_id"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    potential_amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    # Who estimated it: planner, market study, customer statement.
    source: Mapped[str | None] = mapped_column(String(50))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)
