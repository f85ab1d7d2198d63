"""Read models of the planner workspace: the plans a user works on, one row each.

``plan_rows`` is what the "Account plans" page lists: the plan as it stands (status,
version, last editor), its 1+2+1 state and warnings checked now on the snapshot's as-of
date, and this year's target against what the recompute stored for the snapshot
(``plan_actual``: actual and run-rates summed over product lines). Tier and account
manager come from the same snapshot's customer table, so a row never mixes snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, func, select

from models.access import Identity, Role
from models.errors import AccountopsError
from models.schema import (
    AccountPlan,
    Customer,
    DashboardCustomer,
    DashboardHeadline,
    Initiative,
    PlanActualRow,
    ProductLine,
    Snapshot,
)
from models.value.numbers import stored_money

from .assignments import assigned_accounts
from .checks import check_plan
from .content import from_stored
from .read import PlanState, list_plans
from .rules import PlanRules


@dataclass(frozen=True)
class PlanRow:
    """One plan as the workspace lists it."""

    customer_id: str
    customer_name: str
    title: str
    years: str
    status: str
    version: int
    approved_version: int | None
    last_editor: str
    updated_at: object
    one_two_one: str
    one_two_one_ok: bool
    warnings: int
    tier: str | None
    manager: str | None
    target: Decimal | None  # this year's target, all product lines (None: no target)
    actual: Decimal | None  # None: nothing measured for this snapshot yet
    gap: Decimal | None
    run_rate: Decimal | None

    @property
    def newer_draft(self) -> bool:
        """An approved version exists and the plan has moved on from it."""
        return self.approved_version is not None and self.approved_version != self.version


def scope_of(engine: Engine, identity: Identity) -> set[str] | None:
    """The accounts ``identity`` works on: assigned ones for a planner, managed ones for an
    account manager; None for roles that see every plan."""
    if identity.role == Role.PLANNER:
        return set(assigned_accounts(engine, identity.username))
    if identity.role == Role.ACCOUNT_MANAGER:
        if identity.manager_id is None:
            return set()
        with engine.connect() as conn:
            rows = conn.scalars(
                select(AccountPlan.customer_id)
                .join(Customer, Customer.customer_id == AccountPlan.customer_id)
                .where(Customer.manager_id == identity.manager_id)
            )
            return set(rows)
    return None


def readable_plans(engine: Engine, identity: Identity) -> set[str] | None:
    """The accounts whose plans ``identity`` may read: an account manager only those of
    their own book (:func:`scope_of`); None (every plan) for every other role."""
    return scope_of(engine, identity) if identity.role == Role.ACCOUNT_MANAGER else None


def plan_rows(
    engine: Engine,
    identity: Identity,
    rules: PlanRules,
    snapshot_id: int | None,
    *,
    mine_only: bool = True,
) -> tuple[date, list[PlanRow]]:
    """(as-of date, rows) of the plans ``identity`` works on (every plan when ``mine_only``
    is off or the role sees all, but an account manager's own accounts only, whatever
    ``mine_only``: :func:`readable_plans`); submitted plans first for an approver."""
    plans = list_plans(engine)
    scope = scope_of(engine, identity) if mine_only else readable_plans(engine, identity)
    if scope is not None:
        plans = [p for p in plans if p.customer_id in scope]
    as_of, facts, measured = _snapshot_facts(engine, snapshot_id)
    rows = [_row(p, rules, as_of, facts.get(p.customer_id), measured) for p in plans]
    if identity.role == Role.APPROVER:
        rows.sort(key=lambda r: r.status != "submitted")
    return as_of, rows


def _snapshot_facts(engine: Engine, snapshot_id: int | None):
    """The snapshot's as-of date, tier and manager per customer, and per plan this
    year's stored actual and run-rate."""
    if snapshot_id is None:
        return date.today(), {}, {}
    with engine.connect() as conn:
        as_of = conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
        if as_of is None:  # a stale id (e.g. a snapshot removed since the page read it)
            raise AccountopsError(f"snapshot {snapshot_id} does not exist", code="NO_SNAPSHOT")
        planned = select(AccountPlan.customer_id)
        facts = {
            cid: (tier, manager)
            for cid, tier, manager in conn.execute(
                select(
                    DashboardCustomer.customer_id, DashboardCustomer.tier, DashboardCustomer.manager
                ).where(
                    DashboardCustomer.snapshot_id == snapshot_id,
                    DashboardCustomer.customer_id.in_(planned),
                )
            )
        }
        measured = {
            cid: (actual, run_rate)
            for cid, actual, run_rate in conn.execute(
                select(
                    PlanActualRow.plan_id,
                    func.sum(PlanActualRow.actual),
                    func.sum(PlanActualRow.run_rate),
                )
                .where(PlanActualRow.snapshot_id == snapshot_id, PlanActualRow.year == as_of.year)
                .group_by(PlanActualRow.plan_id)
            )
        }
    return as_of, facts, measured


def _row(p: PlanState, rules: PlanRules, as_of: date, facts, measured) -> PlanRow:
    plan = from_stored(p.content)
    check = check_plan(plan, rules, as_of)
    targets = plan.targets.get(as_of.year)
    target = sum(targets.values(), Decimal(0)) if targets else None
    actual, run_rate = measured.get(p.customer_id, (None, None))
    actual, run_rate = stored_money(actual), stored_money(run_rate)
    tier, manager = facts or (None, None)
    return PlanRow(
        customer_id=p.customer_id,
        customer_name=p.customer_name or "",
        title=p.title,
        years=f"{p.start_year}-{p.end_year}",
        status=p.status.value,
        version=p.version,
        approved_version=p.approved_version,
        last_editor=p.edited_by or p.updated_by,
        updated_at=p.updated_at,
        one_two_one=check.one_two_one.summary(),
        one_two_one_ok=check.one_two_one.ok,
        warnings=len(check.warnings),
        tier=tier,
        manager=manager,
        target=target,
        actual=actual,
        gap=None if target is None or actual is None else actual - target,
        run_rate=run_rate,
    )


@dataclass(frozen=True)
class PlanChoices:
    """What an editor offers to pick from: product lines and the customer's initiatives."""

    product_lines: dict[str, str]  # id -> name
    initiatives: list[dict]  # initiative_id, title, capability_tags, needed_by, priority, status
    currency: str


def plan_choices(engine: Engine, customer_id: str, snapshot_id: int | None) -> PlanChoices:
    """Product lines, the customer's initiatives, and the snapshot's reporting currency."""
    with engine.connect() as conn:
        lines = dict(
            conn.execute(
                select(ProductLine.product_line_id, ProductLine.name).order_by(
                    ProductLine.product_line_id
                )
            )
            .tuples()
            .all()
        )
        cols = (
            Initiative.initiative_id,
            Initiative.title,
            Initiative.capability_tags,
            Initiative.needed_by,
            Initiative.priority,
            Initiative.status,
        )
        initiatives = [
            {c.key: (v.value if hasattr(v, "value") else v) for c, v in zip(cols, row, strict=True)}
            for row in conn.execute(
                select(*cols)
                .where(Initiative.customer_id == customer_id)
                .order_by(Initiative.needed_by, Initiative.initiative_id)
            )
        ]
        currency = conn.scalar(
            select(DashboardHeadline.currency).where(DashboardHeadline.snapshot_id == snapshot_id)
        )
    return PlanChoices(lines, initiatives, currency or "")
