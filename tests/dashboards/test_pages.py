"""D1 for the executive pages: every page renders on a database filled the production way
(sample generator -> ingest service -> recompute -> refresh), shows the figures the engine
exports, says where they came from, and shows a new snapshot without a restart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboards.formatting import literal
from models.access import Identity
from models.config import load_config
from models.dashboard import SnapshotNotReady, refresh_dashboard
from models.dashboard import read as rd
from models.db import make_engine, transaction
from models.schema import (
    CustomerMeasure,
    DashboardCustomer,
    DashboardMigration,
    Role,
)
from models.users import add_user
from models.value.exports import export_frame
from models.value.recompute import recompute
from tests.dashboards.conftest import app_test
from tests.dashboards.pages_support import AS_OF, build_sample_database, private_copy

CONFIG = load_config()
PAGES = ["overview", "customers", "attack_defend", "receivables", "managers", "data_health"]
# Charts each page draws on the sample: the overview's pyramid, Pareto curve and migration
# Sankey; the segment scatter and effort bars; ageing bars and the DSO trend (two years of
# history give it points); the managers' two concentration bars. The customers page draws
# its two only once a customer is opened, and the data-health page has none.
CHARTS = {
    "overview": 3,
    "customers": 0,
    "attack_defend": 2,
    "receivables": 2,
    "managers": 2,
    "data_health": 0,
}


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard-sample")
    db = folder / "sample.db"
    engine, ids, _ = build_sample_database(db, folder / "csv", customers=80)
    assert ids == [1, 2]
    engine.dispose()
    return db


@pytest.fixture
def page_db(sample_db, tmp_path, monkeypatch):
    """A private copy of the sample database that the app reads."""
    with private_copy(sample_db, tmp_path, monkeypatch) as engine:
        yield engine


def signed_in(engine, role: str = "viewer"):
    with transaction(engine) as session:
        add_user(session, f"test-{role}", Role(role), None, actor="test")
    at = app_test()
    at.session_state["identity"] = Identity(f"test-{role}", Role(role), None, f"Test {role}")
    return at


def open_page(at, page: str):
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def euros(value) -> str:
    return f"€{float(value):,.0f}"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_d1_every_page_renders_with_provenance(page_db, page):
    at = open_page(signed_in(page_db).run(), page)
    captions = " ".join(c.value for c in at.caption)
    if page != "data_health":
        assert "Snapshot **2**, as of **30 Sep 2026**" in captions
        assert "rows quarantined" in captions  # the broken payments row is owned up to
    assert len(at.get("plotly_chart")) == CHARTS[page], page


@pytest.mark.slow
def test_d1_overview_figures_equal_the_engine_exports(page_db):
    at = open_page(signed_in(page_db).run(), "overview")
    tiers = export_frame(page_db, "tiers", CONFIG)
    receivables = export_frame(page_db, "receivables", CONFIG).set_index("customer_id")
    shown = metrics(at)
    revenue = sum(v for v in tiers["revenue"] if v is not None)
    assert shown["Revenue, 12 months (EUR)"] == f"€{float(revenue) / 1e6:.1f}M"
    assert shown["DSO"] == (f"{float(receivables.loc['TOTAL', 'dso_days']):,.0f} days")
    counts = tiers["tier"].value_counts()
    for tier in ("diamond", "gold", "strategic", "potential", "general", "problem"):
        assert shown[f"{tier.capitalize()} customers"] == f"{int(counts.get(tier, 0)):,}"
    at_risk = sum(tiers.loc[tiers["tier"] == "problem", "revenue"])
    head = rd.headline(page_db, 2)
    assert head["revenue"] == Decimal(revenue).quantize(Decimal("0.01"))
    assert head["revenue_at_risk"] == Decimal(at_risk).quantize(Decimal("0.01"))
    assert head["dso_days"] == receivables.loc["TOTAL", "dso_days"]
    assert head["outstanding"] == receivables.loc["TOTAL", "outstanding"]
    assert head["over_90"] == receivables.loc["TOTAL", "days_over_90"]
    assert head["late_cost"] == receivables.loc["TOTAL", "late_cost"]
    managers = export_frame(page_db, "managers", CONFIG)
    assert head["relationship_revenue_at_risk"] == sum(managers["relationship_revenue_at_risk"])
    # Margin: summed profit over summed costed revenue of trading customers.
    with page_db.connect() as conn:
        m = CustomerMeasure.__table__
        profit, costed = conn.execute(
            select(func.sum(m.c.gross_profit), func.sum(m.c.revenue_costed)).where(
                m.c.snapshot_id == 2, m.c.customer_id.in_(list(tiers["customer_id"]))
            )
        ).one()
    profit, costed = float(profit), float(costed)
    assert abs(float(head["gross_margin_pct"]) - profit / costed) < 1e-6
    assert shown["Gross margin"] == f"{profit / costed * 100:.1f}%"


def test_refresh_tables_equal_the_engine_exports(sample_db):
    engine = make_engine(f"sqlite:///{sample_db}")
    tiers = export_frame(engine, "tiers", CONFIG).set_index("customer_id")
    table = rd.customers(engine, 2).set_index("customer_id").loc[tiers.index]
    assert list(table["tier"]) == list(tiers["tier"])
    assert list(table["previous_tier"]) == list(tiers["previous_tier"])
    exported = pd.to_numeric(tiers["revenue"]).astype(float).round(2)
    assert (table["revenue"].round(2).fillna(-1) == exported.fillna(-1)).all()
    moves = export_frame(engine, "migrations", CONFIG)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(DashboardMigration.from_tier, func.sum(DashboardMigration.customers))
                .where(DashboardMigration.snapshot_id == 2)
                .group_by(DashboardMigration.from_tier)
            ).all()
        )
        assert conn.scalar(
            select(func.count())
            .select_from(DashboardCustomer)
            .where(DashboardCustomer.snapshot_id == 2)
        ) == len(tiers)
    assert sum(stored.values()) == len(tiers) + int((moves["kind"] == "lost").sum())
    clv = export_frame(engine, "clv", CONFIG, snapshot_id=2).set_index("customer_id")
    shown = table["clv_12m"].dropna()
    assert len(shown) > 0
    exported_clv = pd.to_numeric(clv.loc[shown.index, "clv_12m"]).astype(float)
    assert (shown - exported_clv).abs().max() < 0.005
    managers = export_frame(engine, "managers", CONFIG).set_index("manager_id")
    mine = rd.managers(engine, 2).set_index("manager_id").loc[managers.index]
    assert (mine["revenue"] - managers["revenue"].astype(float)).abs().max() < 0.005
    ageing = rd.ageing(engine, 2)
    total = export_frame(engine, "receivables", CONFIG).set_index("customer_id").loc["TOTAL"]
    buckets = ["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"]
    assert list(ageing["amount"].round(2)) == [round(float(total[b]), 2) for b in buckets]
    engine.dispose()


def test_refresh_is_idempotent_and_refuses_an_unknown_snapshot(page_db):
    before = rd.customers(page_db, 2)
    result = refresh_dashboard(page_db, 2, CONFIG)
    assert result.tables["dashboard_customer"] == len(before)
    pd.testing.assert_frame_equal(rd.customers(page_db, 2), before)
    with pytest.raises(SnapshotNotReady, match="snapshot 99 does not exist"):
        refresh_dashboard(page_db, 99, CONFIG)


@pytest.mark.slow
def test_customer_table_filters_and_opens_a_customer(page_db):
    at = open_page(signed_in(page_db).run(), "customers")
    at.multiselect(key="filter_tier_label").select("Problem").run()
    assert not at.exception
    table = rd.customers(page_db, 2)
    problems = table[table["tier"] == "problem"]
    assert f"{len(problems)} of {len(table)} customers" in " ".join(c.value for c in at.caption)
    at.selectbox(key="customer_pick").select_index(0).run()
    assert not at.exception
    first = problems.iloc[0]
    assert any(literal(first["customer_id"]) in h.value for h in at.header)
    assert any("Revenue, 12 months" in m.label for m in at.metric)
    assert len(at.get("plotly_chart")) >= 1  # measures over snapshots


@pytest.mark.slow
def test_account_manager_gets_no_download_and_viewer_gets_one(page_db):
    at = open_page(signed_in(page_db, "account_manager").run(), "customers")
    assert len(at.download_button) == 0
    viewer = open_page(signed_in(page_db, "viewer").run(), "customers")
    assert viewer.download_button(key="export_customers").proto.label == "Download CSV"


def test_empty_state_says_what_to_do(app_db):
    at = app_test()
    with transaction(app_db) as session:
        add_user(session, "test-viewer", Role.VIEWER, None, actor="test")
    at.session_state["identity"] = Identity("test-viewer", Role.VIEWER, None, "Viewer")
    at.run()
    assert not at.exception
    assert any("accountops pipeline" in i.value for i in at.info)


@pytest.mark.slow
def test_a_new_snapshot_shows_without_a_restart(page_db):
    at = open_page(signed_in(page_db).run(), "overview")
    assert "Snapshot **2**" in " ".join(c.value for c in at.caption)
    result = recompute(page_db, CONFIG)
    refresh_dashboard(page_db, result.snapshot_id, CONFIG)
    at.run()  # the same session, the same process and caches
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert f"Snapshot **{result.snapshot_id}**" in captions
    assert "Changes are vs snapshot 2." in captions


def test_refresh_equals_the_exports_on_both_backends(engine, small_sample):
    """The same set-based SQL on SQLite and PostgreSQL: headline = exports, tables filled."""
    from datetime import date

    from tests import value_builders as vb

    vb.load_sample(engine, small_sample)
    first = recompute(engine, CONFIG, as_of=date(2026, 3, 31))
    second = recompute(engine, CONFIG)
    refresh_dashboard(engine, first.snapshot_id, CONFIG)
    result = refresh_dashboard(engine, second.snapshot_id, CONFIG)
    assert result.previous_snapshot_id == first.snapshot_id
    for table in ("dashboard_customer", "dashboard_tier", "dashboard_pareto", "dashboard_ageing"):
        assert result.tables[table] > 0, table
    head = rd.headline(engine, second.snapshot_id)
    tiers = export_frame(engine, "tiers", CONFIG)
    total = export_frame(engine, "receivables", CONFIG).set_index("customer_id").loc["TOTAL"]
    revenue = sum(v for v in tiers["revenue"] if v is not None)
    assert head["revenue"] == Decimal(revenue).quantize(Decimal("0.01"))
    assert head["dso_days"] == total["dso_days"]
    assert head["outstanding"] == Decimal(total["outstanding"]).quantize(Decimal("0.01"))
    assert head["trading_customers"] == int(
        tiers["tier"]
        .isin(["diamond", "gold", "strategic", "potential", "general", "problem"])
        .sum()
    )
    assert head["revenue_prev"] == rd.headline(engine, first.snapshot_id)["revenue"]
    shown = rd.customers(engine, second.snapshot_id)
    assert sorted(shown["customer_id"]) == sorted(tiers["customer_id"])
    # Main segment = the segment of the customer's largest-potential product line.
    segments = export_frame(engine, "segments", CONFIG)
    largest = (
        segments.assign(potential=segments["potential"].astype(float))
        .sort_values(["customer_id", "potential", "product_line_id"], ascending=[True, False, True])
        .groupby("customer_id")["segment"]
        .first()
    )
    mine = shown.set_index("customer_id")["main_segment"].dropna()
    assert len(mine) == len(largest) and (mine.loc[largest.index] == largest).all()
    points = rd.pareto(engine, second.snapshot_id)
    assert points["revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert points["customer_share"].is_monotonic_increasing
    moves = rd.migrations(engine, second.snapshot_id)
    assert moves["customers"].sum() >= len(tiers)


def test_s2_excel_export_neutralises_formulas_and_keeps_numbers(tmp_path):
    from openpyxl import load_workbook

    from models.dashboard.spreadsheet import render_xlsx

    frame = pd.DataFrame(
        {"name": ["=1+1", "Acme", "@SUM(A1)"], "amount": [Decimal("-12.50"), 3, None]}
    )
    path = tmp_path / "x.xlsx"
    path.write_bytes(render_xlsx(frame, "customers"))
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows == [("name", "amount"), ("'=1+1", -12.5), ("Acme", 3), ("'@SUM(A1)", None)]


def test_a_customer_with_a_plan_links_to_it(page_db):
    from models.plans.assignments import assign_accounts
    from models.plans.service import create_plan
    from tests.plan_builders import ADMIN, plan

    cid = rd.customers(page_db, 2).iloc[0]["customer_id"]  # the first in the picker
    with transaction(page_db) as session:
        add_user(session, "planner", Role.PLANNER, None, actor="test")
    assign_accounts(page_db, ADMIN, "planner", [cid])
    planner = Identity("planner", Role.PLANNER)
    create_plan(page_db, planner, plan(customer_id=cid, initiatives=[], title="Grow it"))
    at = open_page(signed_in(page_db).run(), "customers")
    at.selectbox(key="customer_pick").select_index(0).run()
    links = [(e.proto.label, e.proto.page) for e in at.get("page_link")]
    links = [link for link in links if link[1] != "data_health"]  # the provenance line's
    assert links == [("Strategic-account plan: Grow it (draft)", "plan")]


def test_the_roadmap_export_contract_holds_on_the_sample_data(page_db):
    """One row per initiative and serving item, a gap once with no item; months late only
    when late; each account's initiatives share exactly its 12-month revenue."""
    from models.roadmap.store import EXPORT_COLUMNS

    frame = export_frame(page_db, "roadmap", CONFIG)
    assert list(frame.columns) == ["customer_id", "customer_name", *EXPORT_COLUMNS[1:]]
    assert len(frame) > 0
    assert set(frame["match"]) <= {"in_time", "late", "gap"}
    assert {"in_time", "gap"} <= set(frame["match"])
    for ini, rows in frame.groupby("initiative_id"):
        gaps = rows[rows["match"] == "gap"]
        assert len(gaps) in (0, len(rows)) and len(gaps) <= 1, ini  # a gap once, alone
        assert rows["roadmap_item_id"].isna().all() == (len(gaps) == 1), ini
    late = frame["match"] == "late"
    assert (frame.loc[late, "months_late"] > 0).all()
    assert (frame.loc[~late, "months_late"] == 0).all()
    served = frame["match"] != "gap"
    assert set(frame.loc[served, "decided_by"]) <= {"tags", "confirmed"}
    assert frame.loc[~served, "decided_by"].isna().all()
    values = frame.drop_duplicates("initiative_id").dropna(subset=["value_at_stake"])
    revenue = rd.customers(page_db, 2).set_index("customer_id")["revenue"]
    for customer_id, shares in values.groupby("customer_id")["value_at_stake"]:
        total = sum(shares, Decimal(0))
        assert abs(total - Decimal(str(revenue[customer_id]))) <= Decimal("0.01") * len(shares)


def _reject_an_invoice_file(engine, folder: Path) -> int:
    """An invoice file with a broken header, loaded after the snapshots: REJECTED."""
    from expectations.runner import SuiteRunner
    from models.ingest import ingest_config, ingest_file

    folder.mkdir()
    (folder / "invoice_lines.csv").write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    config = ingest_config(CONFIG)
    result = ingest_file(
        engine,
        folder / "invoice_lines.csv",
        validator=SuiteRunner(config, AS_OF),
        config=config,
        as_of=AS_OF,
    )
    assert result.outcome == "REJECTED"
    return result.batch_id


@pytest.mark.parametrize("page", [p for p in PAGES if p != "data_health"])  # it lists them
def test_every_page_says_when_the_latest_delivery_was_rejected(page_db, page, tmp_path):
    batch = _reject_an_invoice_file(page_db, tmp_path / "late")
    at = open_page(signed_in(page_db), page)
    warnings = [w.value for w in at.warning]
    expected = (
        f"The latest invoices file, batch {batch} (invoice\\_lines\\.csv), was rejected: "
        "its rows are in no snapshot."
    )
    assert any(expected in w for w in warnings), warnings
    links = [e.proto for e in at.get("page_link")]
    assert any(link.label == "See Data health" for link in links), links


def test_the_provenance_line_links_to_data_health_only_when_something_is_wrong(page_db):
    at = open_page(signed_in(page_db), "overview")  # the sample quarantines one payment
    assert not at.warning  # nothing refused
    assert [e.proto.label for e in at.get("page_link")].count("See Data health") == 1
