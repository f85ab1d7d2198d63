"""The planner workspace in AppTest: the plan list and the plan page for every role.

What each role sees and may use (A3: a viewer gets no enabled save control, even on the
editor's URL), saves that create versions, conflicts that keep the planner's edits,
validation messages beside the field, and the approval workflow.
"""

from __future__ import annotations

import pytest

from dashboards.formatting import literal
from models.plans.read import get_plan, plan_history
from models.plans.service import approve_plan, create_plan, save_plan, submit_plan
from models.schema import Role
from tests.dashboards.conftest import app_test
from tests.plan_builders import ACCOUNT, OTHER_ACCOUNT, edited, plan, seed_accounts

LIST, PAGE = "app_pages/plans.py", "app_pages/plan.py"


@pytest.fixture
def people(app_db):
    people = seed_accounts(app_db)
    create_plan(app_db, people["planner"], plan())
    create_plan(app_db, people["planner2"], plan(customer_id=OTHER_ACCOUNT, initiatives=["INI-2"]))
    return people


def open_as(people, name: str, page: str, customer: str | None = None):
    at = app_test()
    at.session_state["identity"] = people[name]
    at.switch_page(page)
    if customer:
        at.query_params["customer"] = customer
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def buttons(at) -> set[str]:
    return {b.label for b in at.button if not b.disabled} - {"Sign out"}


def listed(at) -> list[str]:
    return list(at.dataframe[0].value["Customer"])


def test_planner_lists_only_assigned_accounts_unless_asking_for_all(people):
    at = open_as(people, "planner", LIST)
    assert at.title[0].value == "My accounts"
    assert listed(at) == [ACCOUNT]
    row = at.dataframe[0].value.iloc[0]
    assert (row["Status"], row["Version"], row["Last editor"]) == ("draft", 1, "planner")
    at.toggle(key="plans_all").set_value(True).run()
    assert listed(at) == [ACCOUNT, OTHER_ACCOUNT]


@pytest.mark.parametrize("name", ["viewer", "admin"])
def test_readers_and_admins_list_every_plan(people, name):
    at = open_as(people, name, LIST)
    assert at.title[0].value == "Account plans"
    assert listed(at) == [ACCOUNT, OTHER_ACCOUNT]


def test_approver_sees_plans_waiting_for_approval_first(people, app_db):
    submit_plan(app_db, people["planner2"], OTHER_ACCOUNT, based_on=1)
    at = open_as(people, "approver", LIST)
    assert listed(at) == [OTHER_ACCOUNT, ACCOUNT]
    assert at.metric[1].value == "1"  # waiting for approval


def test_account_manager_lists_the_accounts_they_manage(people):
    at = open_as(people, "manager", LIST)
    assert listed(at) == [ACCOUNT]


def test_a3_viewer_on_the_editor_url_gets_a_read_only_plan(people):
    at = open_as(people, "viewer", PAGE, ACCOUNT)
    assert at.title[0].value == literal("Grow the account 2026-2028")
    assert buttons(at) == set()  # no save, submit, approve, restore, contact form
    assert all(t.disabled for t in at.text_input)
    assert all(n.disabled for n in at.number_input)
    assert any("Read only" in c.value for c in at.caption)


def test_viewer_sees_the_approved_version_and_a_marker_of_the_newer_draft(people, app_db):
    planner = people["planner"]
    submit_plan(app_db, planner, ACCOUNT, based_on=1)
    approve_plan(app_db, people["approver"], ACCOUNT, based_on=2)
    save_plan(app_db, planner, edited(plan(), title="Grow it faster"), based_on=3)
    at = open_as(people, "viewer", PAGE, ACCOUNT)
    assert any("approved version 3" in i.value for i in at.info)
    assert at.text_input[0].value == "Grow the account 2026-2028"
    at.toggle(key=f"plan_newer:{ACCOUNT}").set_value(True).run()
    assert at.text_input[0].value == "Grow it faster"


def test_planner_saves_an_edit_as_a_new_version_with_its_diff(people, app_db):
    at = open_as(people, "planner", PAGE, ACCOUNT)
    assert {"Save", "Submit for approval"} <= buttons(at)
    assert "Approve" not in buttons(at)
    at.text_input[0].set_value("Grow the account faster")
    at.button(key="save").click().run()
    assert not at.exception
    assert any("Saved as version 2" in s.value for s in at.success)
    state = get_plan(app_db, ACCOUNT)
    assert (state.version, state.title, state.edited_by) == (
        2,
        "Grow the account faster",
        "planner",
    )
    assert plan_history(app_db, ACCOUNT)[-1].changed_fields == ["title"]
    history = at.tabs[5]
    assert list(history.dataframe[0].value["version"]) == [2, 1]
    assert history.dataframe[1].value.iloc[0]["field"] == "title"


def test_an_invalid_field_is_named_and_nothing_is_saved(people, app_db):
    at = open_as(people, "planner", PAGE, ACCOUNT)
    at.number_input[0].set_value(2029).run()  # first year after the last
    messages = [e.value for e in at.error]
    assert any(
        m.startswith(literal("end_year:")) and literal("before start_year 2029") in m
        for m in messages
    )
    at.button(key="save").click().run()
    assert any(f"Not saved: {literal('end_year:')}" in e.value for e in at.error)
    assert get_plan(app_db, ACCOUNT).version == 1


def test_a_conflicting_save_keeps_the_edits_and_reapplies_them(people, app_db):
    at = open_as(people, "planner", PAGE, ACCOUNT)
    at.text_input[0].set_value("Mine: grow the account")
    # Someone else saves another field meanwhile.
    theirs = edited(plan(), objectives=["Theirs: second supplier for PL-02"])
    save_plan(app_db, people["planner2"], theirs, based_on=1)
    at.button(key="save").click().run()
    conflict = " ".join(e.value for e in at.error)
    assert "planner2 saved version 2" in conflict and "objectives" in conflict
    assert at.text_input[0].value == "Mine: grow the account"  # the edit is still on screen
    stored = get_plan(app_db, ACCOUNT)
    assert (stored.version, stored.title) == (2, "Grow the account 2026-2028")
    at.button(key="reapply").click().run()
    at.button(key="save").click().run()
    state = get_plan(app_db, ACCOUNT)
    assert state.version == 3
    assert state.title == "Mine: grow the account"
    assert state.content["objectives"] == ["Theirs: second supplier for PL-02"]


def test_approver_approves_and_rejects_with_a_reason(people, app_db):
    submit_plan(app_db, people["planner"], ACCOUNT, based_on=1)
    at = open_as(people, "approver", PAGE, ACCOUNT)
    assert {"Approve", "Reject"} <= buttons(at) and "Save" not in buttons(at)
    at.button(key="reject").click().run()
    assert any("needs a reason" in e.value for e in at.error)
    at.text_input(key="reject_reason").set_value("Targets for 2027 are missing PL-02").run()
    at.button(key="reject").click().run()
    state = get_plan(app_db, ACCOUNT)
    assert (state.status.value, state.rejection_reason) == (
        "draft",
        "Targets for 2027 are missing PL-02",
    )
    submit_plan(app_db, people["planner"], ACCOUNT, based_on=state.version)
    at = open_as(people, "approver", PAGE, ACCOUNT)
    at.button(key="approve").click().run()
    assert get_plan(app_db, ACCOUNT).status.value == "approved"
    assert open_as(people, "approver", LIST).dataframe[0].value.iloc[0]["Status"] == "approved"


def test_a_planner_may_not_edit_an_account_not_assigned_and_may_not_approve(people):
    at = open_as(people, "planner", PAGE, OTHER_ACCOUNT)
    assert buttons(at) == set()
    assert all(t.disabled for t in at.text_input)


@pytest.mark.parametrize(
    ("name", "downloads"),
    [("viewer", True), ("manager", False), ("planner", True), ("approver", True)],
)
def test_downloads_only_for_roles_that_may_export(people, name, downloads):
    at = open_as(people, name, PAGE, ACCOUNT)
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("YAML" in label for label in labels) is downloads
    assert Role(people[name].role)


@pytest.mark.parametrize(
    ("name", "editable"),
    [
        ("viewer", False),
        ("manager", True),  # AM-1 manages C-1
        ("planner", True),  # assigned C-1
        ("approver", False),  # approvers approve, they do not write
        ("admin", False),  # admins run the platform, not its business plans
    ],
)
def test_every_role_on_the_plan_page(people, name, editable):
    at = open_as(people, name, PAGE, ACCOUNT)
    assert ("Save" in buttons(at)) is editable
    assert all(t.disabled is not editable for t in at.text_input if t.key and "plan" in t.key)
    assert "Approve" not in buttons(at)  # the plan is a draft: nothing to approve


def test_a_contact_added_with_the_form_is_saved_with_the_plan(people, app_db):
    at = open_as(people, "planner", PAGE, ACCOUNT)
    form = at.tabs[2]
    form.selectbox[0].select("Bo Chen")
    form.text_input[0].set_value("Plant tour")
    form.button[0].click().run()  # "Add contact"
    assert any("Unsaved edits" in c.value for c in at.caption)
    at.button(key="save").click().run()
    contacts = get_plan(app_db, ACCOUNT).content["contacts"]
    assert contacts[-1]["stakeholder"] == "Bo Chen" and contacts[-1]["note"] == "Plant tour"
    assert len(contacts) == 3


@pytest.fixture
def matched(app_db):
    """The roadmap book of tests/integration/test_roadmap.py, recomputed, and C-1's plan."""
    from datetime import date

    from models.config import load_config
    from models.value.recompute import recompute
    from tests.integration.test_roadmap import _book

    people = seed_accounts(app_db)
    _book(app_db)
    create_plan(app_db, people["planner"], plan(initiatives=["I-EDGE"]))
    recompute(app_db, load_config(), as_of=date(2026, 9, 30))
    return people


def test_the_initiatives_tab_shows_the_match_and_takes_a_decision(matched, app_db):
    from sqlalchemy import select

    from models.schema import RoadmapDecision

    at = open_as(matched, "planner", PAGE, ACCOUNT)
    tab = at.tabs[3]
    coverage = tab.dataframe[-1].value
    assert dict(zip(coverage["initiative_id"], coverage["match"], strict=True)) == {
        "I-TWIN": "late by 3 months",
        "I-TURB": "gap",
        "I-EDGE": "in time",
    }
    at.button(key="decide:confirm:I-TURB:R-PRED").click().run()
    assert not at.exception
    with app_db.connect() as conn:
        [row] = conn.execute(select(RoadmapDecision)).all()
    assert (row.initiative_id, row.roadmap_item_id, row.decided_by) == (
        "I-TURB",
        "R-PRED",
        "planner",
    )
    assert not [b for b in at.button if b.key and b.key.startswith("decide:")]


def test_a_viewer_sees_the_match_but_decides_nothing(matched):
    at = open_as(matched, "viewer", PAGE, ACCOUNT)
    assert not [b for b in at.button if b.key and b.key.startswith("decide:")]
    assert len(at.tabs[3].dataframe[-1].value) == 3
