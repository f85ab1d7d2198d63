"""What the dashboard prints (issue 21 item 1, issue 23 item 6): no raw nan / None / NaT,
no arrow and no colour on a change of zero, words instead of a figure that cannot be
compared yet, and one rounding rule (half up) for every figure, hover value and rounded
table column.

The page tests run the app (AppTest) on the sample data loaded the production way, after
one pipeline run (one snapshot: nothing to compare yet) and after a second run on the same
data (a previous snapshot, every change zero).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import update

from dashboards import charts
from dashboards.app_pages.registry import PAGES
from dashboards.formatting import (
    DASH,
    FIRST_SNAPSHOT,
    NO_CHANGE,
    count_change,
    days_change,
    elapsed,
    metric_delta,
    money,
    money_change,
    number,
    points_change,
    previous,
    rounded,
    rounded_columns,
    text,
)
from models.access import Identity, can
from models.config import load_config
from models.dashboard import read as rd
from models.dashboard import refresh_dashboard
from models.db import make_engine, transaction
from models.migrate import upgrade
from models.schema import DashboardCustomer, DashboardManager, DashboardSegmentEffort, Role
from models.users import add_user
from models.value.recompute import recompute
from tests.dashboards.conftest import app_test
from tests.dashboards.pages_support import RAW_VALUE, load_sample

CONFIG = load_config()


# --- the formatting rules, one value at a time -------------------------------------------


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NaT, pd.NA, ""])
def test_a_missing_value_reads_as_a_dash_or_the_words_given(missing):
    assert text(missing) == DASH
    assert text(missing, "no group") == "no group"
    assert text("Hansa") == "Hansa"
    assert previous(missing, has_previous=False) == FIRST_SNAPSHOT
    assert previous(missing, has_previous=True) == "new"
    assert previous("Gold", has_previous=True) == "Gold"


def test_a_run_duration_is_whole_seconds_half_up():
    assert elapsed(2.5) == "3 s"  # half to even would print 2 s
    assert elapsed(186.5) == "3 min 07 s"
    assert elapsed(3900) == "1 h 05 min"
    assert elapsed(None) == elapsed(float("nan")) == ""


def test_a_change_that_prints_as_zero_is_no_change_without_arrow_or_colour():
    # SQLite sums money as floats: a second run on the same data differs by noise.
    assert money_change(31039.5 + 1e-9, 31039.5, "EUR") == NO_CHANGE
    assert money_change(100.4, 100, "EUR") == NO_CHANGE  # prints as €0
    assert points_change(0.41004, 0.41) == NO_CHANGE  # +0.004 pts prints as +0.0
    assert days_change(30.04, 30) == NO_CHANGE
    assert count_change(12, 12) == NO_CHANGE
    assert metric_delta(NO_CHANGE) == {
        "delta": NO_CHANGE,
        "delta_color": "off",
        "delta_arrow": "off",
    }
    # Unknown: nothing to compare, no delta at all.
    assert money_change(10, None, "EUR") is None
    assert days_change(float("nan"), 3) is None
    assert metric_delta(None, "inverse") == {"delta": None, "delta_color": "inverse"}
    # A real change keeps its arrow, its sign and its colour rule.
    assert money_change(1500, 100, "EUR") == "€1.4k"
    assert money_change(100, 1500, "EUR") == "-€1.4k"
    assert metric_delta("-€1.4k", "inverse") == {"delta": "-€1.4k", "delta_color": "inverse"}
    assert count_change(3, 1) == "+2"


def test_changes_round_half_up_not_half_to_even():
    assert money_change(0.5, 0, "EUR") == "€1"  # half to even: €0, no change
    assert points_change(0.00125, 0) == "+0.1 pts"  # 0.125 pts
    assert days_change(2.25, 0) == "+2.3 days"  # half to even: +2.2
    assert count_change(2.5, 0) == "+3"


def test_figures_round_half_up_not_half_to_even():
    assert number(2.5) == "3" and number(0.125, 2) == "0.13"
    assert number(31039.5) == "31,040" and number(2.5, unit=" months") == "3 months"
    assert number(None) == DASH
    assert rounded(pd.Series([0.125, 2.5, 31039.5, None])) == [0.0, 3.0, 31040.0, None]
    assert rounded(pd.Series([0.125]), 2) == [0.13]
    assert rounded(pd.Series([0.0625]), 1, scale=100) == [6.3]
    table = rounded_columns(
        pd.DataFrame({"revenue": [31039.5, 2.5], "name": ["a", "b"]}), {"revenue": 0}
    )
    assert table["revenue"].tolist() == [31040.0, 3.0] and table["name"].tolist() == ["a", "b"]


# --- chart hover values: the same rule -----------------------------------------------------


def test_chart_values_round_half_up():
    points = pd.DataFrame({"customer_share": [0.00125, 1.0], "revenue_share": [0.00125, 1.0]})
    pareto = charts.pareto_points(points, 2, 1000.0, "EUR").to_dict()["data"][0]
    assert list(pareto["x"])[1] == 0.13 and list(pareto["y"])[1] == 0.13  # even: 0.12

    managers = pd.DataFrame({"manager": ["A", "B"], "revenue": [1.0, 15.0]})  # 6.25%
    bars = charts.manager_concentration(managers, "EUR").to_dict()["data"][0]
    assert sorted(bars["x"]) == [6.3, 93.8]  # even: 6.2 and 93.8

    segments = pd.DataFrame(
        {
            "customer_id": ["C-1"],
            "product_line_id": ["P-1"],
            "potential": [1000.0],
            "share": [0.0625],
            "segment": ["retain"],
        }
    )
    scatter = charts.attack_defend_scatter(segments, "EUR").to_dict()["data"][0]
    assert list(scatter["y"]) == [6.3]

    history = pd.DataFrame(
        {"as_of": ["2026-03-31", "2026-09-30"], "tier": ["gold", "gold"], "revenue": [1, 2]}
    ).assign(score=[0.0625, 0.0125])
    line = charts.customer_history_chart(history, "EUR").to_dict()["data"][1]
    assert list(line["y"]) == [6.3, 1.3]  # even: 6.2, 1.2

    trend = pd.DataFrame({"month": [date(2026, 8, 31), date(2026, 9, 30)], "dso": [2.25, 2.5]})
    dso = charts.dso_trend(trend).to_dict()["data"][0]
    assert list(dso["y"]) == [2.3, 2.5]  # even: 2.2


# --- the pages, after one pipeline run and after a second on the same data -----------------


def _pipeline(engine) -> None:
    recompute_ = recompute(engine, CONFIG)
    refresh_dashboard(engine, recompute_.snapshot_id, CONFIG)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_sample) -> dict[str, Path]:
    """Two SQLite files of the small sample: after one pipeline run, and after a second
    run on the same data (no new file loaded)."""
    folder = tmp_path_factory.mktemp("display")
    one = folder / "one.db"
    engine = make_engine(f"sqlite:///{one}")
    upgrade(engine)
    load_sample(engine, small_sample)
    _pipeline(engine)
    engine.dispose()
    two = folder / "two.db"
    shutil.copy(one, two)
    engine = make_engine(f"sqlite:///{two}")
    _pipeline(engine)
    engine.dispose()
    return {"one": one, "two": two}


@pytest.fixture
def app_on(runs, tmp_path, monkeypatch) -> Iterator:
    """``app_on("one" | "two", role)`` -> (AppTest signed in as ``role``, engine) on a
    private copy of that run's database."""
    engines = []

    def make(which: str, role: str = "viewer"):
        db = tmp_path / f"{which}-{len(engines)}.db"
        shutil.copy(runs[which], db)
        url = f"sqlite:///{db}"
        monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", url)
        monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "password")
        monkeypatch.setenv("ACCOUNTOPS_ENV", "test")
        engine = make_engine(url)
        engines.append(engine)
        with transaction(engine) as session:
            add_user(session, f"test-{role}", Role(role), None, actor="test")
        at = app_test()
        at.session_state["identity"] = Identity(f"test-{role}", Role(role), None, role)
        return at, engine

    yield make
    for engine in engines:
        engine.dispose()


def _open(at, page: str):
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _shown_text(at) -> str:
    """Every piece of text the page printed, labels and values of its metrics included."""
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning")
        for e in at.get(kind)
    ]
    parts += [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def _raw_values(at, where: str) -> list[str]:
    problems = [f"{where}: {m.group(0)!r} printed" for m in RAW_VALUE.finditer(_shown_text(at))]
    for frame in at.dataframe:
        if frame.proto.placeholder != DASH and frame.value.isna().any().any():
            problems.append(f"{where}: a table shows a missing value as 'None'")
    return problems


def _open_customer(at, engine, snapshot_id: int) -> pd.Series:
    """Open the largest customer without a group (the case that printed "Group: nan")."""
    table = rd.customers(engine, snapshot_id)
    customer = table[table["group_name"].isna()].iloc[0]
    labels = (table["name"] + " · " + table["customer_id"]).tolist()
    at.selectbox(key="customer_pick").select_index(
        labels.index(f"{customer['name']} · {customer['customer_id']}")
    ).run()
    assert not at.exception, [e.message for e in at.exception]
    return customer


@pytest.mark.slow
def test_one_snapshot_says_what_it_cannot_compare_yet(app_on):
    at, engine = app_on("one")
    _open(at, "app_pages/overview.py")
    assert len(at.get("plotly_chart")) == 2  # pyramid and Pareto; no Sankey of "New"
    infos = " ".join(i.value for i in at.info)
    assert "Tier migrations compare two snapshots" in infos and "nothing to compare yet" in infos
    assert all(not m.proto.delta for m in at.metric)  # no delta drawn at all
    assert "nothing to compare yet" in " ".join(c.value for c in at.caption)

    _open(at, "app_pages/customers.py")
    table = next(d.value for d in at.dataframe if "previous_tier" in d.value.columns)
    assert set(table["previous_tier"]) == {FIRST_SNAPSHOT}
    customer = _open_customer(at, engine, 1)
    line = " ".join(m.value for m in at.markdown if "**Tier:**" in m.value)
    assert f"({FIRST_SNAPSHOT})" in line and "**Group:** no group" in line, line
    assert "was new" not in line
    assert len(at.get("plotly_chart")) == 1  # the wallet; one snapshot draws no history bar
    assert any("Revenue and score over time compare two snapshots" in i.value for i in at.info), (
        customer["customer_id"]
    )
    moves = next(d.value for d in at.dataframe if "migration" in d.value.columns)
    assert set(moves["migration"]) == {FIRST_SNAPSHOT}  # not "new" for everyone
    assert not _raw_values(at, "customer page")

    _open(at, "app_pages/managers.py")
    books = next(d.value for d in at.dataframe if "upgrades" in d.value.columns)
    assert books["upgrades"].isna().all() and books["downgrades"].isna().all()  # not 0
    assert any("Upgrades and downgrades compare two snapshots" in c.value for c in at.caption)


def _no_change_anywhere(at) -> None:
    _open(at, "app_pages/overview.py")
    deltas = {m.label: m.proto for m in at.metric if m.proto.delta}
    # The five headline figures and the six tier counts: all unchanged.
    assert len(deltas) == 11, list(deltas)
    for label, proto in deltas.items():
        assert proto.delta == NO_CHANGE, (label, proto.delta)
        assert proto.direction == proto.MetricDirection.NONE, label  # no arrow
        assert proto.color == proto.MetricColor.GRAY, label  # no red, no green
    assert len(at.get("plotly_chart")) == 3  # now a previous snapshot: the Sankey


@pytest.mark.slow
def test_a_second_run_shows_no_change_on_both_backends(db_url, small_sample, monkeypatch):
    """SQLite sums money as floats and PostgreSQL exactly: either way, no change."""
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        load_sample(engine, small_sample)
        _pipeline(engine)
        _pipeline(engine)
        with transaction(engine) as session:
            add_user(session, "test-viewer", Role.VIEWER, None, actor="test")
    finally:
        engine.dispose()
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "password")
    monkeypatch.setenv("ACCOUNTOPS_ENV", "test")
    at = app_test()
    at.session_state["identity"] = Identity("test-viewer", Role.VIEWER, None, "viewer")
    _no_change_anywhere(at)


@pytest.mark.slow
def test_a_second_run_on_the_same_data_shows_no_change_without_arrows(app_on):
    at, engine = app_on("two")
    _no_change_anywhere(at)

    _open(at, "app_pages/customers.py")
    table = next(d.value for d in at.dataframe if "previous_tier" in d.value.columns)
    assert FIRST_SNAPSHOT not in set(table["previous_tier"])
    _open_customer(at, engine, 2)
    assert len(at.get("plotly_chart")) == 2  # two snapshots of this customer: the history
    moves = next(d.value for d in at.dataframe if "migration" in d.value.columns)
    # Newest first: the second snapshot's move, then the first snapshot's, which had
    # nothing before it (it used to read "new").
    assert list(moves["migration"])[1] == FIRST_SNAPSHOT
    assert list(moves["migration"])[0] != FIRST_SNAPSHOT


@pytest.mark.slow
@pytest.mark.parametrize("which", ["one", "two"])
def test_no_page_prints_a_raw_value_for_any_role(app_on, which):
    problems = []
    for role in Role:
        at, _ = app_on(which, role.value)
        at.run()
        for spec in PAGES:
            if can(role, spec.action):
                _open(at, spec.file)
                problems += _raw_values(at, f"{role.value} on {spec.url_path} ({which} run)")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_rounded_table_columns_round_half_up(app_on):
    at, engine = app_on("two")
    with transaction(engine) as session:
        session.execute(
            update(DashboardCustomer)
            .where(DashboardCustomer.snapshot_id == 2)
            .values(outstanding=31039.5, overdue=2.5)
        )
        session.execute(
            update(DashboardManager)
            .where(DashboardManager.snapshot_id == 2)
            .values(revenue=31039.5, relationship_revenue_at_risk=0.5)
        )
        session.execute(
            update(DashboardSegmentEffort)
            .where(DashboardSegmentEffort.snapshot_id == 2)
            .values(potential=2.5, revenue=31039.5)
        )
    _open(at, "app_pages/receivables.py")
    owing = next(d.value for d in at.dataframe if "overdue" in d.value.columns)
    assert set(owing["outstanding"]) == {31040} and set(owing["overdue"]) == {3}
    _open(at, "app_pages/managers.py")
    mgr = next(d.value for d in at.dataframe if "relationship_revenue_at_risk" in d.value)
    assert set(mgr["revenue"]) == {31040} and set(mgr["relationship_revenue_at_risk"]) == {1}
    _open(at, "app_pages/attack_defend.py")
    effort = next(d.value for d in at.dataframe if "potential" in d.value.columns)
    assert set(effort["potential"]) == {3} and set(effort["revenue"]) == {31040}
    assert money(31039.5, "EUR") == "€31,040"  # as the metrics print it
