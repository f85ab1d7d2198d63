"""``accountops demo``: the sample plans imported, assigned and taken through the workflow.

The demo planner gets every sample plan's account and imports the plan files; a
quarter of the plans are then submitted and another quarter submitted and
approved by the demo approver, so the demo shows draft, submitted and approved
plans. Safe to repeat: an imported plan is unchanged the second time, a plan
edited in the app since is left alone, and the workflow steps run only on plans
still at the version the demo left them at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from models.access import Identity, Role
from models.auth import current_identity
from models.errors import AccountopsError
from models.plans.assignments import assign_accounts
from models.plans.content import canonical
from models.plans.files import import_plan, read_plan_file
from models.plans.read import PlanState, get_plan, plan_state
from models.plans.service import approve_plan, submit_plan
from models.schema import PlanStatus

DEMO_ADMIN = Identity("accountops demo", Role.ADMIN)


@dataclass(frozen=True)
class DemoPlans:
    """What :func:`set_up_demo_plans` did: outcomes per plan file and the plans' statuses."""

    planner: str
    outcomes: Counter  # created / unchanged / kept (edited in the app since: left alone)
    statuses: Counter  # draft / submitted / approved

    @property
    def files(self) -> int:
        return sum(self.outcomes.values())


def _demo_user(engine: Engine, username: str, role: Role) -> Identity:
    identity = current_identity(engine, username)
    if identity is None or identity.role != role:
        raise AccountopsError(
            f"the demo needs an active user {username!r} with role {role.value} "
            "(created by accountops demo unless ACCOUNTOPS_ENV=prod)",
            code="USER_UNKNOWN",
        )
    return identity


def _target(index: int) -> PlanStatus:
    """Where the demo takes the ``index``-th plan: approved, draft, submitted, draft, ..."""
    return {0: PlanStatus.APPROVED, 2: PlanStatus.SUBMITTED}.get(index % 4, PlanStatus.DRAFT)


def _advance(
    engine: Engine, writer: Identity, checker: Identity, state: PlanState, target: PlanStatus
) -> PlanState:
    """Submit (and approve) a plan where the demo left it; a plan moved on since stays.

    Version 1 is the draft the demo imported, version 2 the demo's submission.
    """
    customer_id = state.customer_id
    if target != PlanStatus.DRAFT and state.status == PlanStatus.DRAFT and state.version == 1:
        state = submit_plan(engine, writer, customer_id, based_on=1)
    if (
        target == PlanStatus.APPROVED
        and state.status == PlanStatus.SUBMITTED
        and state.version == 2
    ):
        state = approve_plan(engine, checker, customer_id, based_on=2)
    return state


def set_up_demo_plans(
    engine: Engine, folder: Path, *, planner: str = "planner", approver: str = "approver"
) -> DemoPlans:
    """Assign, import and move through the workflow every ``*.yaml`` plan in ``folder``.

    Runs as the demo users ``planner`` and ``approver`` (they must exist: create the
    demo users first) and an administrator for the assignments.
    """
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    outcomes: Counter = Counter()
    statuses: Counter = Counter()
    if not files:
        return DemoPlans(planner, outcomes, statuses)
    writer = _demo_user(engine, planner, Role.PLANNER)
    checker = _demo_user(engine, approver, Role.APPROVER)
    parsed = [read_plan_file(path)[0] for path in files]
    assign_accounts(engine, DEMO_ADMIN, writer.username, [p.content.customer_id for p in parsed])
    for index, plan in enumerate(parsed):
        customer_id = plan.content.customer_id
        with engine.connect() as conn:
            state = plan_state(conn, customer_id)
        if state is not None and state.content != canonical(plan.content):
            outcomes["kept"] += 1  # edited in the app since the demo imported it
        else:
            outcomes[import_plan(engine, writer, plan.path).outcome] += 1
            imported = get_plan(engine, customer_id)  # the import just wrote it
            state = _advance(engine, writer, checker, imported, _target(index))
        statuses[state.status.value] += 1
    return DemoPlans(writer.username, outcomes, statuses)
