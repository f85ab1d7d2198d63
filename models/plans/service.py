"""The plan service: every write to a plan passes :func:`_write`.

One function checks the role policy (and the row-level rule), compares the version
the writer saw with the stored one in the database (compare and set in one
UPDATE, never a read-then-write in Python), writes the new version, its immutable
revision and an audit event in one transaction. A refused write changes nothing and
leaves an audit event (``plan.edit_denied``, ``plan.approve_denied``, ``plan.conflict``).

Workflow: draft -> submitted -> approved; submitted -> draft on rejection, with the
reason. An approved plan is never changed in place: an edit starts a new draft
while ``approved_version`` keeps pointing at what executives see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, insert, update
from sqlalchemy.exc import IntegrityError

from models.access import (
    Action,
    Identity,
    record,
    require,
    require_customer,
)
from models.db import write_transaction
from models.errors import AccountopsError
from models.schema import (
    AccountPlan,
    AuditEvent,
    PlanRevision,
    PlanStatus,
)

from .assignments import account_facts, may_act_on_account
from .content import PlanContent, canonical, from_stored
from .diff import changed_paths, diff_contents
from .read import PlanNotFound, PlanState, get_plan, plan_state, revision_content, revisions
from .references import check_references


class PlanConflict(AccountopsError):
    """Someone else saved the plan after the version this write was based on."""

    code = "PLAN_CONFLICT"

    def __init__(self, message: str, *, version: int, actor: str, at: datetime, fields: list[str]):
        super().__init__(message)
        self.version, self.actor, self.at, self.fields = version, actor, at, fields


class PlanWorkflowError(AccountopsError):
    """The step is not allowed in the plan's status (e.g. approving a draft)."""

    code = "PLAN_WORKFLOW"


@dataclass(frozen=True)
class _Step:
    """What a write does: its event, the policy action, the statuses it starts from."""

    event: str
    action: Action
    from_statuses: tuple[PlanStatus, ...]
    to_status: PlanStatus


_ANY = tuple(PlanStatus)
CREATE = _Step("create", Action.EDIT_PLAN, (), PlanStatus.DRAFT)
EDIT = _Step("edit", Action.EDIT_PLAN, _ANY, PlanStatus.DRAFT)
RESTORE = _Step("restore", Action.EDIT_PLAN, _ANY, PlanStatus.DRAFT)
SUBMIT = _Step("submit", Action.EDIT_PLAN, (PlanStatus.DRAFT,), PlanStatus.SUBMITTED)
APPROVE = _Step("approve", Action.APPROVE_PLAN, (PlanStatus.SUBMITTED,), PlanStatus.APPROVED)
REJECT = _Step("reject", Action.APPROVE_PLAN, (PlanStatus.SUBMITTED,), PlanStatus.DRAFT)


def create_plan(engine: Engine, identity: Identity, content: PlanContent) -> PlanState:
    """A new plan at version 1, draft, for ``content.customer_id``."""
    return _write(engine, identity, content.customer_id, CREATE, 0, canonical(content))


def save_plan(
    engine: Engine, identity: Identity, content: PlanContent, *, based_on: int
) -> PlanState:
    """Save new content over version ``based_on``; an unchanged content writes nothing."""
    return _write(engine, identity, content.customer_id, EDIT, based_on, canonical(content))


def submit_plan(
    engine: Engine, identity: Identity, customer_id: str, *, based_on: int
) -> PlanState:
    """Send a draft for approval."""
    return _write(engine, identity, customer_id, SUBMIT, based_on)


def approve_plan(
    engine: Engine, identity: Identity, customer_id: str, *, based_on: int
) -> PlanState:
    """Approve a submitted plan: it becomes the version executives see."""
    return _write(engine, identity, customer_id, APPROVE, based_on)


def reject_plan(
    engine: Engine, identity: Identity, customer_id: str, *, based_on: int, reason: str
) -> PlanState:
    """Send a submitted plan back to draft, with the reason (kept on the plan)."""
    if not reason.strip():
        raise PlanWorkflowError("a rejection needs a reason the planner can act on")
    return _write(engine, identity, customer_id, REJECT, based_on, note=reason.strip())


def restore_plan(
    engine: Engine, identity: Identity, customer_id: str, version: int, *, based_on: int
) -> PlanState:
    """Start a new draft with the content of an earlier ``version``."""
    with engine.connect() as conn:
        old = revision_content(conn, customer_id, version)
    if old is None:
        raise PlanNotFound(f"plan {customer_id} has no version {version} (accountops plan history)")
    return _write(
        engine, identity, customer_id, RESTORE, based_on, old, note=f"restored version {version}"
    )


def _write(
    engine: Engine,
    identity: Identity,
    customer_id: str,
    step: _Step,
    based_on: int,
    content: dict | None = None,
    *,
    note: str | None = None,
) -> PlanState:
    """The one write path: policy, workflow, compare-and-set, revision, audit."""
    _require(engine, identity, step.action, customer_id)
    if step in (CREATE, EDIT) and content is not None:
        check_references(engine, from_stored(content))
    with engine.connect() as conn:
        state = plan_state(conn, customer_id)
        base = revision_content(conn, customer_id, based_on) if state is not None else None
    if step is CREATE:
        if state is not None:
            raise _exists(customer_id)
        if content is None:  # create_plan always passes content; a new plan has no base
            raise ValueError("creating a plan needs its content")
        new_content = content
        changes = [key for key, value in new_content.items() if value]  # what it fills in
    else:
        if state is None or base is None:
            raise PlanNotFound(f"no plan version {based_on} for customer {customer_id!r}")
        _check_step(engine, identity, state, step, based_on)
        new_content = base if content is None else content
        if step is EDIT and new_content == base:
            return state  # nothing changed: no new version
        changes = changed_paths(diff_contents(base, new_content)) or _reordered(base, new_content)
    version = based_on + 1
    values = {
        "version": version,
        "status": step.to_status,
        "updated_by": identity.username,
        "updated_at": func.current_timestamp(),
        **_columns(new_content),
    }
    if step in (CREATE, EDIT, RESTORE):
        values["edited_by"] = identity.username
    if step is APPROVE:
        values |= {
            "approved_version": version,
            "approved_by": identity.username,
            "approved_at": func.current_timestamp(),
        }
    if step in (SUBMIT, REJECT):
        values["rejection_reason"] = note
    try:
        with write_transaction(engine) as session:
            if step is CREATE:  # the primary key refuses a second plan for the account
                session.execute(
                    insert(AccountPlan).values(
                        plan_id=customer_id, customer_id=customer_id, **values
                    )
                )
            else:
                # Compare and set in the database: one UPDATE that matches only the version
                # the writer saw (SQLite: under the write lock; PostgreSQL: the row lock).
                # An UPDATE's result is a CursorResult (it has rowcount); SQLAlchemy 2.0
                # types Session.execute as the plain Result for every statement.
                done = cast(
                    CursorResult[Any],
                    session.execute(
                        update(AccountPlan)
                        .where(AccountPlan.plan_id == customer_id, AccountPlan.version == based_on)
                        .values(**values)
                    ),
                )
                if done.rowcount != 1:
                    raise _Lost
            _append(
                session,
                identity,
                customer_id,
                version,
                based_on or None,
                step.to_status,
                step.event,
                new_content,
                changes,
                note,
            )
    except _Lost:  # someone else's version won; ours rolled back, the conflict is audited
        raise _conflict(engine, identity, customer_id, based_on) from None
    except IntegrityError:  # a plan created meanwhile for the same account
        if step is not CREATE:
            raise
        raise _exists(customer_id) from None
    return get_plan(engine, customer_id)


def _check_step(
    engine: Engine, identity: Identity, state: PlanState, step: _Step, based_on: int
) -> None:
    """The version the writer saw is the current one, and the status allows ``step``."""
    customer_id = state.customer_id
    if state.version != based_on:
        raise _conflict(engine, identity, customer_id, based_on)
    if state.status not in step.from_statuses:
        raise PlanWorkflowError(
            f"plan {customer_id} is {state.status.value}: cannot {step.event} it "
            f"(only a {' or '.join(s.value for s in step.from_statuses)} plan)"
        )
    if step is APPROVE and state.edited_by == identity.username:
        _deny(engine, identity, customer_id, "approved own edit")
        raise PlanWorkflowError(
            f"{identity.username!r} made the last edit of plan {customer_id}: "
            "another approver must approve it"
        )


def _exists(customer_id: str) -> AccountopsError:
    return AccountopsError(
        f"customer {customer_id} already has a plan: edit it (plan export, then import)",
        code="PLAN_EXISTS",
    )


def _reordered(base: dict, new: dict) -> list[str]:
    """What changed when no field did: lists put in another order, else only the status."""
    return [f"{key} (order)" for key in new if new[key] != base.get(key)] or ["status"]


class _Lost(Exception):
    """The compare-and-set matched no row: another write came first."""


def _columns(content: dict) -> dict:
    team = content.get("account_team") or {}
    return {
        "title": content["title"],
        "start_year": content["start_year"],
        "end_year": content["end_year"],
        "content": content,
        "account_lead": team.get("account_lead"),
        "solution_lead": team.get("solution_lead"),
        "delivery_lead": team.get("delivery_lead"),
    }


def _append(
    session, identity, customer_id, version, from_version, status, event, content, changes, note
) -> None:
    session.add(
        PlanRevision(
            plan_id=customer_id,
            version=version,
            from_version=from_version,
            actor=identity.username,
            status=status,
            changed_fields=changes,
            content=content,
            event=event,
            note=note,
        )
    )
    detail = f"v{version}" + (f" ({', '.join(changes[:5])})" if event in ("create", "edit") else "")
    session.add(
        AuditEvent(
            actor=identity.username,
            action=f"plan.{event}",
            target_type="account_plan",
            target_id=customer_id,
            detail=detail[:2000],
        )
    )


def _conflict(engine: Engine, identity: Identity, customer_id: str, based_on: int) -> PlanConflict:
    """The conflict error naming the current version, who saved it, when, and what changed."""
    with engine.connect() as conn:
        later = revisions(conn, customer_id, since=based_on)
    last = later[-1]
    fields = list(dict.fromkeys(f for r in later for f in r.changed_fields))
    record(
        identity,
        "plan.conflict",
        engine=engine,
        target_type="account_plan",
        target_id=customer_id,
        detail=f"based on v{based_on}, current v{last.version}",
    )
    shown = ", ".join(fields[:8]) + (f" and {len(fields) - 8} more" if len(fields) > 8 else "")
    return PlanConflict(
        f"plan {customer_id} changed since your version {based_on}: it is at version "
        f"{last.version}, saved by {last.actor} at {last.at:%Y-%m-%d %H:%M} UTC "
        f"(changed: {shown or 'status'}); reload it and apply your change again",
        version=last.version,
        actor=last.actor,
        at=last.at,
        fields=fields,
    )


def may_edit(engine: Engine, identity: Identity, customer_id: str) -> bool:
    """Whether ``identity`` may edit the plan of ``customer_id`` (role and row-level rule):
    what a page asks to decide which controls to offer. Every write still checks."""
    return may_act_on_account(engine, identity, Action.EDIT_PLAN, customer_id)


def _require(engine: Engine, identity: Identity, action: Action, customer_id: str) -> None:
    """The policy table, then (for edits) the row-level rule on the account."""
    if action != Action.EDIT_PLAN:
        require(identity, action, engine=engine, target_type="account_plan", target_id=customer_id)
        return
    manager_id, assigned = account_facts(engine, identity.username, customer_id)
    require_customer(
        identity,
        action,
        customer_id=customer_id,
        customer_manager_id=manager_id,
        engine=engine,
        assigned=assigned,
    )


def _deny(engine: Engine, identity: Identity, customer_id: str, reason: str) -> None:
    record(
        identity,
        "plan.approve_denied",
        engine=engine,
        target_type="account_plan",
        target_id=customer_id,
        detail=reason,
    )
