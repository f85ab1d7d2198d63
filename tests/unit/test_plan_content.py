"""The plan's content is validated in one place and has one canonical form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.plans.content import ContentError, canonical, format_path, parse_content
from models.plans.diff import diff_contents
from tests.plan_builders import plan, plan_data


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"colour": "red"}, "colour", "unknown key"),
        ({"title": None}, "title", "is not text"),
        ({"start_year": "next"}, "start_year", "is not a whole number"),
        ({"end_year": 2025}, "end_year", "2025 is before start_year 2026"),
        ({"end_year": 2040}, "end_year", "a plan spans at most 10 years"),
        ({"targets": {2031: {"PL-01": 5}}}, "targets.2031", "outside the plan's span 2026-2028"),
        ({"targets": {2026: {"PL-01": -5}}}, "targets.2026.PL-01", "negative"),
        ({"targets": {2026: {"PL-01": "lots"}}}, "targets.2026.PL-01", "is not an amount"),
        ({"buying_factors": ["luck"]}, "buying_factors[0]", "is not one of"),
        ({"actions": [{"title": "x", "due": "2026-01-01"}]}, "actions[0].owner", "missing"),
        ({"actions": [{"title": "x", "owner": "y", "due": "soon"}]}, "actions[0].due", "date"),
        ({"initiatives": ["INI-1", "INI-1"]}, "initiatives[1]", "duplicate initiative"),
    ],
)
def test_a_broken_rule_names_its_key_path(change, path, message):
    with pytest.raises(ContentError) as err:
        parse_content(plan_data(**change))
    assert format_path(err.value.path) == path
    assert message in err.value.message


@pytest.mark.parametrize(
    ("person", "path", "message"),
    [
        ({"role": "boss"}, "stakeholders[0].role", "'boss' is not one of"),
        ({"stance": "hostile"}, "stakeholders[0].stance", "'hostile' is not one of"),
        ({"influence": 6}, "stakeholders[0].influence", "less than or equal to 5"),
        ({"relationship": 0}, "stakeholders[0].relationship", "greater than or equal to 1"),
        ({"name": "Bo Chen"}, "stakeholders[1]", "duplicate stakeholder 'bo chen'"),
    ],
)
def test_stakeholder_rules(person, path, message):
    people = plan_data()["stakeholders"]
    people[0] = people[0] | person
    if person.get("name") == "Bo Chen":  # the duplicate is the second of the two
        people[0], people[1] = people[1], people[0]
    with pytest.raises(ContentError) as err:
        parse_content(plan_data(stakeholders=people))
    assert format_path(err.value.path) == path
    assert message in err.value.message


def test_a_contact_must_name_a_stakeholder():
    contacts = [{"stakeholder": "Nobody", "contacted_on": "2026-01-01", "channel": "call"}]
    with pytest.raises(ContentError, match="'Nobody' is not a stakeholder") as err:
        parse_content(plan_data(contacts=contacts))
    assert format_path(err.value.path) == "contacts[0].stakeholder"


def test_canonical_form_amounts_in_cents_and_years_sorted():
    content = plan(targets={2027: {"PL-02": 1.5, "PL-01": 3}, 2026: {"PL-01": "1000000.004"}})
    data = canonical(content)
    assert data["targets"] == {
        "2026": {"PL-01": "1000000.00"},
        "2027": {"PL-01": "3.00", "PL-02": "1.50"},
    }
    assert content.targets[2027]["PL-02"] == Decimal("1.5")  # a YAML float, never binary
    assert canonical(parse_content(plan_data())) == canonical(plan())
    assert data["added_initiatives"][0]["capabilities"] == ["edge-analytics"]


def test_reordering_records_is_no_change_but_editing_one_names_it():
    before = canonical(plan())
    data = plan_data()
    data["stakeholders"].reverse()
    assert diff_contents(before, canonical(parse_content(data))) == []
    data["stakeholders"][0]["influence"] = 2
    changes = diff_contents(before, canonical(parse_content(data)))
    assert [str(c) for c in changes] == ["stakeholders[Cy Park].influence: 4 -> 2"]
