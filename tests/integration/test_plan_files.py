"""Plan files: export then import is no change; a malformed file gets one clear line
naming the file, the key path and the line, and nothing of it is written."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlalchemy import func, select

from models.db import make_engine
from models.migrate import upgrade
from models.plans.content import PlanInvalid
from models.plans.files import export_plan, import_plan, read_plan_file
from models.plans.read import get_plan, plan_history
from models.plans.service import PlanConflict
from models.schema import AccountPlan, AuditEvent, PlanRevision
from tests.plan_builders import ACCOUNT, plan_data, seed_accounts, write_plan_file


def test_export_then_import_creates_no_new_version(engine, tmp_path):
    people = seed_accounts(engine)
    planner = people["planner"]
    created = import_plan(engine, planner, write_plan_file(tmp_path, plan_data()))
    assert (created.outcome, created.version) == ("created", 1)
    exported = tmp_path / "exported.yaml"
    export_plan(engine, ACCOUNT, exported)
    text = exported.read_text()
    assert text.startswith("# accountops strategic-account plan for C-1 (Acme GmbH)")
    assert "version: 1\ncustomer_id: C-1\ntitle:" in text  # stable key order
    assert "    PL-01: 1000000\n" in text and "  contacted_on: 2026-08-01\n" in text
    again = import_plan(engine, planner, exported)
    assert (again.outcome, again.version) == ("unchanged", 1)
    assert len(plan_history(engine, ACCOUNT)) == 1
    # Edited and imported: a new version based on the exported one.
    exported.write_text(text.replace("PL-01: 1300000", "PL-01: 1400000"))
    saved = import_plan(engine, planner, exported)
    assert (saved.outcome, saved.version) == ("saved", 2)
    assert plan_history(engine, ACCOUNT)[1].changed_fields == ["targets.2028.PL-01"]
    # The same file again is no change; a stale edit of version 1 is a conflict.
    assert import_plan(engine, planner, exported).outcome == "unchanged"
    exported.write_text(text.replace("PL-01: 1300000", "PL-01: 1500000"))
    with pytest.raises(PlanConflict, match="changed since your version 1"):
        import_plan(engine, planner, exported)
    # A file without `version` may create a plan but never overwrite one.
    data = plan_data(title="Other title")
    with pytest.raises(PlanInvalid, match="exists \\(version 2\\); name the version"):
        import_plan(engine, planner, write_plan_file(tmp_path, data, "noversion.yaml"))
    assert get_plan(engine, ACCOUNT).version == 2


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One SQLite database with the accounts and users: refused imports write nothing."""
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('plans') / 'a.db'}")
    upgrade(eng)
    people = seed_accounts(eng)
    yield eng, people
    eng.dispose()


def _people(**over):
    people = plan_data()["stakeholders"]
    return people + [people[0] | over]


MALFORMED = {
    "broken-yaml": ("title: [unclosed\n", "line 2: not valid YAML"),
    "not-a-mapping": ("- a\n- b\n", "a plan file holds a mapping"),
    "unknown-key": (plan_data(colour="red"), "colour (line 65): unknown key"),
    "wrong-type": (plan_data(start_year="soon"), "start_year (line 3): 'soon' is not a whole"),
    "unknown-customer": (plan_data(customer_id="C-404"), "customer_id (line 1): unknown customer"),
    "unknown-product-line": (
        plan_data(targets={2026: {"PL-99": 5}}),
        "targets.2026.PL-99 (line 15): unknown product line 'PL-99'",
    ),
    "unknown-initiative": (
        plan_data(initiatives=["INI-404"]),
        "initiatives[0] (line 22): unknown initiative 'INI-404'",
    ),
    "year-outside-span": (
        plan_data(targets={2030: {"PL-01": 5}}),
        "targets.2030 (line 14): year 2030 is outside the plan's span 2026-2028",
    ),
    "duplicate-stakeholder": (
        plan_data(stakeholders=_people()),
        "stakeholders[3] (line 50): duplicate stakeholder 'dana reyes'",
    ),
    "negative-target": (
        plan_data(targets={2026: {"PL-01": -1}}),
        "targets.2026.PL-01 (line 15): target -1 is negative",
    ),
    "unknown-role": (
        plan_data(stakeholders=_people(name="Ed", role="boss")),
        "stakeholders[3].role (line 52): 'boss' is not one of",
    ),
    "unknown-stance": (
        plan_data(stakeholders=_people(name="Ed", stance="hostile")),
        "stakeholders[3].stance (line 53): 'hostile' is not one of",
    ),
    "action-without-owner": (
        plan_data(actions=[{"title": "Call", "due": date(2026, 1, 1)}]),
        "actions[0].owner (line 58): required key is missing",
    ),
    "not-utf8": (b"title: \xff\xfe\n", "cannot read the file: not UTF-8 text"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_file_one_clear_line_nothing_written(seeded, tmp_path, kind):
    eng, people = seeded
    body, expected = MALFORMED[kind]
    path = tmp_path / f"{kind}.yaml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    elif isinstance(body, str):
        path.write_text(body)
    else:
        path.write_text(yaml.safe_dump(body, sort_keys=False))
    with eng.connect() as conn:
        before = [
            conn.scalar(select(func.count()).select_from(t))
            for t in (AccountPlan, PlanRevision, AuditEvent)
        ]
    with pytest.raises(PlanInvalid) as err:
        import_plan(eng, people["planner"], path)
    message = str(err.value)
    assert message.startswith(f"[PLAN_INVALID] {path}: ")
    assert expected in message, message
    assert "\n" not in message
    with eng.connect() as conn:
        after = [
            conn.scalar(select(func.count()).select_from(t))
            for t in (AccountPlan, PlanRevision, AuditEvent)
        ]
    assert after == before


def test_a_valid_file_reads_back_as_its_content(tmp_path):
    parsed, _ = read_plan_file(write_plan_file(tmp_path, plan_data(), version=3))
    assert parsed.version == 3 and parsed.content.customer_id == ACCOUNT
