"""The audit trail: append-only (no code path changes a row; the database refuses to),
read only by admins, filtered by who, kind and dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from models.access import Identity, PermissionDenied
from models.audit import AuditFilter, audit_kinds, list_audit_events
from models.db import transaction
from models.schema import AuditEvent, Role

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Identity("root", Role.ADMIN)


def _add(engine, *events: tuple[str, str, datetime, str | None]) -> None:
    with transaction(engine) as s:
        for actor, action, at, target in events:
            s.add(
                AuditEvent(
                    actor=actor, action=action, at=at, target_type="app_user", target_id=target
                )
            )


def _day(d: int, h: int = 12) -> datetime:
    return datetime(2026, 12, d, h, tzinfo=UTC)


def test_the_database_refuses_to_change_or_delete_audit_rows(engine):
    _add(engine, ("ana", "auth.signed_in", _day(1), "ana"))
    for statement in (
        update(AuditEvent).values(actor="someone else"),
        delete(AuditEvent),
        text("UPDATE audit_event SET detail = 'x'"),
        text("DELETE FROM audit_event"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction(engine) as s:
            s.execute(statement)
    with Session(engine) as s:
        assert s.execute(select(AuditEvent.actor, AuditEvent.action)).all() == [
            ("ana", "auth.signed_in")
        ]


def test_no_application_code_updates_or_deletes_audit_rows():
    """The services only ever add audit rows: no UPDATE or DELETE of ``audit_event``
    (ORM or SQL text) and no ``session.delete`` of an event, anywhere in the code."""
    patterns = [
        re.compile(r"\b(update|delete)\(\s*AuditEvent\b"),
        re.compile(r"\b(UPDATE|DELETE\s+FROM)\s+\"?audit_event\b", re.IGNORECASE),
        re.compile(r"\bsession\.delete\(\s*(event|audit)", re.IGNORECASE),
        re.compile(r"AuditEvent\.__table__\.(update|delete)\("),
    ]
    offenders = []
    for folder in ("models", "flows", "dashboards", "expectations"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # the trigger's own migration names the statements it refuses
            source = path.read_text(encoding="utf-8")
            offenders += [
                f"{path.relative_to(ROOT)}: {p.pattern}" for p in patterns if p.search(source)
            ]
    assert offenders == []


def test_admin_reads_the_trail_filtered_by_who_kind_and_dates(engine):
    _add(
        engine,
        ("ana", "auth.failed", _day(1), "ana"),
        ("ana", "auth.signed_in", _day(2), "ana"),
        ("root", "user.deactivate", _day(3), "bob"),
        ("pia", "plan.save", _day(4), None),
        ("Anatol", "auth.signed_in", _day(5), "anatol"),
    )
    everything = list_audit_events(engine, ADMIN, AuditFilter())
    assert [(r.actor, r.action) for r in everything.rows] == [
        ("Anatol", "auth.signed_in"),
        ("pia", "plan.save"),
        ("root", "user.deactivate"),
        ("ana", "auth.signed_in"),
        ("ana", "auth.failed"),
    ]
    assert everything.matched == 5 and not everything.truncated
    assert audit_kinds(engine, ADMIN) == ["auth", "plan", "user"]

    def actions(**where) -> list[str]:
        return [r.action for r in list_audit_events(engine, ADMIN, AuditFilter(**where)).rows]

    assert actions(who=" ANA") == ["auth.signed_in", "auth.signed_in", "auth.failed"]
    assert actions(kinds=("user", "plan")) == ["plan.save", "user.deactivate"]
    assert actions(since=date(2026, 12, 2), until=date(2026, 12, 4)) == [
        "plan.save",
        "user.deactivate",
        "auth.signed_in",
    ]
    assert actions(who="ana", kinds=("auth",), until=date(2026, 12, 1)) == ["auth.failed"]
    newest = list_audit_events(engine, ADMIN, AuditFilter(), limit=2)
    assert len(newest.rows) == 2 and newest.matched == 5 and newest.truncated


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_admins_read_the_trail_and_a_refusal_is_audited(engine, role):
    who = Identity("someone", role)
    with pytest.raises(PermissionDenied):
        list_audit_events(engine, who, AuditFilter())
    with pytest.raises(PermissionDenied):
        audit_kinds(engine, who)
    with Session(engine) as s:
        denied = s.scalar(select(func.count()).where(AuditEvent.action == "audit.view_denied"))
    assert denied == 2


def test_user_and_role_changes_are_audit_events(engine):
    from models.auth import set_user_active, set_user_role
    from models.users import add_user

    with transaction(engine) as s:
        add_user(s, "vera", Role.VIEWER, None, actor="root")
    assert set_user_role(engine, ADMIN, " Vera", Role.PLANNER) == Role.VIEWER
    assert set_user_role(engine, ADMIN, "vera", Role.PLANNER) == Role.PLANNER  # no change
    set_user_active(engine, ADMIN, "vera", False)
    with pytest.raises(PermissionDenied):
        set_user_role(engine, Identity("pia", Role.PLANNER), "vera", Role.ADMIN)
    with pytest.raises(Exception, match="cannot change your own role"):
        set_user_role(engine, ADMIN, "root", Role.VIEWER)
    with pytest.raises(Exception, match="no user 'nobody'"):
        set_user_role(engine, ADMIN, "nobody", Role.VIEWER)
    trail = list_audit_events(engine, ADMIN, AuditFilter(kinds=("user",))).rows
    assert [(r.actor, r.action, r.target_id, r.detail) for r in reversed(trail)] == [
        ("root", "user.add", "vera", "role=viewer"),
        ("root", "user.role", "vera", "viewer -> planner"),
        ("root", "user.deactivate", "vera", None),
        ("pia", "user.manage_denied", "vera", "role=planner"),
    ]
