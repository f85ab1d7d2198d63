"""The "Roadmap vs strategy" page in AppTest, on a database filled the production way.

The sample data (generator -> ingest -> recompute -> refresh, demo users and plans) plus
three initiatives of plan accounts added before the recompute, so the snapshot surely
holds one served late, one in time and one nothing serves. Every role sees the page,
only roles that may export get downloads, and the figures on the page are the read
model's and agree with the ``accountops export roadmap`` contract.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, select, update

from dashboards.formatting import money, percent
from models.access import can
from models.db import transaction
from models.roadmap import read as rr
from models.roadmap.store import read_offers, roadmap_export
from models.schema import (
    AccountPlan,
    Initiative,
    InitiativeCoverage,
    InitiativeStatus,
    Priority,
    RoadmapMatch,
    Role,
)
from tests.dashboards import pages_support
from tests.dashboards.pages_support import frame, metrics, private_copy

pytestmark = pytest.mark.slow

PAGE = "app_pages/roadmap.py"
SID = 2
LATE, IN_TIME, GAP = "INI-T-LATE", "INI-T-INTIME", "INI-T-GAP"
EXPORTS = ["accounts", "initiatives", "items", "unserved", "timing-misses"]


def add_initiatives(engine) -> dict[str, str]:
    """Three open initiatives of plan accounts: late, in time, and one nothing serves."""
    with engine.connect() as conn:
        plans = sorted(conn.scalars(select(AccountPlan.customer_id)))
        offers = [o for o in read_offers(conn) if o.status != "cancelled"]
    assert len(plans) >= 2 and offers
    first = {}
    for o in offers:
        for tag in o.tags:
            first[tag] = min(first.get(tag, o.release_on), o.release_on)
    late_tag, on_time_tag = sorted(first)[:2]
    rows = [
        (LATE, plans[0], late_tag, first[late_tag] - timedelta(days=200)),
        (IN_TIME, plans[0], on_time_tag, first[on_time_tag] + timedelta(days=30)),
        (GAP, plans[1], "test-capability-nobody-builds", first[late_tag]),
    ]
    with transaction(engine) as session:
        for ini, cid, tag, needed_by in rows:
            session.add(
                Initiative(
                    initiative_id=ini,
                    customer_id=cid,
                    title=f"Test initiative {ini}",
                    capability_tags=[tag],
                    needed_by=needed_by,
                    priority=Priority.HIGH,
                    status=InitiativeStatus.ACTIVE,
                )
            )
    return {LATE: plans[0], IN_TIME: plans[0], GAP: plans[1]}


@pytest.fixture(scope="module")
def roadmap_db(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    from models.auth import create_demo_users
    from models.sampledata.demo_plans import set_up_demo_plans
    from models.sampledata.plans import PLANS_DIR
    from tests.dashboards.pages_support import build_sample_database

    folder = tmp_path_factory.mktemp("roadmap-page")
    added: dict[str, str] = {}

    def before(engine, sample: Path) -> None:  # as `accountops demo` does, plus ours
        create_demo_users(engine)
        set_up_demo_plans(engine, sample / PLANS_DIR)
        added.update(add_initiatives(engine))

    engine, ids, _ = build_sample_database(
        folder / "sample.db", folder / "csv", before_recompute=before
    )
    assert ids == [1, SID]
    engine.dispose()
    return folder / "sample.db", added


@pytest.fixture
def page_db(roadmap_db, tmp_path, monkeypatch):
    with private_copy(roadmap_db[0], tmp_path, monkeypatch) as engine:
        yield engine


open_page = partial(pages_support.open_page, PAGE)


def heatmap(at) -> list[dict]:
    """The heatmap's two layers: the cells, and the pale late-but-covered-elsewhere ones."""
    return json.loads(at.get("plotly_chart")[0].proto.spec)["data"][:2]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_sees_the_page_and_only_exporters_get_downloads(page_db, roadmap_db, role):
    at = open_page(role)
    assert at.title[0].value == "Roadmap vs strategy"
    if role == Role.ACCOUNT_MANAGER:
        # Their own book only, and the demo account manager's holds no customer of this
        # sample (what a book with customers shows: test_account_manager_book.py).
        info = [i.value for i in at.info]
        assert info == ["No open initiative of a strategic account in this selection."]
        assert not at.get("plotly_chart") and not at.get("download_button")
        return
    assert [layer["type"] for layer in heatmap(at)] == ["heatmap", "heatmap"]
    assert len(at.get("plotly_chart")) == 5  # heatmap, items, unserved, misses, timeline
    captions = " ".join(c.value for c in at.caption)
    assert "Snapshot **2**, as of **30 Sep 2026**" in captions  # provenance from start()
    assert "accounts with an account plan, or accounts of tier Diamond, Gold or" in captions
    first = frame(at, "in_time").iloc[0]["customer_id"]
    keys = {b.key for b in at.get("download_button")}
    if can(role, "export_data"):
        assert keys == {f"export_roadmap-{n}" for n in [*EXPORTS, first]}
    else:
        assert keys == set()
        assert "Downloads are not available for your role." in captions


def shares_from_export(export: pd.DataFrame) -> dict[str, str]:
    """The shares of value in time / late / gap as the export contract gives them."""
    per = export.groupby("initiative_id").agg(
        value=("value_at_stake", "first"), match=("match", lambda m: set(m))
    )
    per["timing"] = [
        "gap" if "gap" in m else ("in_time" if "in_time" in m else "late") for m in per["match"]
    ]
    total = sum(per["value"])
    out = {}
    for timing in ("in_time", "late", "gap"):
        part = sum(per.loc[per["timing"] == timing, "value"], Decimal(0))
        out[timing] = percent((part / total).quantize(Decimal("0.0001"), ROUND_HALF_UP))
    return out


def test_figures_equal_the_read_model_and_the_export(page_db, roadmap_db):
    at = open_page()
    view = rr.roadmap_view(page_db, SID)
    cov, ranks = view["coverage"], view["rankings"]
    with page_db.connect() as conn:
        export = roadmap_export(conn, SID)
    export = export[export["initiative_id"].isin(set(cov["initiative_id"]))]
    assert set(export["initiative_id"]) == set(cov["initiative_id"]) >= set(roadmap_db[1])
    shown = metrics(at)
    total = sum(export.drop_duplicates("initiative_id")["value_at_stake"])
    assert total == ranks["headline"]["value"]
    assert shown["Value at stake (EUR)"] == money(total, "EUR", compact=True)
    accounts = rr.strategic_accounts(page_db, SID)
    assert (
        shown["Accounts with initiatives"] == f"{cov['customer_id'].nunique()} of {len(accounts)}"
    )
    from_export = shares_from_export(export)
    assert (
        shown["Covered in time"] == from_export["in_time"] == percent(ranks["headline"]["in_time"])
    )
    assert shown["Covered late"] == from_export["late"]
    assert shown["Gap: nothing serves"] == from_export["gap"]
    # Our three initiatives, as the export has them.
    late = export[export["initiative_id"] == LATE]
    assert set(late["match"]) == {"late"}
    assert set(export.loc[export["initiative_id"] == GAP, "match"]) == {"gap"}
    assert "in_time" in set(export.loc[export["initiative_id"] == IN_TIME, "match"])
    # Tables: the read model's rankings, amounts as floats.
    items = frame(at, "value_served")
    assert list(items["roadmap_item_id"]) == list(ranks["items"]["roadmap_item_id"])
    assert list(items["value_served"]) == [float(v) for v in ranks["items"]["value_served"]]
    misses = frame(at, "first_release").set_index("initiative_id")
    assert misses.loc[LATE, "months_late"] == min(late["months_late"])
    assert misses.loc[LATE, "value_at_stake"] == float(late["value_at_stake"].iloc[0])
    unserved = frame(at, "capability").set_index("capability")
    gap_value = export.loc[export["initiative_id"] == GAP, "value_at_stake"].iloc[0]
    assert unserved.loc["test-capability-nobody-builds", "value_at_stake"] == float(gap_value)
    table = frame(at, "in_time")
    assert list(table["customer_id"]) == list(ranks["accounts"]["customer_id"])
    # The heatmap: one row per account (largest value first), the read model's cells.
    cells, pale = heatmap(at)
    assert cells["y"] == list(ranks["accounts"]["account"].head(30))
    drawn = [z for layer in (cells, pale) for row in layer["z"] for z in row]
    assert sum(z is not None and z < 3 for z in drawn) == len(view["grid"])
    row = cells["y"].index(cov.set_index("initiative_id").at[GAP, "account"])
    assert cells["z"][row][cells["x"].index(rr.NOTHING_SERVES)] == 2  # gap


def test_the_chosen_account_links_to_its_plan_and_draws_its_timeline(page_db, roadmap_db):
    cid = roadmap_db[1][LATE]
    at = open_page()
    at.selectbox(key="roadmap_account").select(cid).run()
    assert not at.exception
    links = [(e.proto.label, e.proto.page) for e in at.get("page_link")]
    links = [link for link in links if link[1] != "data_health"]  # the provenance line's
    assert len(links) == 1 and links[0][1] == "plan"
    assert links[0][0].startswith("Strategic-account plan: ")
    timeline = json.loads(at.get("plotly_chart")[-1].proto.spec)
    needed = next(t for t in timeline["data"] if t.get("name") == "Needed by")
    mine = rr.coverage(page_db, SID).query("customer_id == @cid")
    assert needed["x"] == [d.isoformat() for d in mine["needed_by"]]
    late_bar = next(t for t in timeline["data"] if t.get("mode") == "lines")
    assert late_bar["x"][0] == mine.set_index("initiative_id").at[LATE, "needed_by"].isoformat()
    detail = frame(at, "tag_share")  # the account's initiatives and the items serving them
    assert set(detail["initiative_id"]) == set(mine["initiative_id"])
    assert list(detail.loc[detail["initiative_id"] == LATE, "timing"].unique()) == ["late"]


def test_filters_narrow_accounts_and_product_lines(page_db, roadmap_db):
    at = open_page()
    whole = rr.roadmap_view(page_db, SID)
    line = whole["rankings"]["items"]["roadmap_item_id"].iloc[0]
    line = whole["serving"].set_index("roadmap_item_id").at[line, "product_line_id"]
    line = line if isinstance(line, str) else line.iloc[0]
    at.multiselect(key="roadmap_lines").select(line).run()
    assert not at.exception
    narrowed = rr.roadmap_view(page_db, SID, product_lines=(line,))
    items = frame(at, "value_served")
    assert list(items["roadmap_item_id"]) == list(narrowed["rankings"]["items"]["roadmap_item_id"])
    name = whole["serving"].set_index("product_line_id").loc[[line], "product_line"].iloc[0]
    assert set(items["product_line"]) == {name}
    # Product lines narrow the roadmap side only: the headline stays.
    assert metrics(at)["Value at stake (EUR)"] == money(
        whole["rankings"]["headline"]["value"], "EUR", compact=True
    )
    at.multiselect(key="roadmap_lines").unselect(line).run()
    tier = whole["coverage"]["tier"].dropna().iloc[0]
    at.multiselect(key="roadmap_tiers").select(tier).run()
    assert not at.exception
    head = rr.roadmap_view(page_db, SID, tiers=(tier,))["rankings"]["headline"]
    assert metrics(at)["Value at stake (EUR)"] == money(head["value"], "EUR", compact=True)


def test_unknown_values_show_as_unknown_never_zero(page_db, roadmap_db):
    cid = roadmap_db[1][LATE]
    with transaction(page_db) as session:
        session.execute(
            update(InitiativeCoverage)
            .where(InitiativeCoverage.snapshot_id == SID, InitiativeCoverage.customer_id == cid)
            .values(value_at_stake=None)
        )
    at = open_page()
    assert "of unknown value" in at.metric[1].help
    accounts = frame(at, "in_time").set_index("customer_id")
    assert pd.isna(accounts.at[cid, "value_at_stake"])  # shown as "unknown", not 0
    assert pd.isna(accounts.at[cid, "in_time"])
    misses = frame(at, "first_release").set_index("initiative_id")
    assert pd.isna(misses.at[LATE, "value_at_stake"])
    assert any("of unknown value are not plotted" in c.value for c in at.caption)


def test_all_values_unknown_show_unknown_metrics(page_db):
    with transaction(page_db) as session:
        session.execute(update(InitiativeCoverage).values(value_at_stake=None))
    shown = metrics(open_page())
    assert shown["Value at stake (EUR)"] == "unknown"
    assert shown["Covered in time"] == shown["Gap: nothing serves"] == "unknown"


def test_a_snapshot_without_roadmap_rows_says_what_to_run(page_db):
    with transaction(page_db) as session:
        session.execute(delete(RoadmapMatch))
        session.execute(delete(InitiativeCoverage))
    at = open_page()
    info = " ".join(i.value for i in at.info)
    assert "accountops pipeline" in info and "roadmap_items.csv" in info
    assert "initiatives.csv" in info
    assert not at.get("plotly_chart") and not at.metric


def test_the_strategic_rule_is_a_parameter(page_db, roadmap_db):
    added = roadmap_db[1]
    plans_only = rr.coverage(page_db, SID, rr.StrategicRule(tiers=(), with_plan=True))
    assert set(plans_only["has_plan"]) == {True} and set(added) <= set(plans_only["initiative_id"])
    tiers_only = rr.coverage(page_db, SID, rr.StrategicRule(with_plan=False))
    assert set(tiers_only["tier"]) <= set(rr.STRATEGIC_TIERS)
    both = rr.coverage(page_db, SID)
    assert set(both["initiative_id"]) == set(plans_only["initiative_id"]) | set(
        tiers_only["initiative_id"]
    )
    pairs = rr.serving(page_db, SID)
    assert set(pairs["initiative_id"]) <= set(both["initiative_id"])
    assert "text" not in set(pairs["via"])  # unconfirmed suggestions never count
