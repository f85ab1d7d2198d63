"""The 1+2+1 check, each coverage warning, and plan vs actual with both run-rates,
on hand-made plans with figures worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from models.config import load_config
from models.errors import ConfigError
from models.plans.actuals import (
    AccountSales,
    MonthSales,
    elapsed_share,
    plan_vs_actual,
    profile_share,
)
from models.plans.checks import check_one_two_one, check_plan, plan_warnings
from models.plans.rules import PlanRules, plan_rules
from tests.plan_builders import plan, plan_data

RULES = PlanRules()
AS_OF = date(2026, 9, 30)


def _codes(content, as_of=AS_OF, rules=RULES) -> list[str]:
    return [w.code for w in plan_warnings(content, rules, as_of)]


def _stakeholders(*changes: dict) -> list[dict]:
    people = plan_data()["stakeholders"]
    return [p | c for p, c in zip(people, changes, strict=False)] + people[len(changes) :]


def test_a_fully_covered_plan_passes_and_warns_of_nothing():
    check = check_plan(plan(), RULES, AS_OF)
    assert check.one_two_one.ok and check.one_two_one.summary() == "ok"
    assert check.one_two_one.roles_won == ("gatekeeper", "user")
    assert check.warnings == []


def test_one_two_one_names_what_is_missing():
    content = plan(
        stakeholders=_stakeholders({"stance": "neutral"}, {"coach": False}),
        account_team={"solution_lead": "Sol"},
    )
    check = check_one_two_one(content, RULES)
    assert not check.ok
    assert check.missing == ["no coach", "1 of 2 buying roles won over", "no account lead"]
    # Two gatekeepers are one buying role of the four.
    both = _stakeholders({}, {"role": "technical_gatekeeper"})
    assert check_one_two_one(plan(stakeholders=both), RULES).roles_won == ("gatekeeper",)


@pytest.mark.parametrize(
    ("change", "code", "sentence"),
    [
        (
            {"stakeholders": _stakeholders({"role": "purchaser"})},
            "NO_FINANCIAL_GATEKEEPER",
            "No financial gatekeeper is mapped: find who signs off the budget.",
        ),
        (
            {"stakeholders": _stakeholders({}, {"coach": False})},
            "NO_COACH",
            "No coach: find someone who guides us through the buying process.",
        ),
        (
            {"stakeholders": _stakeholders({}, {}, {"stance": "opponent"})},
            "OPPONENT_DECISION_MAKER",
            "Decision maker Cy Park is an opponent: plan how to win them over.",
        ),
        (
            {"contacts": [plan_data()["contacts"][1]]},
            "STALE_CONTACT",
            "Dana Reyes (influence 5) has had no contact in 90 days (never contacted).",
        ),
        (
            {"actions": [{"title": "Demo", "owner": "Ana", "due": date(2026, 9, 29)}]},
            "OVERDUE_ACTION",
            "Action 'Demo' (Ana) was due 2026-09-29 and is open.",
        ),
        (
            {"targets": {2026: {"PL-01": 1}, 2028: {"PL-01": 1}}},
            "YEAR_WITHOUT_TARGETS",
            "2027 has no revenue targets.",
        ),
    ],
)
def test_each_warning_has_its_code_and_sentence(change, code, sentence):
    warnings = plan_warnings(plan(**change), RULES, AS_OF)
    assert [(w.code, w.message) for w in warnings] == [(code, sentence)]


def test_contact_and_overdue_boundaries():
    # Dana's last contact 2026-08-01: exactly 90 days before 2026-10-30 is still in time.
    assert "STALE_CONTACT" not in _codes(plan(), date(2026, 10, 30))
    assert "STALE_CONTACT" in _codes(plan(), date(2026, 10, 31))
    # The demo action is due 2026-10-15: overdue from the day after; done ones never.
    assert "OVERDUE_ACTION" not in _codes(plan(), date(2026, 10, 15))
    assert "OVERDUE_ACTION" in _codes(plan(), date(2026, 10, 16))
    # A contact after the as-of date does not count yet.
    late = {"stakeholder": "Dana Reyes", "contacted_on": date(2026, 9, 1), "channel": "call"}
    early = plan(contacts=[late, plan_data()["contacts"][1]])
    assert "STALE_CONTACT" in _codes(early, date(2026, 8, 1))
    # Thresholds are rules: influence 3 also needs contact when the rules say so.
    strict = PlanRules(key_influence_at_least=3)
    assert "Bo Chen (influence 3)" in plan_warnings(plan(), strict, AS_OF)[0].message


def test_plan_rules_come_from_the_rules_file_and_are_checked():
    assert plan_rules(load_config()) == PlanRules(2, 4, 90)
    assert plan_rules({"plans": {"contact_every_days": 30}}).contact_every_days == 30
    with pytest.raises(ConfigError, match="unknown key 'contact_days'"):
        plan_rules({"plans": {"contact_days": 30}})
    with pytest.raises(ConfigError, match="plans.roles_won_at_least"):
        plan_rules({"plans": {"roles_won_at_least": "two"}})


def _sales(*rows: tuple[str, date, str], as_of: date = AS_OF) -> AccountSales:
    months = [MonthSales(pl, month, Decimal(amount)) for pl, month, amount in rows]
    return AccountSales.from_months(months, as_of)


def test_plan_vs_actual_and_both_run_rates_by_hand():
    """2026-09-30 is day 273 of 365. The account invoiced 2025: 100 a month Jan-Jun and
    300 a month Jul-Dec (2,400), so by 30 September it had 600 + 900 = 1,500 of it:
    a share of 0.625. 2026 to date: PL-01 546, PL-02 with a credit note netted."""
    sales = _sales(
        *((("PL-01", date(2025, m, 1), "100")) for m in range(1, 7)),
        *((("PL-01", date(2025, m, 1), "300")) for m in range(7, 13)),
        ("PL-01", date(2026, 3, 1), "546"),
        ("PL-02", date(2026, 5, 1), "120"),
        ("PL-02", date(2026, 6, 1), "-20"),
        ("PL-03", date(2026, 10, 1), "999"),  # after the as-of date: not counted
    )
    content = plan(targets={2026: {"PL-01": 1000, "PL-02": 100}, 2027: {"PL-01": 2000}})
    rows = {(r.year, r.product_line_id): r for r in plan_vs_actual(content, sales, AS_OF)}
    assert elapsed_share(AS_OF) == Decimal(273) / Decimal(365)
    assert profile_share(sales, AS_OF) == Decimal("0.625")
    pl1 = rows[(2026, "PL-01")]
    assert (pl1.target, pl1.actual, pl1.gap) == (Decimal("1000.00"), Decimal("546.00"), -454)
    assert pl1.run_rate == Decimal("730.00")  # 546 / (273/365)
    assert pl1.run_rate_profile == Decimal("873.60")  # 546 / 0.625
    pl2 = rows[(2026, "PL-02")]
    assert (pl2.actual, pl2.gap, pl2.run_rate) == (Decimal("100.00"), 0, Decimal("133.70"))
    assert rows[(2027, "PL-01")].actual is None and rows[(2027, "PL-01")].gap is None
    assert (2026, "PL-03") not in rows
    assert sorted(rows) == [(2026, "PL-01"), (2026, "PL-02"), (2027, "PL-01")]


def test_a_past_year_has_no_run_rate_and_sold_lines_without_target_show():
    months = (("PL-01", date(2026, 2, 1), "10"), ("PL-03", date(2026, 4, 1), "5"))
    content = plan(start_year=2026, targets={2026: {"PL-01": 10}})
    rows = plan_vs_actual(content, _sales(*months, as_of=date(2027, 1, 15)), date(2027, 1, 15))
    by_key = {(r.year, r.product_line_id): r for r in rows}
    assert by_key[(2026, "PL-01")].gap == 0 and by_key[(2026, "PL-01")].run_rate is None
    assert by_key[(2026, "PL-03")].target is None and by_key[(2026, "PL-03")].gap is None
    # No prior-year revenue: the profile run-rate is unknown, not zero.
    sales = _sales(*months, as_of=date(2026, 5, 31))
    assert profile_share(sales, date(2026, 5, 31)) is None
    assert plan_vs_actual(content, sales, date(2026, 5, 31))[0].run_rate_profile is None


def test_the_as_of_month_counts_pro_rata_in_the_profile():
    """Prior year: 310 in March only. On 10 March the share is 310 x 10/31 / 310 = 10/31."""
    sales = _sales(("PL-01", date(2025, 3, 1), "310"), as_of=date(2026, 3, 10))
    assert profile_share(sales, date(2026, 3, 10)) == Decimal(100) / Decimal(310)
