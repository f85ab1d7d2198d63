"""The supplier's product roadmap and the customers' strategic initiatives.

Capability tags are stored as JSON lists of lower-case strings; roadmap
matching (a later issue) compares the two sets and the dates.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column


class RoadmapStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    RELEASED = "released"
    CANCELLED = "cancelled"


class Priority(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class InitiativeStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"
    DROPPED = "dropped"


class RoadmapItem(Base):
    __tablename__ = "roadmap_item"

    roadmap_item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_line_id: Mapped[str] = mapped_column(
        ForeignKey("product_line.product_line_id"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    capability_tags: Mapped[list] = mapped_column(default=list)
    planned_release_on: Mapped[date] = mapped_column(Date)
    status: Mapped[RoadmapStatus] = mapped_column(enum_column(RoadmapStatus, "roadmap_status"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)


class Initiative(Base):
    """What a customer plans to do, when, and which capabilities it will need."""

    __tablename__ = "initiative"

    initiative_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.customer_id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    capability_tags: Mapped[list] = mapped_column(default=list)
    needed_by: Mapped[date] = mapped_column(Date)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "initiative_priority"))
    status: Mapped[InitiativeStatus] = mapped_column(
        enum_column(InitiativeStatus, "initiative_status")
    )
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)
