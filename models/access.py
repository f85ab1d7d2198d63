"""Who may do what: one policy table (role x action), the row-level rule, and the check.

The table is the single source of truth for the dashboard's navigation (which pages a
role sees) and for the services (which writes and exports a role may make). Pages hide
what a role may not use; services check again with :func:`require`, which also writes
the refusal to the audit log, so a hidden button is never the only protection.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Engine

from .db import transaction
from .errors import AccountopsError
from .schema import AuditEvent, Role

__all__ = [
    "POLICY",
    "Action",
    "Identity",
    "PermissionDenied",
    "Role",
    "allowed_actions",
    "book_of",
    "can",
    "record",
    "can_act_on_customer",
    "require",
    "require_customer",
]


class Action(enum.StrEnum):
    VIEW_DASHBOARD = "view_dashboard"  # executive pages: overview, pyramid, receivables...
    VIEW_CUSTOMER = "view_customer"  # the customer table and a customer's page
    VIEW_DATA_HEALTH = "view_data_health"  # runs, batches, validation results, quarantine
    EXPORT_DATA = "export_data"  # CSV / Excel downloads and `accountops export`
    VIEW_PLAN = "view_plan"  # read strategic-account plans, their history and checks
    EDIT_PLAN = "edit_plan"  # write a plan (row-level: own accounts, or assigned ones)
    APPROVE_PLAN = "approve_plan"  # approve or reject a submitted plan
    DECIDE_ROADMAP = "decide_roadmap"  # confirm or reject a suggested roadmap match
    RUN_PIPELINE = "run_pipeline"  # start ingest / recompute / refresh from the app
    MANAGE_USERS = "manage_users"  # add, (de)activate, unlock users, change roles, assign accounts
    VIEW_AUDIT = "view_audit"  # read and download the audit trail (who did what, when)


_V, _AM, _P, _AP, _AD = (
    Role.VIEWER,
    Role.ACCOUNT_MANAGER,
    Role.PLANNER,
    Role.APPROVER,
    Role.ADMIN,
)

# Why the cells are what they are:
# - everybody reads the executive pages, customers and data health: a number is trusted
#   because anyone can see where it came from (an account manager only their own book's
#   customers, with the company's totals: :func:`book_of`);
# - account managers may not export (a leaving seller must not take the customer base
#   with them) and edit plans only of their own accounts (row-level, see below);
# - planners edit the plans of the accounts an administrator assigned to them;
# - approvers approve but do not edit (four eyes: who writes a plan does not approve it);
# - admins run the platform (users, pipeline) but do not write or approve business plans;
# - planners (of their assigned accounts) and admins decide on suggested roadmap matches;
# - only admins read the audit trail (it names who signed in from where).
POLICY: dict[Action, frozenset[Role]] = {
    Action.VIEW_DASHBOARD: frozenset({_V, _AM, _P, _AP, _AD}),
    Action.VIEW_CUSTOMER: frozenset({_V, _AM, _P, _AP, _AD}),
    Action.VIEW_DATA_HEALTH: frozenset({_V, _AM, _P, _AP, _AD}),
    Action.EXPORT_DATA: frozenset({_V, _P, _AP, _AD}),
    Action.VIEW_PLAN: frozenset({_V, _AM, _P, _AP, _AD}),
    Action.EDIT_PLAN: frozenset({_AM, _P}),
    Action.APPROVE_PLAN: frozenset({_AP}),
    Action.DECIDE_ROADMAP: frozenset({_P, _AD}),
    Action.RUN_PIPELINE: frozenset({_AD}),
    Action.MANAGE_USERS: frozenset({_AD}),
    Action.VIEW_AUDIT: frozenset({_AD}),
}

# The audit action written when a service refuses ``Action``.
DENIAL_EVENTS: dict[Action, str] = {
    Action.VIEW_DASHBOARD: "dashboard.view_denied",
    Action.VIEW_CUSTOMER: "customer.view_denied",
    Action.VIEW_DATA_HEALTH: "data_health.view_denied",
    Action.EXPORT_DATA: "export.denied",
    Action.VIEW_PLAN: "plan.view_denied",
    Action.EDIT_PLAN: "plan.edit_denied",
    Action.APPROVE_PLAN: "plan.approve_denied",
    Action.DECIDE_ROADMAP: "roadmap.decide_denied",
    Action.RUN_PIPELINE: "pipeline.run_denied",
    Action.MANAGE_USERS: "user.manage_denied",
    Action.VIEW_AUDIT: "audit.view_denied",
}


@dataclass(frozen=True)
class Identity:
    """The signed-in person as the platform knows them (role from ``app_user``, never the IdP)."""

    username: str
    role: Role
    manager_id: str | None = None
    display_name: str | None = None

    @property
    def label(self) -> str:
        """A name for people: the display name, else the user name."""
        return self.display_name or self.username


class PermissionDenied(AccountopsError):
    """The signed-in user's role (or account assignment) does not allow the action."""

    code = "PERMISSION_DENIED"


def can(role: Role | str, action: Action | str) -> bool:
    """True when ``role`` may perform ``action`` according to :data:`POLICY`."""
    return Role(role) in POLICY[Action(action)]


def allowed_actions(role: Role | str) -> list[Action]:
    """The actions ``role`` may perform, in the table's order."""
    return [action for action in Action if can(role, action)]


def can_act_on_customer(
    identity: Identity, customer_manager_id: str | None, *, assigned: bool = False
) -> bool:
    """Row-level rule: an account manager acts only on the customers they manage, a
    planner only on the accounts assigned to them (``assigned``: ``plan_assignment``).

    Other roles are not restricted by assignment (their role decides). An account
    manager with no ``manager_id`` on their user acts on no customer, and nobody's
    assignment matches a customer without a manager.
    """
    if identity.role == Role.PLANNER:
        return assigned
    if identity.role != Role.ACCOUNT_MANAGER:
        return True
    return identity.manager_id is not None and identity.manager_id == customer_manager_id


def book_of(identity: Identity) -> str | None:
    """Whose customers ``identity`` may see, as the read models take it: None for every
    customer (every role but the account manager), else the manager id of the account
    manager's own book (the empty string when their user names no manager: a book that
    holds no customer, as :func:`can_act_on_customer` lets them act on none).

    Pages pass it to the read models, which filter in the query: another manager's
    customers never leave the server for an account manager, whatever the browser does.
    """
    if identity.role != Role.ACCOUNT_MANAGER:
        return None
    return identity.manager_id or ""


def require(
    identity: Identity,
    action: Action | str,
    *,
    engine: Engine,
    target_type: str | None = None,
    target_id: str | None = None,
) -> None:
    """Raise :class:`PermissionDenied` unless ``identity`` may perform ``action``.

    A refusal is written to ``audit_event`` in a transaction of its own, so it is kept
    even though the caller's transaction rolls back. Call it before the service writes
    anything (on SQLite a second writer would wait for the first).
    """
    action = Action(action)
    if can(identity.role, action):
        return
    _deny(identity, action, engine, target_type, target_id, reason=f"role={identity.role.value}")
    raise PermissionDenied(
        f"{identity.username!r} (role {identity.role.value}) may not {action.value}; "
        "ask an administrator for a role that allows it"
    )


def require_customer(
    identity: Identity,
    action: Action | str,
    *,
    customer_id: str,
    customer_manager_id: str | None,
    engine: Engine,
    assigned: bool = False,
) -> None:
    """:func:`require`, then the row-level rule for the customer ``customer_id``."""
    action = Action(action)
    require(identity, action, engine=engine, target_type="customer", target_id=customer_id)
    if can_act_on_customer(identity, customer_manager_id, assigned=assigned):
        return
    _deny(
        identity,
        action,
        engine,
        "customer",
        customer_id,
        reason=f"manager_id={identity.manager_id} customer_manager_id={customer_manager_id} "
        f"assigned={assigned}",
    )
    whom = (
        "it is not assigned to them (an administrator assigns accounts: accountops user assign)"
        if identity.role == Role.PLANNER
        else "it is assigned to another account manager"
    )
    raise PermissionDenied(
        f"{identity.username!r} may not {action.value} for customer {customer_id!r}: {whom}"
    )


def record(
    identity: Identity,
    event: str,
    *,
    engine: Engine,
    target_type: str | None = None,
    target_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Write one audit event by ``identity`` (e.g. ``export.download``) in its own transaction."""
    with transaction(engine) as session:
        session.add(
            AuditEvent(
                actor=identity.username,
                action=event,
                target_type=target_type,
                target_id=target_id,
                detail=detail,
            )
        )


def _deny(
    identity: Identity,
    action: Action,
    engine: Engine,
    target_type: str | None,
    target_id: str | None,
    *,
    reason: str,
) -> None:
    record(
        identity,
        DENIAL_EVENTS[action],
        engine=engine,
        target_type=target_type,
        target_id=target_id,
        detail=reason,
    )
