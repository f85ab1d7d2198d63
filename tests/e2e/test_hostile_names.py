"""End-to-end: names holding Markdown and HTML show as their characters on every page.

The app serves a database whose customer, group, manager, product line, user, plan,
initiative and roadmap item names start with ``HOSTILE`` (tests/dashboards/hostile_names.py).
An admin visits every page in Chromium (a customer and its plan opened too); no page
holds an element a name created: no image from its address, no ``javascript:`` or
remote link, no ``onerror`` handler, no bold ``x`` (Markdown) or ``b`` (HTML, Plotly),
and the names' characters are on screen. Screenshots: test-output/screenshots/hostile-*.png.
"""

from __future__ import annotations

import re
from functools import partial

import pytest

from dashboards.app_pages.registry import PAGES
from models.access import can
from models.db import make_engine
from models.plans.read import list_plans
from models.schema import Role
from tests.dashboards.hostile_names import BOLD, HOSTILE, IMG_TAG, SCRIPT_LINK, make_names_hostile
from tests.e2e.conftest import screenshot, start_app, stop_app, wait_ready
from tests.e2e.test_signin_roles import MAIN, NAV_LINK, SIDEBAR, sign_in, signed_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Every element on the page a name could have made; each found one is reported.
CREATED_BY_A_NAME = """() => {
  const bad = [];
  const root = document.querySelector('[data-testid="stApp"]');
  const html = (el) => el.outerHTML.slice(0, 160);
  for (const el of root.querySelectorAll('img')) {
    const src = el.getAttribute('src') || '';
    if (src.includes('127.0.0.1:9') || src === 'x' || el.getAttribute('alt') === 'i')
      bad.push('image: ' + html(el));
  }
  for (const el of root.querySelectorAll('a')) {
    const href = el.getAttribute('href') || el.getAttribute('xlink:href') || '';
    const text = el.textContent.trim();
    if (href.startsWith('javascript:') || href.includes('127.0.0.1:9') || text === 'a'
        || text === 'h')
      bad.push('link: ' + html(el));
  }
  for (const el of root.querySelectorAll('[onerror]')) bad.push('handler: ' + html(el));
  for (const el of root.querySelectorAll('strong, b')) {
    const text = el.textContent.trim();
    if (text === 'x' || text === 'b') bad.push('bold: ' + html(el));
  }
  for (const el of root.querySelectorAll('tspan')) {  // Plotly draws <b> as a bold tspan
    if (el.textContent.trim() === 'b' && /bold/.test(el.getAttribute('style') || ''))
      bad.push('chart bold: ' + html(el));
  }
  return bad;
}"""
CHART_TEXT = """() => Array.from(document.querySelectorAll('.js-plotly-plot text'))
  .map((t) => t.textContent).join('\\n')"""
# Pages whose main area shows a name in Markdown, and pages whose charts label names.
NAMES_IN_TEXT = {"roadmap"}
NAMES_IN_CHARTS = {"attack_defend", "managers", "roadmap"}


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    from tests.dashboards.pages_support import build_sample_database

    folder = tmp_path_factory.mktemp("e2e-hostile")
    users: dict[str, str] = {}
    engine, _, _ = build_sample_database(
        folder / "accountops.db",
        folder / "sample",
        customers=60,
        before_recompute=partial(make_names_hostile, users=users),
    )
    engine.dispose()
    url = f"sqlite:///{folder / 'accountops.db'}"
    log = folder / "streamlit.log"
    proc, base = start_app(url, log)
    try:
        yield base, users, url
    finally:
        stop_app(proc)
    assert "Traceback" not in log.read_text(errors="replace")


def assert_only_text(page, name: str) -> None:
    wait_ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0, name
    created = page.evaluate(CREATED_BY_A_NAME)
    if created:
        screenshot(page, f"hostile-{name}")
    assert not created, (name, created)
    # The signed-in user's display name, as its characters, on every page.
    assert BOLD in page.locator(SIDEBAR).inner_text(), name


def assert_text_shown(page, name: str) -> None:
    text = page.locator(MAIN).inner_text()
    for part in (BOLD, SCRIPT_LINK, IMG_TAG):
        assert part in text, (name, part)


def test_hostile_names_show_as_text_on_every_page(hostile_app, page):
    base, users, url = hostile_app
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(base, wait_until="domcontentloaded")
    sign_in(page, "admin", users["admin"])
    signed_in_as(page, Role.ADMIN)
    nav = page.locator(NAV_LINK)
    for spec in [s for s in PAGES if can(Role.ADMIN, s.action) and not s.hidden]:
        if not spec.default:
            before = page.locator(f"{MAIN} h1").first.inner_text()
            nav.filter(has_text=spec.title).click()
            page.wait_for_url(re.compile(rf"/{spec.url_path}$"))
            page.wait_for_function(
                "([sel, old]) => { const h = document.querySelector(sel);"
                " return h !== null && h.innerText !== old; }",
                arg=[f"{MAIN} h1", before],
            )
        assert_only_text(page, spec.url_path)
        if spec.url_path in NAMES_IN_TEXT:
            assert_text_shown(page, spec.url_path)
        if spec.url_path in NAMES_IN_CHARTS:
            assert IMG_TAG in page.evaluate(CHART_TEXT), spec.url_path
        screenshot(page, f"hostile-{spec.url_path}")

    # One customer with a plan, opened on Customers; then its plan through the page link.
    engine = make_engine(url)
    try:
        customer = sorted(p.customer_id for p in list_plans(engine))[0]
    finally:
        engine.dispose()
    nav.filter(has_text="Customers").click()
    page.wait_for_url(re.compile(r"/customers$"))
    wait_ready(page)
    # A filter's options list the managers' names: open, they are text too.
    page.locator('[data-testid="stMultiSelect"]').filter(has_text="Account manager").click()
    options = page.get_by_role("option").filter(has_text=BOLD)
    options.first.wait_for()  # the names, as their characters
    assert_only_text(page, "manager-filter")
    page.keyboard.press("Escape")
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Open a customer")
    picker.click()
    page.keyboard.type(customer)
    page.get_by_role("option", name=re.compile(re.escape(customer))).first.click()
    page.locator(f"{MAIN} h2").filter(has_text=customer).wait_for()
    assert_only_text(page, "customer")
    assert_text_shown(page, "customer")
    screenshot(page, "hostile-customer")

    page.locator('[data-testid="stPageLink"]').filter(has_text="Strategic-account plan").click()
    page.wait_for_url(re.compile(rf"/plan\?customer={re.escape(customer)}$"))
    page.locator(f"{MAIN} h1").filter(has_text=HOSTILE[:5]).wait_for()
    assert_only_text(page, "plan")
    assert_text_shown(page, "plan")
    screenshot(page, "hostile-plan")
