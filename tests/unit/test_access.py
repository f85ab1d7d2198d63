"""A1: every cell of the role x action policy, written out here (not derived from the code).

A2/A4: refusals raise PermissionDenied, change nothing else and are written to the audit log.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.access import (
    POLICY,
    Action,
    Identity,
    PermissionDenied,
    allowed_actions,
    can,
    can_act_on_customer,
    require,
    require_customer,
)
from models.schema import AuditEvent, Role

ROLES = ["viewer", "account_manager", "planner", "approver", "admin"]

# The expected policy, one row per action, one column per role (in ROLES order).
EXPECTED = {
    #                   viewer account_manager planner approver admin
    "view_dashboard": (True, True, True, True, True),
    "view_customer": (True, True, True, True, True),
    "view_data_health": (True, True, True, True, True),
    "export_data": (True, False, True, True, True),
    "view_plan": (True, True, True, True, True),
    "edit_plan": (False, True, True, False, False),
    "approve_plan": (False, False, False, True, False),
    "decide_roadmap": (False, False, True, False, True),
    "run_pipeline": (False, False, False, False, True),
    "manage_users": (False, False, False, False, True),
    "view_audit": (False, False, False, False, True),
}
CELLS = [
    pytest.param(role, action, allowed, id=f"{role}-{action}")
    for action, row in EXPECTED.items()
    for role, allowed in zip(ROLES, row, strict=True)
]


@pytest.mark.parametrize(("role", "action", "allowed"), CELLS)
def test_a1_policy_cell(role, action, allowed):
    assert can(role, action) is allowed
    assert can(Role(role), Action(action)) is allowed


def test_a1_table_covers_every_role_and_action():
    assert len(CELLS) == 55
    assert sorted(EXPECTED) == sorted(a.value for a in Action)
    assert sorted(ROLES) == sorted(r.value for r in Role)
    assert set(POLICY) == set(Action)


def test_allowed_actions_lists_the_row_of_a_role():
    assert allowed_actions("approver") == [
        Action.VIEW_DASHBOARD,
        Action.VIEW_CUSTOMER,
        Action.VIEW_DATA_HEALTH,
        Action.EXPORT_DATA,
        Action.VIEW_PLAN,
        Action.APPROVE_PLAN,
    ]


def test_unknown_role_or_action_is_an_error_not_a_grant():
    with pytest.raises(ValueError):
        can("superuser", "view_dashboard")
    with pytest.raises(ValueError):
        can("admin", "drop_database")


AM_ANA = Identity("ana", Role.ACCOUNT_MANAGER, manager_id="AM001")
AM_NONE = Identity("bob", Role.ACCOUNT_MANAGER, manager_id=None)
PLANNER = Identity("pia", Role.PLANNER)
APPROVER = Identity("abe", Role.APPROVER)


@pytest.mark.parametrize(
    ("identity", "customer_manager", "assigned", "allowed"),
    [
        pytest.param(AM_ANA, "AM001", False, True, id="own-account"),
        pytest.param(AM_ANA, "AM002", False, False, id="other-managers-account"),
        pytest.param(AM_ANA, None, False, False, id="unassigned-account"),
        pytest.param(AM_NONE, None, False, False, id="manager-without-id"),
        pytest.param(PLANNER, "AM002", True, True, id="planner-assigned-account"),
        pytest.param(PLANNER, "AM002", False, False, id="planner-account-not-assigned"),
        pytest.param(APPROVER, None, False, True, id="approver-not-row-restricted"),
    ],
)
def test_a4_row_level_rule(identity, customer_manager, assigned, allowed):
    assert can_act_on_customer(identity, customer_manager, assigned=assigned) is allowed


def _audit(engine) -> list[tuple[str, str, str | None, str | None]]:
    with Session(engine) as s:
        rows = s.execute(
            select(
                AuditEvent.actor, AuditEvent.action, AuditEvent.target_type, AuditEvent.target_id
            ).order_by(AuditEvent.event_id)
        ).all()
    return [tuple(r) for r in rows]


def test_a2_denied_export_raises_and_is_audited(engine):
    viewer_on_plan = Identity("vera", Role.VIEWER)
    with pytest.raises(PermissionDenied) as err:
        require(viewer_on_plan, "edit_plan", engine=engine, target_type="plan", target_id="C001")
    assert err.value.code == "PERMISSION_DENIED"
    assert "vera" in str(err.value) and "edit_plan" in str(err.value)
    manager = Identity("ana", Role.ACCOUNT_MANAGER, manager_id=None)
    with pytest.raises(PermissionDenied):
        require(manager, Action.EXPORT_DATA, engine=engine, target_type="export")
    assert _audit(engine) == [
        ("vera", "plan.edit_denied", "plan", "C001"),
        ("ana", "export.denied", "export", None),
    ]


def test_allowed_action_writes_nothing(engine):
    require(Identity("root", Role.ADMIN), Action.MANAGE_USERS, engine=engine)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a4_denied_survives_the_callers_rollback(engine):
    """The refusal is audited in its own transaction, though the caller's work rolls back."""
    from models.db import transaction

    with (
        pytest.raises(PermissionDenied, match="another account manager"),
        transaction(engine) as session,
    ):
        require_customer(
            AM_ANA,
            Action.EDIT_PLAN,
            customer_id="C042",
            customer_manager_id="AM002",
            engine=engine,
        )
        session.add(AuditEvent(actor="ana", action="plan.save"))  # never reached
    assert _audit(engine) == [("ana", "plan.edit_denied", "customer", "C042")]
    require_customer(
        AM_ANA, Action.EDIT_PLAN, customer_id="C001", customer_manager_id="AM001", engine=engine
    )
    assert len(_audit(engine)) == 1


def policy_markdown() -> list[str]:
    """The README's role table as it must read, from the policy."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(r.value.replace("_", " ") for r in roles) + " |",
        "| --- |" + " --- |" * len(roles),
    ]
    for action in Action:
        cells = ["yes" if can(r, action) else "no" for r in roles]
        lines.append(f"| {action.value.replace('_', ' ')} | " + " | ".join(cells) + " |")
    return lines


def test_readme_role_table_is_the_policy():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text().splitlines()
    start = readme.index(policy_markdown()[0])
    assert readme[start : start + len(Action) + 2] == policy_markdown()
