"""Which planners may edit which accounts' plans (administrators assign them)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from models.access import Action, Identity, can, can_act_on_customer, require
from models.db import transaction
from models.errors import AccountopsError
from models.schema import AppUser, AuditEvent, Customer, PlanAssignment
from models.users import normalise_username


def assign_accounts(
    engine: Engine, identity: Identity, username: str, customer_ids: list[str]
) -> list[str]:
    """Assign ``customer_ids`` to the user ``username``; returns the ones newly assigned.

    Only a role with ``manage_users`` may; every id must be a known customer, or nothing
    is assigned. Assigning an account twice is no change.
    """
    name = normalise_username(username)
    require(identity, Action.MANAGE_USERS, engine=engine, target_type="app_user", target_id=name)
    with transaction(engine) as session:
        user_id = session.scalar(select(AppUser.user_id).where(AppUser.username == name))
        if user_id is None:
            raise AccountopsError(f"no user {name!r} (accountops user add)", code="USER_UNKNOWN")
        wanted = list(dict.fromkeys(customer_ids))
        known = set(
            session.scalars(select(Customer.customer_id).where(Customer.customer_id.in_(wanted)))
        )
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise AccountopsError(f"unknown customer {unknown[0]!r}", code="CUSTOMER_UNKNOWN")
        held = set(
            session.scalars(
                select(PlanAssignment.customer_id).where(PlanAssignment.user_id == user_id)
            )
        )
        new = [c for c in wanted if c not in held]
        for customer_id in new:
            session.add(
                PlanAssignment(
                    user_id=user_id, customer_id=customer_id, assigned_by=identity.username
                )
            )
            session.add(
                AuditEvent(
                    actor=identity.username,
                    action="plan.assign",
                    target_type="app_user",
                    target_id=name,
                    detail=customer_id,
                )
            )
    return new


def assigned_accounts(engine: Engine, username: str) -> list[str]:
    """The accounts assigned to ``username``, by id."""
    with engine.connect() as conn:
        return list(
            conn.scalars(
                select(PlanAssignment.customer_id)
                .join(AppUser, AppUser.user_id == PlanAssignment.user_id)
                .where(AppUser.username == normalise_username(username))
                .order_by(PlanAssignment.customer_id)
            )
        )


def account_facts(engine: Engine, username: str, customer_id: str) -> tuple[str | None, bool]:
    """The account's manager, and whether it is assigned to ``username``: what the
    row-level rule (``models.access.can_act_on_customer``) needs."""
    with engine.connect() as conn:
        manager_id = conn.scalar(
            select(Customer.manager_id).where(Customer.customer_id == customer_id)
        )
        assigned = conn.scalar(
            select(PlanAssignment.customer_id)
            .join(AppUser, AppUser.user_id == PlanAssignment.user_id)
            .where(AppUser.username == username, PlanAssignment.customer_id == customer_id)
        )
    return manager_id, assigned is not None


def may_act_on_account(
    engine: Engine, identity: Identity, action: Action, customer_id: str
) -> bool:
    """Whether ``identity``'s role allows ``action`` and the row-level rule lets it act on
    ``customer_id``: what a page asks to decide which controls to offer (nothing audited;
    every service call still checks with ``require_customer``)."""
    if not can(identity.role, action):
        return False
    manager_id, assigned = account_facts(engine, identity.username, customer_id)
    return can_act_on_customer(identity, manager_id, assigned=assigned)
