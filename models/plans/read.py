"""Reading plans: the current plan, any version, the history, diffs and the list.

Every reader here is open to any signed-in role (``view_plan``); writes go through
:mod:`models.plans.service`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select

from models.errors import AccountopsError
from models.schema import AccountPlan, Customer, PlanRevision, PlanStatus

from .content import PlanContent, from_stored
from .diff import Change, diff_contents


class PlanNotFound(AccountopsError):
    code = "PLAN_NOT_FOUND"


@dataclass(frozen=True)
class PlanState:
    """A plan as stored: its current (head) version, status and who did what."""

    customer_id: str
    customer_name: str | None
    title: str
    start_year: int
    end_year: int
    status: PlanStatus
    version: int
    updated_by: str
    updated_at: datetime
    edited_by: str | None
    approved_version: int | None
    approved_by: str | None
    approved_at: datetime | None
    rejection_reason: str | None
    content: dict

    @property
    def plan(self) -> PlanContent:
        return from_stored(self.content)

    @property
    def years(self) -> str:
        return f"{self.start_year}-{self.end_year}"


@dataclass(frozen=True)
class Revision:
    """One immutable version: who wrote it, when, what it was and what changed."""

    version: int
    from_version: int | None
    status: PlanStatus
    event: str | None
    actor: str
    at: datetime
    changed_fields: list[str]
    note: str | None
    content: dict


_P, _R = AccountPlan.__table__, PlanRevision.__table__
_PLAN_COLS = (
    "title",
    "start_year",
    "end_year",
    "status",
    "version",
    "updated_by",
    "updated_at",
    "edited_by",
    "approved_version",
    "approved_by",
    "approved_at",
    "rejection_reason",
    "content",
)


def _plans_query():
    return select(_P.c.customer_id, Customer.name, *(_P.c[c] for c in _PLAN_COLS)).outerjoin(
        Customer, Customer.customer_id == _P.c.customer_id
    )


def _state(row) -> PlanState:
    values = dict(row._mapping)
    values["customer_name"] = values.pop("name")
    values["status"] = PlanStatus(values["status"])
    return PlanState(**values)


def plan_state(conn: Connection, customer_id: str) -> PlanState | None:
    """The plan of ``customer_id`` as it stands, or None."""
    row = conn.execute(_plans_query().where(_P.c.customer_id == customer_id)).first()
    return _state(row) if row is not None else None


def find_plan(engine: Engine, customer_id: str) -> PlanState | None:
    """The plan of ``customer_id``, or None when the account has none."""
    with engine.connect() as conn:
        return plan_state(conn, customer_id)


def get_plan(engine: Engine, customer_id: str) -> PlanState:
    """The plan of ``customer_id``, or :class:`PlanNotFound`."""
    state = find_plan(engine, customer_id)
    if state is None:
        raise PlanNotFound(f"no plan for customer {customer_id!r} (accountops plan list)")
    return state


def list_plans(engine: Engine) -> list[PlanState]:
    """Every plan, by customer id."""
    with engine.connect() as conn:
        return [_state(r) for r in conn.execute(_plans_query().order_by(_P.c.customer_id))]


def revisions(conn: Connection, customer_id: str, *, since: int = 0) -> list[Revision]:
    """The revisions of a plan after version ``since``, oldest first."""
    q = (
        select(*(_R.c[c] for c in Revision.__dataclass_fields__))
        .where(_R.c.plan_id == customer_id, _R.c.version > since)
        .order_by(_R.c.version)
    )
    return [_revision(r) for r in conn.execute(q)]


def _revision(row) -> Revision:
    values = dict(row._mapping)
    values["status"] = PlanStatus(values["status"])
    values["changed_fields"] = list(values["changed_fields"] or [])
    return Revision(**values)


def plan_history(engine: Engine, customer_id: str) -> list[Revision]:
    """Every version of the plan, oldest first (:class:`PlanNotFound` if there is none)."""
    with engine.connect() as conn:
        found = revisions(conn, customer_id)
    if not found:
        raise PlanNotFound(f"no plan for customer {customer_id!r} (accountops plan list)")
    return found


def revision_content(conn: Connection, customer_id: str, version: int) -> dict | None:
    """The content of one version (revisions never change, so any connection may read it)."""
    return conn.scalar(
        select(_R.c.content).where(_R.c.plan_id == customer_id, _R.c.version == version)
    )


def get_version(engine: Engine, customer_id: str, version: int) -> Revision:
    """One version of the plan, or :class:`PlanNotFound` naming the versions there are."""
    with engine.connect() as conn:
        found = revisions(conn, customer_id, since=version - 1)
        last = conn.scalar(select(func.max(_R.c.version)).where(_R.c.plan_id == customer_id))
    if not found or found[0].version != version:
        if last is None:
            raise PlanNotFound(f"no plan for customer {customer_id!r} (accountops plan list)")
        raise PlanNotFound(f"plan {customer_id} has versions 1 to {last}, not {version}")
    return found[0]


def plan_diff(engine: Engine, customer_id: str, v1: int, v2: int) -> list[Change]:
    """What changed in the content from version ``v1`` to ``v2`` (either order)."""
    before = get_version(engine, customer_id, v1).content
    after = get_version(engine, customer_id, v2).content
    return diff_contents(before, after)


def approved_content(engine: Engine, customer_id: str) -> dict | None:
    """The content executives see: the last approved version's, or None if none is."""
    state = get_plan(engine, customer_id)
    if state.approved_version is None:
        return None
    with engine.connect() as conn:
        return revision_content(conn, customer_id, state.approved_version)
