"""The plan service on SQLite and PostgreSQL: P1-P4 (versions, conflicts, revisions,
workflow) and A2/A4 (refusals change nothing and are audited)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from models.access import PermissionDenied
from models.plans.content import PlanInvalid, canonical
from models.plans.read import PlanNotFound, get_plan, get_version, plan_diff, plan_history
from models.plans.service import (
    PlanConflict,
    PlanWorkflowError,
    approve_plan,
    create_plan,
    reject_plan,
    restore_plan,
    save_plan,
    submit_plan,
)
from models.schema import AccountPlan, AuditEvent, PlanRevision, PlanStatus
from tests.plan_builders import ACCOUNT, OTHER_ACCOUNT, edited, plan, seed_accounts


@pytest.fixture
def people(engine):
    return seed_accounts(engine)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def _audit(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.action.like("plan.%"))
            .order_by(AuditEvent.event_id)
        ).all()
    return [tuple(r) for r in rows]


def _checksum(engine) -> list:
    with engine.connect() as conn:
        plans = conn.execute(select(AccountPlan.__table__).order_by(AccountPlan.plan_id)).all()
        revs = conn.execute(
            select(PlanRevision.plan_id, PlanRevision.version).order_by(
                PlanRevision.plan_id, PlanRevision.version
            )
        ).all()
    return [tuple(r) for r in plans] + [tuple(r) for r in revs]


def _at_version_3(engine, people):
    """A plan at version 3 (create, then two edits) by the planner."""
    p = people["planner"]
    first = create_plan(engine, p, plan())
    target = {2026: {"PL-01": 1_100_000}, 2027: {"PL-01": 1_200_000}}
    second = save_plan(engine, p, edited(first.plan, targets=target), based_on=1)
    third = save_plan(engine, p, edited(second.plan, title="Grow it"), based_on=2)
    assert third.version == 3
    return third


def test_create_then_read_back(engine, people):
    state = create_plan(engine, people["planner"], plan())
    assert (state.version, state.status, state.edited_by) == (1, PlanStatus.DRAFT, "planner")
    assert state.content == canonical(plan())
    assert state.customer_name == "Acme GmbH"
    assert get_plan(engine, ACCOUNT).plan == plan()
    with pytest.raises(Exception, match="already has a plan"):
        create_plan(engine, people["planner"], plan())


def test_p1_second_save_from_the_same_version_is_a_conflict(engine, people):
    base = _at_version_3(engine, people)
    a, b = people["planner"], people["planner2"]
    a_content = edited(base.plan, title="A's title")
    save_plan(engine, a, a_content, based_on=3)
    with pytest.raises(PlanConflict) as err:
        save_plan(engine, b, edited(base.plan, objectives=["B's objective"]), based_on=3)
    message = str(err.value)
    assert "[PLAN_CONFLICT]" in message
    assert "version 4" in message and "saved by planner" in message and "UTC" in message
    assert "changed: title" in message and "your version 3" in message
    assert (err.value.version, err.value.actor, err.value.fields) == (4, "planner", ["title"])
    assert get_plan(engine, ACCOUNT).content == canonical(a_content)
    assert _count(engine, PlanRevision) == 4
    assert ("planner2", "plan.conflict") in _audit(engine)


def test_p2_ten_concurrent_savers_one_wins(engine, people):
    base = _at_version_3(engine, people)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def save(n: int) -> None:
        content = edited(base.plan, title=f"saver {n}")
        barrier.wait()
        try:
            save_plan(engine, people["planner2"], content, based_on=3)
            result = f"won {n}"
        except PlanConflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 9
    state = get_plan(engine, ACCOUNT)
    assert state.version == 4
    assert state.title == f"saver {winners[0].split()[1]}"
    assert _count(engine, PlanRevision) == 4


def test_p3_one_revision_per_save_with_actor_versions_and_fields(engine, people):
    _at_version_3(engine, people)
    history = plan_history(engine, ACCOUNT)
    assert [r.version for r in history] == [1, 2, 3]
    assert [r.from_version for r in history] == [None, 1, 2]
    assert [r.event for r in history] == ["create", "edit", "edit"]
    assert {r.actor for r in history} == {"planner"}
    # 2027's target kept its amount: not listed.
    assert history[1].changed_fields == [
        "targets.2026.PL-01",
        "targets.2026.PL-02",
        "targets.2028.PL-01",
    ]
    assert history[2].changed_fields == ["title"]
    assert _count(engine, PlanRevision) == get_plan(engine, ACCOUNT).version
    # An unchanged save writes nothing.
    same = save_plan(engine, people["planner"], get_plan(engine, ACCOUNT).plan, based_on=3)
    assert same.version == 3 and _count(engine, PlanRevision) == 3


@pytest.mark.parametrize(
    "statement", ["UPDATE plan_revision SET actor = 'x'", "DELETE FROM plan_revision"]
)
def test_p3_revisions_cannot_be_changed_or_deleted(engine, people, statement):
    create_plan(engine, people["planner"], plan())
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert plan_history(engine, ACCOUNT)[0].actor == "planner"


def test_p4_workflow_draft_submitted_approved(engine, people):
    p, ap = people["planner"], people["approver"]
    create_plan(engine, p, plan())
    with pytest.raises(PlanWorkflowError, match="is draft: cannot approve"):
        approve_plan(engine, ap, ACCOUNT, based_on=1)
    submitted = submit_plan(engine, p, ACCOUNT, based_on=1)
    assert (submitted.status, submitted.version) == (PlanStatus.SUBMITTED, 2)
    with pytest.raises(PlanWorkflowError, match="is submitted: cannot submit"):
        submit_plan(engine, p, ACCOUNT, based_on=2)
    with pytest.raises(PermissionDenied):
        approve_plan(engine, p, ACCOUNT, based_on=2)
    approved = approve_plan(engine, ap, ACCOUNT, based_on=2)
    assert (approved.status, approved.version, approved.approved_version) == (
        PlanStatus.APPROVED,
        3,
        3,
    )
    assert approved.approved_by == "approver" and approved.approved_at is not None
    # Editing an approved plan starts a new draft; the approved version stays visible.
    draft = save_plan(engine, p, edited(approved.plan, title="Next year"), based_on=3)
    assert (draft.status, draft.version, draft.approved_version) == (PlanStatus.DRAFT, 4, 3)
    assert get_version(engine, ACCOUNT, 3).content["title"] == plan().title
    assert [e for _, e in _audit(engine)][-4:] == [
        "plan.submit",
        "plan.approve_denied",
        "plan.approve",
        "plan.edit",
    ]


def test_p4_rejection_keeps_the_reason_and_returns_to_draft(engine, people):
    p, ap = people["planner"], people["approver"]
    create_plan(engine, p, plan())
    submit_plan(engine, p, ACCOUNT, based_on=1)
    with pytest.raises(PlanWorkflowError, match="needs a reason"):
        reject_plan(engine, ap, ACCOUNT, based_on=2, reason="  ")
    with pytest.raises(PermissionDenied):
        reject_plan(engine, people["viewer"], ACCOUNT, based_on=2, reason="no")
    back = reject_plan(engine, ap, ACCOUNT, based_on=2, reason="Targets for 2028 missing")
    assert (back.status, back.rejection_reason) == (PlanStatus.DRAFT, "Targets for 2028 missing")
    assert plan_history(engine, ACCOUNT)[-1].note == "Targets for 2028 missing"
    again = submit_plan(engine, p, ACCOUNT, based_on=3)
    assert again.rejection_reason is None


def test_p4_the_last_editor_cannot_approve(engine, people):
    """A planner who became an approver may not approve the version they edited."""
    p = people["planner"]
    create_plan(engine, p, plan())
    submit_plan(engine, p, ACCOUNT, based_on=1)
    with engine.begin() as conn:
        conn.execute(text("UPDATE app_user SET role = 'approver' WHERE username = 'planner'"))
    from models.auth import current_identity

    promoted = current_identity(engine, "planner")
    with pytest.raises(PlanWorkflowError, match="another approver must approve"):
        approve_plan(engine, promoted, ACCOUNT, based_on=2)
    assert get_plan(engine, ACCOUNT).status == PlanStatus.SUBMITTED
    assert ("planner", "plan.approve_denied") in _audit(engine)
    assert approve_plan(engine, people["approver2"], ACCOUNT, based_on=2).version == 3


def test_restore_an_earlier_version_as_a_new_draft(engine, people):
    _at_version_3(engine, people)
    restored = restore_plan(engine, people["planner"], ACCOUNT, 1, based_on=3)
    assert (restored.version, restored.status) == (4, PlanStatus.DRAFT)
    assert restored.content == get_version(engine, ACCOUNT, 1).content
    last = plan_history(engine, ACCOUNT)[-1]
    assert (last.event, last.note) == ("restore", "restored version 1")
    assert "title" in last.changed_fields
    with pytest.raises(PlanNotFound, match="no version 9"):
        restore_plan(engine, people["planner"], ACCOUNT, 9, based_on=4)


def test_diff_names_fields_by_readable_paths(engine, people):
    p = people["planner"]
    first = create_plan(engine, p, plan())
    data = first.plan.model_dump(mode="python")
    data["targets"][2027]["PL-01"] = Decimal("1350000")
    data["stakeholders"][0]["stance"] = "neutral"
    data["actions"].append({"title": "Visit HQ", "owner": "Ana Lead", "due": "2026-11-01"})
    save_plan(engine, p, edited(first.plan, **data), based_on=1)
    assert [str(c) for c in plan_diff(engine, ACCOUNT, 1, 2)] == [
        "targets.2027.PL-01: 1,200,000 -> 1,350,000",
        "stakeholders[Dana Reyes].stance: supporter -> neutral",
        "actions[Visit HQ]: added",
    ]
    assert str(plan_diff(engine, ACCOUNT, 2, 1)[-1]) == "actions[Visit HQ]: removed"
    with pytest.raises(PlanNotFound, match="versions 1 to 2, not 5"):
        plan_diff(engine, ACCOUNT, 1, 5)


def test_a2_viewer_save_is_denied_changes_nothing_and_is_audited(engine, people):
    create_plan(engine, people["planner"], plan())
    before = _checksum(engine)
    with pytest.raises(PermissionDenied):
        save_plan(engine, people["viewer"], edited(plan(), title="mine"), based_on=1)
    assert _checksum(engine) == before
    assert _audit(engine)[-1] == ("viewer", "plan.edit_denied")


def test_a4_row_level_planner_and_account_manager(engine, people):
    """A planner edits only assigned accounts; an account manager only their customers'."""
    other = plan(customer_id=OTHER_ACCOUNT, initiatives=["INI-2"])
    with pytest.raises(PermissionDenied, match="not assigned to them"):
        create_plan(engine, people["planner"], other)
    assert create_plan(engine, people["planner2"], other).version == 1
    with pytest.raises(PermissionDenied, match="another account manager"):
        save_plan(engine, people["manager"], edited(other, title="x"), based_on=1)
    assert create_plan(engine, people["manager"], plan()).version == 1
    assert _count(engine, AccountPlan) == 2
    assert [a for a in _audit(engine) if a[1] == "plan.edit_denied"] == [
        ("planner", "plan.edit_denied"),
        ("manager", "plan.edit_denied"),
    ]


def test_references_are_checked_before_anything_is_written(engine, people):
    bad = [
        (plan(targets={2026: {"PL-99": 1}}), "targets.2026.PL-99: unknown product line"),
        (plan(initiatives=["INI-404"]), "initiatives[0]: unknown initiative"),
        (plan(initiatives=["INI-2"]), "initiative 'INI-2' belongs to customer C-2, not C-1"),
    ]
    for content, message in bad:
        with pytest.raises(PlanInvalid, match=message.replace("[", r"\[")):
            create_plan(engine, people["planner"], content)
    # An account nobody may be assigned: refused before its references are read.
    with pytest.raises(PermissionDenied):
        create_plan(engine, people["planner"], plan(customer_id="C-404"))
    assert _count(engine, AccountPlan) == 0
