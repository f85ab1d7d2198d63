"""Builders for the plans' tests: a small account with users, and plan contents.

``plan_data`` is a complete, valid plan as a planner would write it (YAML-shaped
dict); tests change one thing at a time with ``plan_data(**overrides)``.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import Engine, insert

from models.access import Identity
from models.auth import current_identity
from models.db import transaction
from models.plans.assignments import assign_accounts
from models.plans.content import PlanContent, parse_content
from models.schema import Initiative, Role
from models.users import add_user

from .value_builders import batch, customer, manager, product_line

ADMIN = Identity("root", Role.ADMIN)
ACCOUNT = "C-1"
OTHER_ACCOUNT = "C-2"

_BASE = {
    "customer_id": ACCOUNT,
    "title": "Grow the account 2026-2028",
    "start_year": 2026,
    "end_year": 2028,
    "objectives": ["First supplier for PL-01"],
    "account_team": {
        "account_lead": "Ana Lead",
        "solution_lead": "Sol Lead",
        "delivery_lead": "Del Lead",
    },
    "buying_factors": ["relationship"],
    "targets": {
        2026: {"PL-01": 1_000_000, "PL-02": 200_000},
        2027: {"PL-01": 1_200_000},
        2028: {"PL-01": 1_300_000},
    },
    "initiatives": ["INI-1"],
    "added_initiatives": [
        {
            "title": "Plant in Poland",
            "capabilities": ["Edge-Analytics"],
            "needed_by": date(2027, 6, 30),
            "priority": "high",
        }
    ],
    "stakeholders": [
        {
            "name": "Dana Reyes",
            "title": "CFO",
            "role": "financial_gatekeeper",
            "stance": "supporter",
            "influence": 5,
            "relationship": 3,
            "owner": "Ana Lead",
        },
        {
            "name": "Bo Chen",
            "title": "Plant manager",
            "role": "user",
            "stance": "supporter",
            "coach": True,
            "influence": 3,
            "relationship": 4,
        },
        {
            "name": "Cy Park",
            "title": "CEO",
            "role": "decision_maker",
            "stance": "neutral",
            "influence": 4,
            "relationship": 2,
        },
    ],
    "contacts": [
        {"stakeholder": "Dana Reyes", "contacted_on": date(2026, 8, 1), "channel": "meeting"},
        {"stakeholder": "Cy Park", "contacted_on": date(2026, 9, 1), "channel": "call"},
    ],
    "actions": [
        {"title": "Arrange a demo", "owner": "Ana Lead", "due": date(2026, 10, 15)},
        {
            "title": "Budget review",
            "owner": "Sol Lead",
            "due": date(2026, 3, 1),
            "status": "done",
        },
    ],
}


def plan_data(**overrides) -> dict:
    """A full valid plan (as loaded from YAML) with top-level keys replaced."""
    data = deepcopy(_BASE)
    data.update(deepcopy(overrides))
    return data


def plan(**overrides) -> PlanContent:
    return parse_content(plan_data(**overrides))


def edited(content: PlanContent, **changes) -> PlanContent:
    """``content`` with top-level fields changed (validated again)."""
    return parse_content(content.model_dump(mode="python") | changes)


def write_plan_file(folder: Path, data: dict, name: str = "plan.yaml", **header) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({**header, **data}, sort_keys=False), encoding="utf-8")
    return path


def seed_accounts(engine: Engine) -> dict[str, Identity]:
    """Two accounts (C-1 managed by AM-1, C-2 by AM-2), product lines PL-01..03, an
    initiative of each account, and one user per role; the planner is assigned C-1.

    Returns the identities by name: planner, planner2, approver, approver2, viewer,
    manager (AM-1), admin.
    """
    with engine.begin() as conn:
        b = batch(conn, "customers")
        for m in ("AM-1", "AM-2"):
            manager(conn, m, b)
        for pl in ("PL-01", "PL-02", "PL-03"):
            product_line(conn, pl, b)
        customer(conn, ACCOUNT, b, manager_id="AM-1", name="Acme GmbH")
        customer(conn, OTHER_ACCOUNT, b, manager_id="AM-2")
        for ini, cid in (("INI-1", ACCOUNT), ("INI-2", OTHER_ACCOUNT)):
            conn.execute(
                insert(Initiative),
                {
                    "initiative_id": ini,
                    "customer_id": cid,
                    "title": ini,
                    "capability_tags": ["edge-analytics"],
                    "needed_by": date(2027, 1, 1),
                    "priority": "high",
                    "status": "planned",
                    "batch_id": b,
                },
            )
    users = {
        "planner": Role.PLANNER,
        "planner2": Role.PLANNER,
        "approver": Role.APPROVER,
        "approver2": Role.APPROVER,
        "viewer": Role.VIEWER,
        "manager": Role.ACCOUNT_MANAGER,
        "admin": Role.ADMIN,
    }
    with transaction(engine) as session:
        for name, role in users.items():
            user = add_user(session, name, role, None, actor="tests")
            if name == "manager":
                user.manager_id = "AM-1"
    assign_accounts(engine, ADMIN, "planner", [ACCOUNT])
    assign_accounts(engine, ADMIN, "planner2", [ACCOUNT, OTHER_ACCOUNT])
    return {name: current_identity(engine, name) for name in users}
