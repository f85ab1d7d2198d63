"""Names are text, everywhere (issue 19, item 5): customer, group, manager, product line,
user, plan, initiative and roadmap item names holding Markdown or HTML show as the
characters they hold. Every string a page hands Streamlit as Markdown (bodies, labels,
tooltips) holds them escaped (``formatting.literal``), and every chart label holds them
HTML-escaped (``formatting.plain_for_plotly``). Chromium checks the rendered pages in
tests/e2e/test_hostile_names.py."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboards import charts, plan_charts
from dashboards import roadmap_charts as rc
from dashboards.formatting import literal, plain_for_plotly
from models.access import Identity
from models.plans.read import list_plans
from models.schema import Role
from tests.dashboards.conftest import app_test
from tests.dashboards.hostile_names import HOSTILE, make_names_hostile, unescaped
from tests.dashboards.pages_support import build_sample_database, private_copy

ESCAPED = literal(HOSTILE)
IN_PLOTLY = plain_for_plotly(HOSTILE)
MARKDOWN_FIELDS = {"body", "label", "help"}  # what Streamlit renders as Markdown


# -- charts: plain data in, the names HTML-escaped in every label -------------------------


def strings(value) -> list[str]:
    """Every string in a figure dict (titles, ticks, hover and node labels, custom data)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    if hasattr(value, "tolist"):
        return strings(value.tolist())
    return []


def assert_escaped(fig) -> None:
    found = strings(fig.to_dict())
    assert any(IN_PLOTLY in s for s in found), "the escaped name is not on the chart"
    raw = [s for s in found if any(f in s for f in ("<img", "<b>b", "<a href"))]
    assert not raw, raw


NAME = f"{HOSTILE} Ltd"


def test_manager_and_wallet_charts_hold_escaped_names():
    managers = pd.DataFrame({"manager": [NAME, "Plain"], "revenue": [10.0, 5.0]})
    assert_escaped(charts.manager_concentration(managers, "EUR"))
    effort = pd.DataFrame({"manager": [NAME], "segment": ["retain"], "accounts": [3]})
    assert_escaped(charts.segment_effort_bars(effort))
    wallet = pd.DataFrame({"product_line": [NAME], "potential": [10.0], "revenue": [4.0]})
    assert_escaped(charts.wallet_bars(wallet, "EUR"))
    points = pd.DataFrame(
        {
            "customer_id": [NAME],
            "product_line_id": ["PL-1"],
            "potential": [10.0],
            "share": [0.5],
            "segment": ["retain"],
        }
    )
    assert_escaped(charts.attack_defend_scatter(points, "EUR"))
    people = [{"name": NAME, "role": "user", "stance": "supporter", "influence": 3}]
    assert_escaped(plan_charts.buying_centre(people))


def test_roadmap_charts_hold_escaped_names():
    grid = pd.DataFrame(
        {
            "account": [NAME],
            "product_line": [NAME],
            "state": ["late"],
            "initiatives": [1],
            "value": [100.0],
            "months_late": [2],
        }
    )
    fig = rc.coverage_heatmap(grid, "EUR")
    assert_escaped(fig)
    assert fig.layout.yaxis.autorange == "reversed" and list(fig.data[0].y) == [
        plain_for_plotly(NAME)
    ]
    items = pd.DataFrame(
        {
            "roadmap_item_id": ["R1"],
            "item": [NAME],
            "product_line": [NAME],
            "accounts": [1],
            "value_served": [100.0],
        }
    )
    assert_escaped(rc.items_bars(items, "EUR"))
    unserved = pd.DataFrame(
        {"capability": [NAME], "initiatives": [1], "accounts": [1], "value_at_stake": [5.0]}
    )
    assert_escaped(rc.unserved_bars(unserved, "EUR"))
    misses = pd.DataFrame(
        {
            "initiative_id": ["I1"],
            "initiative": [NAME],
            "account": [NAME],
            "months_late": [2],
            "value_at_stake": [5.0],
            "weight": [10.0],
        }
    )
    assert_escaped(rc.misses_scatter(misses, "EUR"))
    needs = pd.DataFrame(
        {
            "initiative_id": ["I1"],
            "initiative": [NAME],
            "needed_by": [date(2026, 6, 1)],
            "timing": ["late"],
            "months_late": [2],
        }
    )
    served = pd.DataFrame(
        {
            "initiative_id": ["I1"],
            "roadmap_item_id": ["R1"],
            "item": [NAME],
            "release_on": [date(2026, 8, 1)],
            "timing": ["late"],
        }
    )
    assert_escaped(rc.account_timeline(needs, served, date(2026, 9, 30)))


# -- pages: a database whose names are hostile ---------------------------------------------


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-names")
    engine, ids, _ = build_sample_database(
        folder / "sample.db", folder / "csv", customers=60, before_recompute=make_names_hostile
    )
    assert ids == [1, 2]
    engine.dispose()
    return folder / "sample.db"


@pytest.fixture
def page_db(hostile_db, tmp_path, monkeypatch):
    with private_copy(hostile_db, tmp_path, monkeypatch) as engine:
        yield engine


def markdown_strings(at) -> list[str]:
    """Every string of the page Streamlit renders as Markdown: element bodies, labels and
    tooltips of every element and block (widget options, table cells and chart specs are
    plain text or checked apart)."""
    found: list[str] = []

    def fields(message) -> None:
        for field, value in message.ListFields():
            if field.type == field.TYPE_MESSAGE:
                for m in [value] if hasattr(value, "ListFields") else value:
                    fields(m)
            elif field.name in MARKDOWN_FIELDS and isinstance(value, str):
                found.append(value)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            fields(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def chart_strings(at) -> list[str]:
    return [s for c in at.get("plotly_chart") for s in strings(json.loads(c.proto.spec))]


def check_page(at, *, names_in_main: bool) -> None:
    assert not at.exception, [e.message for e in at.exception]
    texts = markdown_strings(at)
    raw = [t for t in texts if unescaped(t)]
    assert not raw, raw
    assert any(ESCAPED in t for t in texts)  # at least the signed-in user's name
    shown = [t for t in texts if ESCAPED in t]
    if names_in_main:
        assert len(shown) >= 2, shown  # the sidebar's, and one in the page
    in_charts = chart_strings(at)
    assert not [s for s in in_charts if any(f in s for f in ("<img", "<b>b", "<a href"))]


def open_as_admin(page: str, customer: str | None = None):
    at = app_test()
    at.session_state["identity"] = Identity("admin", Role.ADMIN)
    at.switch_page(f"app_pages/{page}.py")
    if customer:
        at.query_params["customer"] = customer
    return at.run()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "names_in_main", "named_charts"),
    [
        ("overview", False, 0),
        ("attack_defend", False, 1),  # the effort bars: one per manager
        ("receivables", False, 0),
        ("managers", True, 2),  # the metrics' tooltips; both concentration charts
        ("roadmap", True, 3),  # heatmap, items, timeline at least
        ("funnel", False, 0),
        ("plans", False, 0),
        ("data_health", False, 0),
        ("admin_users", False, 0),
        ("admin_audit", False, 0),
    ],
)
def test_every_page_shows_hostile_names_as_text(page_db, page, names_in_main, named_charts):
    at = open_as_admin(page)
    check_page(at, names_in_main=names_in_main)
    named = [
        c for c in at.get("plotly_chart") if IN_PLOTLY in c.proto.spec or "&lt;img" in c.proto.spec
    ]
    assert len(named) >= named_charts


@pytest.mark.slow
def test_an_opened_customer_and_its_plan_show_hostile_names_as_text(page_db):
    with_plan = {p.customer_id for p in list_plans(page_db)}
    at = open_as_admin("customers")
    picker = at.selectbox(key="customer_pick")
    index = next(i for i, o in enumerate(picker.options) if o.split(" · ")[-1] in with_plan)
    picker.set_value(index).run()
    check_page(at, names_in_main=True)
    header = at.header[0].value
    assert header.startswith(ESCAPED) and "**" not in header
    customer = picker.options[index].split(" · ")[-1]

    plan = open_as_admin("plan", customer)
    check_page(plan, names_in_main=True)
    assert plan.title[0].value.startswith(ESCAPED)
    assert any(ESCAPED in c.value for c in plan.caption)  # the customer's name


# -- exports: the names exactly as stored, formulas neutralised ----------------------------


def test_exports_hold_names_exactly_as_stored_and_neutralise_formulas(page_db):
    import csv
    import io

    from openpyxl import load_workbook

    from models.dashboard import read as rd
    from models.dashboard.spreadsheet import render_xlsx
    from models.value.exports import render

    table = rd.customers(page_db, 2)[["customer_id", "name", "manager"]].head(3).copy()
    assert table["name"].str.startswith(HOSTILE + " ").all()
    table.loc[table.index[0], "name"] = '=HYPERLINK("http://127.0.0.1:9/","x")'
    rows = list(csv.DictReader(io.StringIO(render(table, "csv"))))
    book = load_workbook(io.BytesIO(render_xlsx(table, "customers")), read_only=True)
    cells = [[c.value for c in row] for row in book.active.iter_rows(min_row=2)]
    for n, (name, manager) in enumerate(zip(table["name"], table["manager"], strict=True)):
        expected = "'" + name if n == 0 else name  # the existing rule: a formula is text
        assert rows[n]["name"] == expected and cells[n][1] == expected
        assert rows[n]["manager"] == manager and cells[n][2] == manager
        assert manager.startswith(HOSTILE)  # no escaping in files
