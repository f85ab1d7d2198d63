"""End-to-end: no raw value reaches the screen (issue 21 item 1).

``accountops demo --no-dashboard`` builds the demo's data in a throw-away folder (once for
the module); the app serves it, and each role signs in to Chromium and opens every page
it may see, hidden ones (the plan, Data Docs) and a customer's own page included. On each:
no ``nan``, ``None`` or ``NaT`` in the page's text, its charts' text, or the text the data
grid keeps beside its canvas (column names, and cell values: a value turned into the word
"None" shows there); no arrow beside a change that prints as zero; and no request to a
host other than the app's own. A missing cell is drawn on the canvas, out of the
browser's reach: tests/dashboards/test_display.py checks each table's placeholder with
AppTest, and the one-snapshot and second-run cases. This test holds for any number of
demo snapshots.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboards.app_pages.registry import PAGES
from models.access import book_of, can
from models.auth import authenticate, demo_password
from models.dashboard import read
from models.db import make_engine
from models.plans.read import list_plans
from models.schema import Role
from tests.dashboards.pages_support import RAW_VALUE
from tests.e2e.conftest import LiveApp, start_app, stop_app, wait_ready
from tests.e2e.test_signin_roles import MAIN, NAV_LINK, sign_in, signed_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# The demo's own data, smaller than its default 500 customers: the build stays about a
# minute and every kind of customer (no group, prospects, problem tier) is still there.
DEMO_CUSTOMERS = 120
# A change that prints as zero: signs, currency and units around nothing but zeros.
ZERO = re.compile(r"^[^0-9]*0+(?:[.,]0+)?[^0-9]*$")
# Plotly's text (titles, ticks, labels, node names) and the accessible table the data grid
# keeps beside its canvas (headers, and the visible cells' values as text).
CHART_AND_CELL_TEXT = """(main) => [
    ...main.querySelectorAll('.js-plotly-plot svg text'),
    ...main.querySelectorAll('[data-testid="stDataFrame"] td, [data-testid="stDataFrame"] th'),
].map((e) => e.textContent)"""
DELTAS = """(main) => [...main.querySelectorAll('[data-testid="stMetricDelta"]')].map((d) => ({
    text: d.innerText.trim(),
    arrow: d.querySelector('[data-testid^="stMetricDeltaIcon"]') !== null,
}))"""


def _demo(folder: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=folder,
        env={**env, "PYTHONPATH": str(ROOT), "ACCOUNTOPS_DATA_DIR": str(folder / "data")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory) -> Iterator[LiveApp]:
    """The app on the demo's data, as ``accountops demo`` leaves it, with its demo users."""
    folder = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    _demo(folder, "demo", "--no-dashboard", "--customers", str(DEMO_CUSTOMERS))
    print(f"demo built in {time.monotonic() - started:.0f} s")
    url = f"sqlite:///{folder / 'data' / 'accountops.db'}"
    log = folder / "streamlit.log"
    with pytest.MonkeyPatch.context() as env:  # the app reads the demo's Data Docs too
        env.setenv("ACCOUNTOPS_DATA_DIR", str(folder / "data"))
        proc, base = start_app(url, log)
    try:
        yield LiveApp(base, {r.value: demo_password(r) for r in Role}, log, url)
    finally:
        stop_app(proc)
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


def _customer_to_open(app: LiveApp, role: Role) -> str | None:
    """A customer this role sees, one without a group where there is one (the case that
    printed "Group: nan")."""
    engine = make_engine(app.database_url)
    try:
        identity = authenticate(engine, role.value, app.users[role.value])
        sid = read.latest_snapshot_id(engine)
        table = read.customers(engine, sid, book=book_of(identity))
    finally:
        engine.dispose()
    if table.empty:
        return None
    no_group = table[table["group_name"].isna()]
    return str((no_group if len(no_group) else table)["customer_id"].iloc[0])


def _first_plan_customer(app: LiveApp) -> str | None:
    engine = make_engine(app.database_url)
    try:
        plans = list_plans(engine)
    finally:
        engine.dispose()
    return plans[0].customer_id if plans else None


def _check(page, where: str) -> list[str]:
    """What is wrong on the page now: raw values and arrows beside a zero change."""
    main = page.locator(MAIN)
    texts = [main.inner_text(), *main.evaluate(CHART_AND_CELL_TEXT)]
    problems = [
        f"{where}: {m.group(0)!r} in ...{t[max(m.start() - 60, 0) : m.end() + 20]!r}..."
        for t in texts
        for m in RAW_VALUE.finditer(t)
    ]
    for delta in main.evaluate(DELTAS):
        if delta["arrow"] and ZERO.match(delta["text"]):
            problems.append(f"{where}: an arrow beside a zero change {delta['text']!r}")
    return problems


def _settled(page, url: str) -> None:
    wait_ready(page)
    page.locator(f"{MAIN} h1").first.wait_for()
    wait_ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0, url


def _open(page, app: LiveApp, spec, path: str) -> None:
    """Open a page: through its menu link (one script run, no reload) where it has one; the
    landing page is open already after sign-in."""
    link = page.locator(NAV_LINK).filter(has_text=spec.title)
    if spec.hidden or (not spec.default and not link.count()):
        page.goto(f"{app.url}/{path}", wait_until="domcontentloaded")
    elif not spec.default:
        before = page.locator(f"{MAIN} h1").first.inner_text()
        link.first.click()
        page.wait_for_url(f"{app.url}/{path}")
        page.wait_for_function(  # the new page's content, not the previous one's
            "([sel, old]) => { const h = document.querySelector(sel);"
            " return h !== null && h.innerText !== old; }",
            arg=[f"{MAIN} h1", before],
        )
    _settled(page, f"{app.url}/{path}")


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_no_raw_value_no_zero_arrow_no_other_host_on_any_page(demo_app, new_page, role):
    page = new_page()
    own = urlsplit(demo_app.url).netloc
    elsewhere: list[str] = []
    page.context.on(
        "request",
        lambda r: (
            elsewhere.append(r.url)
            if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(r.url).netloc != own
            else None
        ),
    )
    page.goto(demo_app.url, wait_until="domcontentloaded")
    sign_in(page, role.value, demo_app.users[role.value])
    signed_in_as(page, role)

    plan_customer = _first_plan_customer(demo_app)
    problems: list[str] = []
    visited = []
    # Menu pages first (one click each), then those reached by a link (a page load each).
    for spec in sorted(PAGES, key=lambda s: s.hidden):
        if not can(role, spec.action):
            continue
        path = "" if spec.default else spec.url_path
        if spec.url_path == "plan" and plan_customer:
            path = f"plan?customer={plan_customer}"
        _open(page, demo_app, spec, path)
        problems += _check(page, f"{role.value} on /{path}")
        visited.append(spec.url_path)
        if spec.url_path == "customers":
            customer = _customer_to_open(demo_app, role)
            if customer is not None:
                main = page.locator(MAIN)
                main.locator('[data-testid="stSelectbox"]').filter(
                    has_text="Open a customer"
                ).click()
                page.keyboard.type(customer)
                page.get_by_role("option").filter(has_text=customer).first.click()
                wait_ready(page)
                main.get_by_text("Tier history and the reasons").wait_for()
                wait_ready(page)
                problems += _check(page, f"{role.value} on customer {customer}")
    assert visited, f"{role.value} saw no page"
    assert not problems, "\n".join(problems)
    assert not elsewhere, f"requests to other hosts: {sorted(set(elsewhere))}"
