"""The supplier's product roadmap and the customers' strategic initiatives.

Capability tags are stored as JSON lists of lower-case strings; roadmap matching
(``models/roadmap/``) compares the two sets, the texts and the dates. A planner's
decision on a suggested pair is kept (``roadmap_decision``); every recompute stores the
matching of its snapshot (``roadmap_match``, ``initiative_coverage``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, Base, created_at_column, enum_column, references


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


class MatchVia(enum.StrEnum):
    TAGS = "tags"  # shares capability tags and scores enough
    TEXT = "text"  # a suggestion: the texts agree; counts once a planner confirms it
    CONFIRMED = "confirmed"  # a planner confirmed it: counts whatever the score


class MatchTiming(enum.StrEnum):
    IN_TIME = "in_time"
    LATE = "late"
    GAP = "gap"


class MatchDecision(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


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
    description: Mapped[str | None] = mapped_column(String(2000))
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
    description: Mapped[str | None] = mapped_column(String(2000))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.batch_id"), index=True)


class RoadmapDecision(Base):
    """A planner's decision on one (initiative, roadmap item) pair; the latest stands."""

    __tablename__ = "roadmap_decision"

    initiative_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("initiative.initiative_id")
    )
    roadmap_item_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("roadmap_item.roadmap_item_id")
    )
    decision: Mapped[MatchDecision] = mapped_column(enum_column(MatchDecision, "match_decision"))
    decided_by: Mapped[str] = mapped_column(String(320))
    decided_at: Mapped[datetime] = created_at_column()


class _PerSnapshotInitiative:
    """Rows the recompute writes per snapshot and initiative (no FOREIGN KEYs: 0008)."""

    snapshot_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, info=references("snapshot.snapshot_id"), sort_order=-2
    )
    initiative_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("initiative.initiative_id"), sort_order=-1
    )


class RoadmapMatch(_PerSnapshotInitiative, Base):
    """Per snapshot: a roadmap item that serves an initiative (or, via text, may)."""

    __tablename__ = "roadmap_match"

    roadmap_item_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("roadmap_item.roadmap_item_id")
    )
    via: Mapped[MatchVia] = mapped_column(enum_column(MatchVia, "match_via"))
    timing: Mapped[MatchTiming] = mapped_column(enum_column(MatchTiming, "match_timing"))
    months_late: Mapped[int] = mapped_column(Integer)
    tag_share: Mapped[float] = mapped_column(Float)
    text_similarity: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)


class InitiativeCoverage(_PerSnapshotInitiative, Base):
    """Per snapshot: how each open initiative is served, and what it puts at stake."""

    __tablename__ = "initiative_coverage"

    customer_id: Mapped[str] = mapped_column(String(64), info=references("customer.customer_id"))
    timing: Mapped[MatchTiming] = mapped_column(enum_column(MatchTiming, "match_timing"))
    months_late: Mapped[int] = mapped_column(Integer)
    value_at_stake: Mapped[Decimal | None] = mapped_column(MONEY)  # None: revenue unknown
    served_by: Mapped[list] = mapped_column(default=list)


class RoadmapMatching(Base):
    """Per snapshot: the fingerprint of what was matched (open initiatives, roadmap items,
    decisions, rules) and the snapshot whose ``roadmap_match`` rows hold its pairs: itself
    when matched afresh, an earlier one when nothing matched had changed since."""

    __tablename__ = "roadmap_matching"

    snapshot_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, info=references("snapshot.snapshot_id")
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    pairs_in: Mapped[int] = mapped_column(Integer, info=references("snapshot.snapshot_id"))
