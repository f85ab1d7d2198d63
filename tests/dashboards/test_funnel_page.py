"""The "Funnel and forecast" page in AppTest, on a database filled the production way.

The sample data (generator -> ingest -> recompute -> refresh, demo users and plans).
Every expected figure is computed here from the funnel the recompute stored
(``models.funnel.store``), never taken from the sample's counts, so the sample's
opportunities may change. Every role sees the page, account managers and planners see
their own accounts' deals first, only roles that may export get downloads, and a
snapshot stored before the funnel existed says what to run.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, select, update

from dashboards.formatting import count, money, percent
from models.access import Identity, can
from models.db import transaction
from models.funnel import read as fr
from models.funnel.history import STAGE_NAMES
from models.funnel.store import (
    stored_backtest,
    stored_deals,
    stored_forecast,
    stored_periods,
    stored_run,
    stored_stages,
)
from models.schema import AppUser, AuditEvent, Customer, CustomerTier, DashboardCustomer, Role
from models.schema.funnel import FUNNEL_TABLES
from models.value.exports import render
from tests.dashboards import pages_support
from tests.dashboards.conftest import app_test
from tests.dashboards.pages_support import frame, metrics, private_copy

pytestmark = pytest.mark.slow

PAGE = "app_pages/funnel.py"
SID = 2
EXPORTS = {"funnel-stages", "funnel-deals-to-chase", "funnel-forecast", "funnel-backtest"}
RAW = re.compile(r"\b(nan|NaN|None|NaT)\b")


@pytest.fixture(scope="module")
def funnel_db(tmp_path_factory) -> Path:
    from models.auth import create_demo_users
    from models.sampledata.demo_plans import set_up_demo_plans
    from models.sampledata.plans import PLANS_DIR
    from tests.dashboards.pages_support import build_sample_database

    folder = tmp_path_factory.mktemp("funnel-page")

    def before(engine, sample: Path) -> None:  # as `accountops demo` does
        create_demo_users(engine)
        set_up_demo_plans(engine, sample / PLANS_DIR)

    engine, ids, _ = build_sample_database(
        folder / "sample.db", folder / "csv", before_recompute=before
    )
    assert ids == [1, SID]
    engine.dispose()
    return folder / "sample.db"


@pytest.fixture
def page_db(funnel_db, tmp_path, monkeypatch):
    with private_copy(funnel_db, tmp_path, monkeypatch) as engine:
        yield engine


def stored(engine) -> dict:
    """What the recompute stored for the snapshot: the figures every test expects (each
    deal with its customer's tier in the snapshot)."""
    with engine.connect() as conn:
        deals = stored_deals(conn, SID)
        tiers = dict(
            conn.execute(
                select(CustomerTier.customer_id, CustomerTier.tier).where(
                    CustomerTier.snapshot_id == SID
                )
            ).all()
        )
        return {
            "run": stored_run(conn, SID),
            "deals": deals.assign(
                owner=deals["owner_manager_id"].fillna("unassigned"),
                tier=deals["customer_id"].map(lambda c: getattr(tiers.get(c), "value", None)),
            ),
            "stages": stored_stages(conn, SID),
            "forecast": stored_forecast(conn, SID),
            "backtest": stored_backtest(conn, SID),
            "periods": stored_periods(conn, SID),
        }


open_page = partial(pages_support.open_page, PAGE)


def forecast_table(at) -> pd.DataFrame:
    return frame(at, "won", without="learned_error").set_index("period_start")


def chart(at, key: str) -> dict:
    return json.loads(
        next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key)).proto.spec
    )


def texts(at) -> list[str]:
    """Every text the page shows outside its tables and charts."""
    out = [
        t.value
        for kind in ("title", "caption", "markdown", "info", "warning", "success")
        for t in getattr(at, kind)
    ]
    return out + [f"{m.label} {m.value} {m.proto.help}" for m in at.metric]


def open_deals(deals: pd.DataFrame) -> pd.DataFrame:
    return deals[deals["stage"].isin(STAGE_NAMES)]


def chased(deals: pd.DataFrame) -> set[str]:
    return set(deals.loc[deals["state"].isin(["stalled", "regressed"]), "opportunity_id"])


def assert_shows(at, deals: pd.DataFrame) -> None:
    """The metrics, the funnel chart and the deals to chase are those of ``deals``."""
    shown, now = metrics(at), open_deals(deals)
    assert shown["Open deals"] == count(len(now))
    assert shown["Open pipeline (EUR)"] == money(
        now["amount"].astype(float).sum(), "EUR", compact=True
    )
    assert shown["Deals to chase"] == count(len(chased(deals)))
    per_stage = now.groupby("stage").size().reindex(list(STAGE_NAMES), fill_value=0)
    assert chart(at, "funnel_stages")["data"][0]["x"] == per_stage.tolist()
    if chased(deals):
        assert set(frame(at, "days_in_stage")["opportunity_id"]) == chased(deals)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_sees_the_page_and_only_exporters_get_downloads(page_db, role):
    at = open_page(role)
    assert at.title[0].value == "Funnel and forecast"
    # A planner starts on their own accounts and may see the rest; an account manager sees
    # their own book only (tested below): the demo one's holds no deal of this sample.
    own = Role(role) == Role.PLANNER
    assert [t.label for t in at.toggle] == (["Show every deal"] if own else [])
    if Role(role) == Role.ACCOUNT_MANAGER:
        assert any("None of your accounts has a deal" in i.value for i in at.info)
        assert not at.get("plotly_chart") and not at.get("download_button")
        return
    if own:  # their own accounts first (tested below); here the whole funnel
        at.toggle(key="funnel_all").set_value(True).run()
        assert not at.exception
    assert len(at.get("plotly_chart")) == 4  # funnel, conversion, forecast, backtest
    captions = " ".join(c.value for c in at.caption)
    assert "Snapshot **2**, as of **30 Sep 2026**" in captions  # provenance from start()
    keys = {b.key for b in at.get("download_button")}
    if can(role, "export_data"):
        assert keys == {f"export_{n}" for n in EXPORTS}
    else:
        assert keys == set()
        assert "Downloads are not available for your role." in captions
    assert not [t for t in texts(at) if RAW.search(t)]


def test_figures_equal_the_stored_funnel(page_db):
    s = stored(page_db)
    assert chased(s["deals"]), "the sample has no stalled or regressed deal to chase"
    at = open_page()
    assert_shows(at, s["deals"])
    shown, run = metrics(at), s["run"]
    first = s["forecast"][s["forecast"]["period_start"] == run["forecast_start"]]

    def label(d) -> str:
        return f"Q{(d.month - 1) // 3 + 1} {d.year}"

    forecast_label = label(run["forecast_start"])  # on a quarter's last day, the next one
    assert shown[f"Forecast {forecast_label} (EUR)"] == money(
        sum(first["learned"]), "EUR", compact=True
    )
    won = s["periods"].query("period_start == @run['period_start'] and state == 'won'")
    assert shown[f"Won in {label(run['period_start'])} so far (EUR)"] == money(
        sum(won["amount"]), "EUR", compact=True
    )
    under_way = run["forecast_start"] == run["period_start"]
    assert sum(first["won"]) == (sum(won["amount"]) if under_way else 0)
    assert shown["Learned forecast error"] == percent(run["learned_error"])
    assert shown["Naive forecast error"] == percent(run["naive_error"])
    # The forecast table: the stored forecast summed over owners, per period.
    table = forecast_table(at)
    per = s["forecast"].groupby("period_start")[["deals", "learned", "naive", "won"]].sum()
    assert set(per.index) <= set(table.index)
    assert (table.loc[per.index, "deals"] == per["deals"]).all()
    assert (table.drop(index=per.index)["deals"] == 0).all()
    for col in ("learned", "naive"):
        assert (table.loc[per.index, col] - per[col].astype(float)).abs().max() < 0.01 * len(
            s["deals"]
        )
    # The backtest: as stored, each period's error, its mean the stored run's.
    tested = frame(at, "learned_error", without="forecast_as_of")
    assert list(tested["period_start"]) == list(s["backtest"]["period_start"])
    assert list(tested["won"]) == [float(w) for w in s["backtest"]["won"]]
    errors = tested["learned_error"].dropna()
    assert errors.mean() == pytest.approx(run["learned_error"])
    assert chart(at, "funnel_backtest")["data"][0]["y"] == [
        None if pd.isna(e) else round(e * 100, 1) for e in tested["learned_error"]
    ]
    conversion = chart(at, "funnel_conversion")["data"][0]["x"]
    assert conversion == [
        None if pd.isna(c) else round(c * 100, 1) for c in s["stages"]["conversion"]
    ]
    if run["bulge_stage"]:
        assert any(run["bulge_stage"].replace("_", " ").capitalize() in w.value for w in at.warning)


def test_the_read_model_re_sums_the_stored_forecast_per_owner(page_db):
    s = stored(page_db)
    view = fr.funnel_view(page_db, SID)
    rows = view["forecast"].merge(
        s["forecast"], on=["period_start", "owner"], how="outer", suffixes=("", "_stored")
    )
    assert len(rows) == len(view["forecast"]) == len(s["forecast"])
    assert (rows["deals"] == rows["deals_stored"]).all()
    for col in ("naive", "won"):
        assert (rows[col] - rows[f"{col}_stored"].astype(float)).abs().max() < 0.005
    # Learned: the stored per-deal weighted amounts are rounded to the cent each.
    assert (
        (rows["learned"] - rows["learned_stored"].astype(float)).abs() <= 0.01 * rows["deals"]
    ).all()
    states = s["periods"][s["periods"]["period_start"] == s["run"]["period_start"]]
    assert dict(zip(states["state"], states["deals"], strict=True)) == dict(
        zip(view["states"]["state"], view["states"]["deals"], strict=True)
    )
    assert view["funnel"]["open_deals"].tolist() == s["stages"]["open_deals"].tolist()


def busiest(deals: pd.DataFrame, column: str) -> str:
    """The value of ``column`` with the most open deals."""
    return open_deals(deals)[column].value_counts().index[0]


def pick(at, filter_key: str, value: str, *, unselect: bool = False) -> None:
    box = at.multiselect(key=f"funnel_{filter_key}")
    (box.unselect if unselect else box.select)(value).run()
    assert not at.exception


def test_the_owner_filter_shows_that_owners_stored_forecast(page_db):
    s = stored(page_db)
    deals, owner = s["deals"], busiest(s["deals"], "owner_manager_id")
    at = open_page()
    pick(at, "owners", owner)
    assert_shows(at, deals[deals["owner"] == owner])
    expected = s["forecast"][s["forecast"]["owner"] == owner].set_index("period_start")
    table = forecast_table(at)
    assert (table.loc[expected.index, "deals"] == expected["deals"]).all()
    naive = table.loc[expected.index, "naive"] - expected["naive"].astype(float)
    assert naive.abs().max() < 0.005
    assert set(frame(at, "days_in_stage")["owner"]) <= {owner}
    assert any("stay the whole funnel's" in c.value for c in at.caption)


def test_the_product_line_and_tier_filters_narrow_the_deals(page_db):
    deals = stored(page_db)["deals"]
    line, tier = busiest(deals, "product_line_id"), busiest(deals, "tier")
    at = open_page()
    pick(at, "product_lines", line)
    assert_shows(at, deals[deals["product_line_id"] == line])
    pick(at, "tiers", tier)
    assert_shows(at, deals[(deals["product_line_id"] == line) & (deals["tier"] == tier)])
    pick(at, "product_lines", line, unselect=True)
    assert_shows(at, deals[deals["tier"] == tier])


def manage(engine, manager_id: str | None) -> None:
    """The demo account manager acts as ``manager_id`` (None: as nobody)."""
    with transaction(engine) as session:
        session.execute(
            update(AppUser)
            .where(AppUser.username == "account_manager")
            .values(manager_id=manager_id)
        )


def busiest_manager(engine, deals: pd.DataFrame) -> tuple[str, set[str]]:
    """The account manager whose accounts have the most open deals, and those accounts."""
    with engine.connect() as conn:
        managed = pd.DataFrame(
            conn.execute(select(Customer.customer_id, Customer.manager_id)).all()
        )
    per = open_deals(deals).merge(managed, on="customer_id")["manager_id"].value_counts()
    manager = per.index[0]
    return manager, set(managed.loc[managed["manager_id"] == manager, "customer_id"])


def test_an_account_manager_sees_the_deals_of_their_accounts_only(page_db):
    s = stored(page_db)
    manager, accounts = busiest_manager(page_db, s["deals"])
    manage(page_db, manager)
    at = open_page("account_manager")
    assert any("accounts you manage" in c.value for c in at.caption)
    assert_shows(at, s["deals"][s["deals"]["customer_id"].isin(accounts)])
    # The read model applies the rule (models.access.can_act_on_customer), not the page.
    identity = Identity("account_manager", Role.ACCOUNT_MANAGER, manager)
    assert set(fr.accounts_in_scope(page_db, identity)) == accounts
    assert fr.accounts_in_scope(page_db, Identity("v", Role.VIEWER)) is None
    assert not at.toggle  # no switch to the whole funnel (issue 19, item 7)
    assert not at.get("download_button")


def test_a_planner_sees_the_accounts_assigned_to_them(page_db):
    from models.plans.assignments import assign_accounts, assigned_accounts
    from tests.plan_builders import ADMIN

    s = stored(page_db)
    busiest = open_deals(s["deals"])["customer_id"].value_counts().index[0]
    assign_accounts(page_db, ADMIN, "planner", [busiest])
    accounts = set(assigned_accounts(page_db, "planner"))  # the demo plans' and ours
    at = open_page("planner")
    assert any("accounts assigned to you" in c.value for c in at.caption)
    assert_shows(at, s["deals"][s["deals"]["customer_id"].isin(accounts)])


def test_an_account_manager_without_accounts_is_told_and_sees_no_deal(page_db):
    manage(page_db, None)
    at = open_page("account_manager")
    assert any("None of your accounts has a deal" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.metric and not at.toggle


def test_someone_not_signed_in_gets_the_sign_in_form_only(page_db):
    at = app_test().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name or e-mail", "Password"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    assert not at.metric and not at.get("plotly_chart")


def test_a_deactivated_user_is_signed_out_of_the_page(page_db):
    at = open_page("viewer")
    assert at.metric
    with transaction(page_db) as session:
        session.execute(update(AppUser).where(AppUser.username == "viewer").values(is_active=False))
    at.run()
    assert "identity" not in at.session_state
    assert not at.metric and not at.get("plotly_chart")


def test_a_snapshot_without_a_funnel_says_what_to_run(page_db):
    with transaction(page_db) as session:
        for table in FUNNEL_TABLES:
            session.execute(delete(table).where(table.snapshot_id == SID))
    at = open_page()
    info = " ".join(i.value for i in at.info)
    assert "accountops recompute" in info and "holds no funnel" in info
    assert not at.get("plotly_chart") and not at.metric
    assert all("batch_id" in d.value for d in at.dataframe)  # provenance only
    assert fr.funnel_view(page_db, SID) is None


def test_downloads_go_through_the_audited_spreadsheet_safe_export(page_db):
    s = stored(page_db)
    at = open_page()
    button = at.download_button(key="export_funnel-forecast")
    assert button.proto.label == "Download CSV"
    button.click().run()
    assert not at.exception
    with page_db.connect() as conn:
        events = conn.execute(
            select(AuditEvent.target_id).where(AuditEvent.action == "export.download")
        ).scalars()
        assert list(events) == ["funnel-forecast"]
    # A customer name that a spreadsheet would run stays text in the chase download.
    deal = s["deals"][s["deals"]["state"].isin(["stalled", "regressed"])].iloc[0]
    with transaction(page_db) as session:
        session.execute(
            update(DashboardCustomer)
            .where(
                DashboardCustomer.snapshot_id == SID,
                DashboardCustomer.customer_id == deal["customer_id"],
            )
            .values(name='=HYPERLINK("http://x")')
        )
    chase = fr.funnel_view(page_db, SID)["chase"]
    assert '\'=HYPERLINK(""http://x"")' in render(chase, "csv")


def test_the_read_model_equals_the_stored_funnel_on_both_backends(engine, small_sample):
    """The same reads on SQLite and PostgreSQL: the whole funnel's view re-sums what the
    recompute stored, and a selection is a part of it."""
    from models.config import load_config
    from models.value.recompute import recompute
    from tests import value_builders as vb

    vb.load_sample(engine, small_sample)
    sid = recompute(engine, load_config()).snapshot_id
    with engine.connect() as conn:
        run, deals = stored_run(conn, sid), stored_deals(conn, sid)
        stages, forecast = stored_stages(conn, sid), stored_forecast(conn, sid)
    view = fr.funnel_view(engine, sid)
    assert view is not None and view["deals"] == len(deals)
    assert view["funnel"]["open_deals"].tolist() == stages["open_deals"].tolist()
    assert view["funnel"]["open_amount"].tolist() == [float(a) for a in stages["open_amount"]]
    assert view["forecast_totals"]["deals"].sum() == forecast["deals"].sum()
    assert view["forecast_totals"]["naive"].sum() == pytest.approx(
        float(sum(forecast["naive"])), abs=0.01
    )
    assert view["backtest"]["learned_error"].dropna().mean() == pytest.approx(run["learned_error"])
    owner = deals["owner_manager_id"].dropna().iloc[0]
    part = fr.funnel_view(engine, sid, owners=(owner,))
    assert part["deals"] == int((deals["owner_manager_id"] == owner).sum())
    assert set(part["chase"]["owner"]) <= {owner}


def test_the_forecasts_earlier_snapshots_made_meet_what_was_won(page_db):
    from models.funnel.store import forecast_track

    with page_db.connect() as conn:
        track = forecast_track(conn, SID)
    assert not track.empty  # the first snapshot forecast quarters that have closed since
    at = open_page("viewer")
    shown = frame(at, "forecast_as_of")
    assert len(shown) == len(track)
    assert shown["won"].round(2).tolist() == track["won"].astype(float).round(2).tolist()
    assert set(shown["forecast_as_of"].astype(str)) == {str(d) for d in track["forecast_as_of"]}
