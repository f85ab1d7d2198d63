"""The recompute measures every plan on its snapshot's data: plan vs actual (the value
engine's revenue, credit notes netted), the 1+2+1 check and the warnings, stored with
the snapshot."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.config import load_config
from models.errors import AccountopsError
from models.plans.content import canonical
from models.plans.review import review_plan
from models.plans.rules import PlanRules
from models.plans.service import create_plan
from models.schema import PlanActualRow, PlanReview
from models.value.recompute import recompute
from tests.plan_builders import ACCOUNT, plan, seed_accounts
from tests.value_builders import batch, invoice


def _invoices(engine) -> None:
    """C-1: 2025 sold 1,000 (PL-01); 2026 to date 600 of PL-01 less a 100 credit note,
    and 50 of PL-02; then 70 of PL-01 on 2026-09-20, after the as-of date 2026-09-15."""
    rows = [
        ("I-1", date(2025, 3, 10), [("PL-01", "400.00", "300.00")]),
        ("I-2", date(2025, 11, 5), [("PL-01", "600.00", None)]),
        ("I-3", date(2026, 2, 1), [("PL-01", "600.00", None), ("PL-02", "50.00", None)]),
        ("I-4", date(2026, 4, 1), [("PL-01", "-100.00", None)]),
        ("I-5", date(2026, 9, 20), [("PL-01", "70.00", None)]),
    ]
    with engine.begin() as conn:
        b = batch(conn)
        for invoice_id, day, lines in rows:
            invoice(conn, invoice_id, ACCOUNT, day, day, lines, b)


def test_recompute_stores_each_plans_review_with_its_snapshot(engine):
    people = seed_accounts(engine)
    _invoices(engine)
    content = plan(targets={2026: {"PL-01": 1000, "PL-02": 100}, 2027: {"PL-01": 1200}})
    create_plan(engine, people["planner"], content)
    as_of = date(2026, 9, 15)  # invoice I-5 shares the month but comes later
    result = recompute(engine, load_config(), as_of=as_of)
    with engine.connect() as conn:
        review = conn.execute(select(PlanReview)).one()
        actual = {
            (r.year, r.product_line_id): r
            for r in conn.execute(select(PlanActualRow).order_by(PlanActualRow.year))
        }
    assert (review.snapshot_id, review.plan_id, review.version) == (result.snapshot_id, ACCOUNT, 1)
    assert review.one_two_one_ok and review.missing == []
    assert [w["code"] for w in review.warnings] == ["YEAR_WITHOUT_TARGETS"]
    assert review.warning_count == 1
    pl1 = actual[(2026, "PL-01")]
    assert Decimal(pl1.actual) == Decimal("500.00")  # 600 - 100, not the 70 after as-of
    assert Decimal(pl1.gap) == Decimal("-500.00")
    # Day 258 of 365: 500 x 365/258 = 707.36. 2025 had 400 of 1,000 by 15 September
    # (March's 400; nothing in September): 500 / 0.4 = 1,250.
    assert Decimal(pl1.run_rate) == Decimal("707.36")
    assert Decimal(pl1.run_rate_profile) == Decimal("1250.00")
    assert Decimal(actual[(2026, "PL-02")].actual) == Decimal("50.00")
    assert actual[(2027, "PL-01")].actual is None
    # plan show measures the same plan the same way.
    with engine.connect() as conn:
        live = review_plan(conn, ACCOUNT, canonical(content), 1, as_of, PlanRules())
    assert live.actuals[0].actual == Decimal("500.00")
    assert live.actuals[0].run_rate_profile == Decimal("1250.00")


def test_a_recompute_without_plans_stores_no_review(engine):
    seed_accounts(engine)
    _invoices(engine)
    recompute(engine, load_config(), as_of=date(2026, 9, 30))
    with engine.connect() as conn:
        assert conn.execute(select(PlanReview)).all() == []


def test_the_workspace_row_sums_this_years_stored_actuals_and_checks_the_plan_now(engine):
    from models.dashboard import refresh_dashboard
    from models.plans.workspace import plan_rows

    people = seed_accounts(engine)
    _invoices(engine)
    content = plan(targets={2026: {"PL-01": 1000, "PL-02": 100}, 2027: {"PL-01": 1200}})
    create_plan(engine, people["planner"], content)
    config = load_config()
    result = recompute(engine, config, as_of=date(2026, 9, 15))
    refresh_dashboard(engine, result.snapshot_id, config)
    as_of, rows = plan_rows(engine, people["planner"], PlanRules(), result.snapshot_id)
    assert as_of == date(2026, 9, 15)
    [row] = rows
    assert (row.customer_id, row.status, row.version, row.last_editor) == (
        ACCOUNT,
        "draft",
        1,
        "planner",
    )
    assert (row.one_two_one, row.warnings) == ("ok", 1)  # 2028 has no targets
    assert row.target == Decimal("1100.00")
    assert row.actual == Decimal("550.00")  # PL-01 600 - 100, PL-02 50
    assert row.gap == Decimal("-550.00")
    assert row.run_rate == Decimal("778.10")  # 707.36 + 70.74 (50 x 365/258)
    assert row.tier is not None and row.manager is not None
    # planner2 is assigned C-1 too; an account manager sees the accounts they manage, an
    # approver every plan, with or without a snapshot.
    assert plan_rows(engine, people["planner2"], PlanRules(), result.snapshot_id)[1] == rows
    assert plan_rows(engine, people["manager"], PlanRules(), result.snapshot_id)[1] == rows
    assert len(plan_rows(engine, people["approver"], PlanRules(), None)[1]) == 1


def test_the_workspace_names_a_snapshot_that_does_not_exist(engine):
    """A stale snapshot id is a user-facing NO_SNAPSHOT error, not an AttributeError."""
    from models.plans.workspace import plan_rows

    people = seed_accounts(engine)
    create_plan(engine, people["planner"], plan())
    with pytest.raises(AccountopsError, match="snapshot 999 does not exist") as caught:
        plan_rows(engine, people["planner"], PlanRules(), 999)
    assert caught.value.code == "NO_SNAPSHOT"
