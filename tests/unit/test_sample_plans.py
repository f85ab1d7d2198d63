"""The sample's strategic-account plans: valid files, deterministic, every check shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from models.plans.checks import check_plan
from models.plans.files import read_plan_file
from models.plans.rules import PlanRules
from models.sampledata import generate_sample
from models.sampledata.plans import CUSTOMERS_PER_PLAN, PLANS_DIR

END = date(2026, 9, 30)
ARGS = {"customers": 200, "years": 3, "seed": 42, "end_date": END}
CODES = {
    "NO_FINANCIAL_GATEKEEPER",
    "NO_COACH",
    "OPPONENT_DECISION_MAKER",
    "STALE_CONTACT",
    "OVERDUE_ACTION",
    "YEAR_WITHOUT_TARGETS",
}


def plan_files(folder: Path) -> list[Path]:
    return sorted((folder / PLANS_DIR).glob("*.yaml"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plans-sample")
    generate_sample(folder, **ARGS)
    return folder


@pytest.fixture(scope="module")
def plans(sample) -> list:
    return [read_plan_file(path)[0] for path in plan_files(sample)]


def test_one_plan_per_strategic_account_covering_the_next_three_years(sample, plans):
    customers = pd.read_csv(sample / "customers.csv", dtype=str, keep_default_na=False)
    named = set(customers.customer_id[customers.named_strategic == "true"])
    active = set(customers.customer_id[customers.status == "active"])
    ids = [p.content.customer_id for p in plans]
    assert len(ids) == max(3, round(ARGS["customers"] / CUSTOMERS_PER_PLAN))
    assert [p.path.name for p in plans] == [f"{c}.yaml" for c in ids]
    assert named <= set(ids) <= active
    for plan in plans:
        assert plan.version is None  # a new plan
        assert (plan.content.start_year, plan.content.end_year) == (2026, 2028)
        assert 3 <= len(plan.content.stakeholders) <= 6


def test_plans_refer_only_to_the_sample(sample, plans):
    lines = pd.read_csv(sample / "invoice_lines.csv", dtype=str)
    initiatives = pd.read_csv(sample / "initiatives.csv", dtype=str)
    owner = dict(zip(initiatives.initiative_id, initiatives.customer_id, strict=True))
    bought = lines.groupby("customer_id").product_line_id.agg(set)
    known_lines = set(pd.read_csv(sample / "product_lines.csv", dtype=str).product_line_id)
    for plan in plans:
        content = plan.content
        assert all(owner[i] == content.customer_id for i in content.initiatives)
        first_year = set(content.targets[content.start_year])
        assert first_year <= bought[content.customer_id]  # lines it buys today
        assert {pl for row in content.targets.values() for pl in row} <= known_lines
    assert any(p.content.initiatives for p in plans)
    assert any(p.content.added_initiatives for p in plans)


def test_amounts_are_whole_and_dates_are_dates(sample):
    text = plan_files(sample)[0].read_text(encoding="utf-8")
    assert "'" not in text.split("targets:")[1].split("stakeholders:")[0]  # numbers, not text
    for plan in (read_plan_file(p)[0] for p in plan_files(sample)):
        amounts = [a for row in plan.content.targets.values() for a in row.values()]
        assert all(a == a.to_integral() and a > 0 for a in amounts)
    assert "contacted_on: 2026-" in text


def test_same_arguments_give_byte_identical_plans(sample, tmp_path):
    generate_sample(tmp_path, **ARGS)
    ours = {p.name: p.read_bytes() for p in plan_files(sample)}
    assert {p.name: p.read_bytes() for p in plan_files(tmp_path)} == ours


def test_a_new_sample_replaces_the_plans_folder(tmp_path):
    stale = tmp_path / PLANS_DIR / "C-999999.yaml"
    stale.parent.mkdir()
    stale.write_text("customer_id: C-999999\n")
    generate_sample(tmp_path, customers=30, years=1, seed=1, end_date=END)
    assert not stale.exists() and len(plan_files(tmp_path)) == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_plans_show_every_warning_and_a_fully_covered_plan(plans):
    checks = [check_plan(p.content, PlanRules(), END) for p in plans]
    codes = {w.code for c in checks for w in c.warnings}
    assert codes == CODES
    assert any(c.one_two_one.ok and not c.warnings for c in checks)
    assert any(not c.one_two_one.ok for c in checks)


def test_targets_range_from_well_above_to_well_below_the_run_rate(sample, plans):
    lines = pd.read_csv(sample / "invoice_lines.csv", dtype=str)
    recent = lines[lines.invoice_date > "2025-09-30"]
    run_rate = recent.assign(amount=recent.amount.astype(float)).groupby("customer_id").amount.sum()
    ratios = [
        float(sum(p.content.targets[2026].values())) / run_rate[p.content.customer_id]
        for p in plans
    ]
    assert max(ratios) > 1.25 and min(ratios) < 0.75
