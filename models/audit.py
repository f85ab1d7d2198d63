"""The audit trail as administrators read it: who did what and when, filtered.

Only a role allowed to ``view_audit`` reads it (checked here, not only by the menu; a
refusal is itself audited). Audit rows are append-only: this module and every service
only ever add rows (``session.add(AuditEvent(...))``); none updates or deletes one, and
the database refuses UPDATE and DELETE on ``audit_event`` with a trigger (migration 0017).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func, or_, select

from .access import Action, Identity, require
from .db import transaction
from .schema import AuditEvent

# What the first part of an action (before the dot) means, for people choosing a filter.
KIND_LABELS = {
    "auth": "sign-in",
    "user": "users and roles",
    "plan": "account plans",
    "roadmap": "roadmap decisions",
    "export": "downloads and exports",
    "audit": "audit trail",
}
DEFAULT_LIMIT = 5_000


@dataclass(frozen=True)
class AuditFilter:
    """Which events to list: by actor (part of the name), kinds, and a date range (UTC days)."""

    who: str | None = None
    kinds: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None  # inclusive


@dataclass(frozen=True)
class AuditRow:
    """One audit event as the audit page lists it."""

    at: datetime
    actor: str
    action: str
    kind: str
    target_type: str | None
    target_id: str | None
    detail: str | None
    client: str | None


@dataclass(frozen=True)
class AuditPage:
    """The newest ``limit`` events matching a filter, and how many matched in all."""

    rows: list[AuditRow]
    matched: int

    @property
    def truncated(self) -> bool:
        return self.matched > len(self.rows)


def kind_of(action: str) -> str:
    """The kind of an action: the part before the first dot (``auth.failed`` -> ``auth``)."""
    return action.split(".", 1)[0]


def audit_kinds(engine: Engine, identity: Identity) -> list[str]:
    """The kinds present in the audit trail, sorted (for the page's filter)."""
    require(identity, Action.VIEW_AUDIT, engine=engine, target_type="audit_event")
    with transaction(engine) as session:
        actions = session.scalars(select(AuditEvent.action).distinct()).all()
    return sorted({kind_of(a) for a in actions})


def list_audit_events(
    engine: Engine, identity: Identity, where: AuditFilter, *, limit: int = DEFAULT_LIMIT
) -> AuditPage:
    """The newest events matching ``where`` (at most ``limit``), newest first."""
    require(identity, Action.VIEW_AUDIT, engine=engine, target_type="audit_event")
    conditions = []
    if where.who and where.who.strip():
        who = where.who.strip().lower()
        conditions.append(func.lower(AuditEvent.actor).contains(who, autoescape=True))
    if where.kinds:
        conditions.append(
            or_(*(AuditEvent.action.startswith(f"{k}.", autoescape=True) for k in where.kinds))
        )
    if where.since is not None:
        conditions.append(AuditEvent.at >= datetime.combine(where.since, time(), UTC))
    if where.until is not None:
        end = datetime.combine(where.until + timedelta(days=1), time(), UTC)
        conditions.append(AuditEvent.at < end)
    with transaction(engine) as session:
        matched = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))
        events = session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.at.desc(), AuditEvent.event_id.desc())
            .limit(limit)
        ).all()
        rows = [
            AuditRow(
                at=e.at,
                actor=e.actor,
                action=e.action,
                kind=kind_of(e.action),
                target_type=e.target_type,
                target_id=e.target_id,
                detail=e.detail,
                client=e.client,
            )
            for e in events
        ]
    return AuditPage(rows=rows, matched=int(matched or 0))
