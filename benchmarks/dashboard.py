"""Page times of the dashboard with N customers: the executive pages (AppTest, no
browser) and the planner pages in a real headless browser (Chromium).

    python benchmarks/dashboard.py [--customers 500|50000] [--years 2] [--rebuild]
        [--fast [--lines-per-customer 60]] [--plans 1000] [--warm 5]

1. Builds (or reuses) ``var/bench-dashboard-sample-<N>.db``: sample CSVs from the
   generator, loaded through the ingest service (real validation), one recompute, the
   dashboard refresh. ``--fast`` bulk-loads benchmarks/recompute.py's synthetic book
   instead (``var/bench-dashboard-fast-<N>.db``): the ingest service would need most of an
   hour for 50,000 customers. Build times are reported (``build_*_seconds``,
   ``refresh_seconds``).
2. With ``--plans N`` (default 1000; 0 skips this and step 4): makes sure the database
   holds N plans (benchmarks/plans.py's ``add_plans`` on customers without one), then a
   recompute and the dashboard refresh, so the plans are reviewed in a published
   snapshot (``build_plans_seconds``, only when it had to add or review plans). Creates
   (or resets, on a reused database) the users ``bench-planner`` (role planner, assigned
   every plan's account) and ``bench-viewer`` with known passwords.
3. Renders every executive page with ``streamlit.testing.v1.AppTest`` in one session:
   a first load (empty caches) and a second, cached load.
4. Starts the app as tests/e2e's ``live_app`` does (``streamlit run``, password sign-in)
   and drives Debian's Chromium (``/usr/bin/chromium``) with Playwright, in one browser
   session per user. As the planner: signs in on ``/plans`` (``browser_first_plans``:
   from the Sign-in click to the list ready, so it includes the password check), picks
   the first row and follows its "Open the plan of ..." link (``browser_first_plan``),
   then ``--warm`` times: the sidebar's "Account plans" (``browser_warm_plans``), the
   row pick (``browser_warm_pick``: a rerun of the list) and the link again
   (``browser_warm_plan``); medians, every run in ``*_runs``. The same as the viewer
   (read-only plan): ``browser_*_viewer``. Each time is the browser's own clock from the
   click to the first animation frame where the app is idle (connected, no script
   running, no loading placeholder) under the new page's heading, with the plans grid
   shown (list), or (plan) after a click on the Targets tab (in the browser only) its
   grid shown. The server's log goes to ``var/bench-dashboard-streamlit.log``, a
   screenshot of each user's last plan page (or of a failure) to ``var/``.

A kept database is first migrated to the code's schema (``--rebuild`` for a fresh one).

``seconds`` is the slowest executive page's cached render (the aim: under 2 s with 50,000
customers); per-page figures are ``first_<page>`` and ``cached_<page>``. The aim for the
planner pages: each within 2 s warm at 50,000 customers and 1,000 plans.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from common import progress, report, stopwatch

ROOT = Path(__file__).resolve().parents[1]

PAGES = ["overview", "customers", "attack_defend", "receivables", "managers", "data_health"]
AS_OF = date(2026, 10, 1)

# The benchmark's users of the app (password sign-in): name, password, role value.
PLANNER = ("bench-planner", "bench-planner-password", "planner")
VIEWER = ("bench-viewer", "bench-viewer-password", "viewer")
CHROMIUM = Path(os.environ.get("ACCOUNTOPS_CHROMIUM", "/usr/bin/chromium"))
BROWSER_TIMEOUT_MS = 180_000  # a first load at 50,000 customers on a busy 2-core machine


def build(db: Path, customers: int, years: int) -> dict[str, float]:
    from expectations.runner import SuiteRunner
    from models.canonical import LOAD_ORDER
    from models.config import load_config
    from models.dashboard import refresh_dashboard
    from models.db import make_engine
    from models.ingest import ingest_config, ingest_file
    from models.migrate import upgrade
    from models.sampledata import generate_sample
    from models.value.recompute import recompute

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with stopwatch() as t:
            generate_sample(folder, customers=customers, years=years, seed=11)
        figures["build_sample_seconds"] = round(t(), 2)
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        config = load_config()
        icfg = ingest_config(config)
        runner = SuiteRunner(icfg, AS_OF)
        with stopwatch() as t:
            for name in LOAD_ORDER:
                path = folder / f"{name}.csv"
                if path.exists():
                    result = ingest_file(engine, path, validator=runner, config=icfg, as_of=AS_OF)
                    progress(f"ingest {name}: {result.outcome} {result.rows_loaded:,} rows")
        figures["build_ingest_seconds"] = round(t(), 2)
    with stopwatch() as t:
        snap = recompute(engine, config)
    figures["build_recompute_seconds"] = round(t(), 2)
    with stopwatch() as t:
        refresh_dashboard(engine, snap.snapshot_id, config)
    figures["refresh_seconds"] = round(t(), 2)
    engine.dispose()
    return figures


def build_fast(db: Path, customers: int, lines_per_customer: int) -> dict[str, float]:
    """A synthetic book bulk-loaded as benchmarks/recompute.py does (no validation), for
    sizes where the ingest service would take most of an hour; then recompute + refresh."""
    import numpy as np
    import recompute as book
    from sqlalchemy import text

    from models.config import load_config
    from models.dashboard import refresh_dashboard
    from models.db import make_engine
    from models.migrate import upgrade
    from models.value.recompute import recompute

    rng = np.random.default_rng(11)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    loader = book.Loader(engine)
    figures = {}
    with stopwatch() as t:
        batch = loader.batch("bench-dashboard")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO product_line (product_line_id, name) VALUES (:p, :p)"),
                [{"p": p} for p in book.PRODUCT_LINES],
            )
            conn.execute(
                text("INSERT INTO account_manager (manager_id, name) VALUES (:m, :m)"),
                [{"m": f"AM-{i:04d}"} for i in range(200)],
            )
        loader.load("customer", book.customers_frame(customers, rng), batch)
        total, done, next_invoice = customers * lines_per_customer, 0, 1
        while done < total:
            todo = min(book.LINES_PER_CHUNK, total - done)
            inv, lines, pays, n_inv = book.invoice_chunk(
                rng, customers, todo, next_invoice, 0, book.DAYS
            )
            next_invoice += n_inv
            for table, frame in (("invoice", inv), ("invoice_line", lines), ("payment", pays)):
                loader.load(table, frame, batch)
            done += len(lines)
            progress(f"loaded {done:,} lines")
        loader.load("wallet_estimate", book.wallet_frame(customers, rng), batch)
    figures["build_load_seconds"] = round(t(), 2)
    config = load_config()
    with stopwatch() as t:
        snap = recompute(engine, config)
    figures["build_recompute_seconds"] = round(t(), 2)
    with stopwatch() as t:
        refresh_dashboard(engine, snap.snapshot_id, config)
    figures["refresh_seconds"] = round(t(), 2)
    engine.dispose()
    return figures


def migrate(db: Path) -> None:
    """Bring a kept database to the code's schema (a migration may have come since)."""
    from models.db import make_engine
    from models.migrate import upgrade

    engine = make_engine(f"sqlite:///{db}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def ensure_plans(db: Path, count: int) -> dict[str, float]:
    """At least ``count`` plans in the database, reviewed in the latest published snapshot
    (adds the missing ones on customers without a plan, then recompute + refresh); the
    planner and viewer users, the planner assigned every plan's account."""
    import numpy as np
    import plans as bench_plans
    import recompute as book
    from sqlalchemy import func, select

    from models.access import Identity, Role
    from models.config import load_config
    from models.dashboard import refresh_dashboard
    from models.dashboard.read import latest_snapshot_id
    from models.db import make_engine
    from models.plans.assignments import assign_accounts
    from models.schema import AccountPlan, Customer
    from models.schema.plans import PlanReview
    from models.value.recompute import recompute

    engine = make_engine(f"sqlite:///{db}")
    figures: dict[str, float] = {}
    try:
        with engine.connect() as conn:
            have = set(conn.scalars(select(AccountPlan.customer_id)))
        rng = np.random.default_rng(17)
        with stopwatch() as t:
            if len(have) < count:
                if not have:
                    bench_plans.add_plans(engine, count, rng)
                else:  # a reused database with fewer plans: add them on other customers
                    with engine.connect() as conn:
                        free = sorted(set(conn.scalars(select(Customer.customer_id))) - have)
                    if count - len(have) > len(free):
                        raise SystemExit(f"--plans {count}: the book has too few customers")
                    chosen = [str(c) for c in rng.choice(free, count - len(have), replace=False)]
                    bench_plans.store_plans(
                        engine, [bench_plans.plan_content(c, rng, book.END) for c in chosen]
                    )
                progress(f"stored {count - len(have):,} plans ({t():.1f} s)")
            elif len(have) > count:
                progress(f"note: the database holds {len(have):,} plans, more than --plans")
            with engine.connect() as conn:
                ids = sorted(conn.scalars(select(AccountPlan.customer_id)))
                published = latest_snapshot_id(engine)
                reviewed = conn.scalar(
                    select(func.count()).where(PlanReview.snapshot_id == published)
                )
            if reviewed < len(ids):
                config = load_config()
                with stopwatch() as rc:
                    snap = recompute(engine, config)
                progress(f"recompute with {len(ids):,} plans: {rc():.1f} s")
                with stopwatch() as rf:
                    refresh_dashboard(engine, snap.snapshot_id, config)
                progress(f"refresh: {rf():.1f} s")
                figures |= {
                    "build_plans_recompute_seconds": round(rc(), 2),
                    "build_plans_refresh_seconds": round(rf(), 2),
                }
        if figures:
            figures["build_plans_seconds"] = round(t(), 2)
        ensure_users(engine)
        assign_accounts(engine, Identity("bench", Role.ADMIN), PLANNER[0], ids)
        figures["plans"] = len(ids)
    finally:
        engine.dispose()
    return figures


def ensure_users(engine) -> None:
    """The planner and the viewer with their known passwords (created, or set back)."""
    from sqlalchemy import select

    from models.db import transaction
    from models.schema import AppUser, Role
    from models.users import add_user, hash_password, verify_password

    with transaction(engine) as session:
        for name, password, role in (PLANNER, VIEWER):
            user = session.scalar(select(AppUser).where(AppUser.username == name))
            if user is None:
                add_user(session, name, Role(role), password, actor="bench-dashboard")
                continue
            user.role, user.is_active = Role(role), True
            if not verify_password(password, user.password_hash):
                user.password_hash = hash_password(password)


def render(db: Path) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    os.environ.update(
        ACCOUNTOPS_DATABASE_URL=f"sqlite:///{db}", ACCOUNTOPS_AUTH_MODE="dev", ACCOUNTOPS_ENV="dev"
    )
    at = AppTest.from_file(str(ROOT / "dashboards" / "streamlit_app.py"), default_timeout=300)
    with stopwatch() as t:
        at.run()  # the landing page: the overview, first load
    figures = {"first_overview": round(t(), 3)}
    progress(f"first overview: {t():.2f} s")
    for rnd in ("first", "cached"):
        for page in PAGES:
            if rnd == "first" and page == "overview":
                continue
            with stopwatch() as t:
                at.switch_page(f"app_pages/{page}.py").run()
            if at.exception:
                raise SystemExit(f"{page} failed: {at.exception[0].message}")
            figures[f"{rnd}_{page}"] = round(t(), 3)
            progress(f"{rnd} {page}: {t():.2f} s")
    return figures


# --- the planner pages in a browser ---------------------------------------------------------


def start_app(db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run`` on a free port as tests/e2e's ``live_app`` does; (process, URL)."""
    from tests.e2e.conftest import start_app as start

    with stopwatch() as t:
        proc, base = start(f"sqlite:///{db}", log)
    progress(f"streamlit healthy at {base} after {t():.1f} s")
    return proc, base


# Playwright's selector waits poll at 0, 20, 50, 100, 100, then every 500 ms: too coarse for
# sub-second pages. The waits below are one page function polled on each animation frame,
# and the times are the browser's own: from the click (a capture listener armed just
# before it) to the frame where everything asked for is there.
CLICK_CLOCK = """
window.addEventListener('click', () => {
  if (window.__benchArmed) { window.__benchArmed = false; window.__benchClick = performance.now(); }
}, true);
"""
SETTLED_JS = """([main, ready, loading, old, want, extra]) => {
  const h = document.querySelector(main + ' h1');
  if (h === null) return false;
  const t = h.innerText.trim();
  if (t === old || (want !== null && t !== want)) return false;  // not the new page yet
  if (document.querySelector(ready) === null) return false;  // a script still running
  if (document.querySelectorAll(loading).length) return false;  // placeholders left
  const shown = (el) => el !== null && el.getClientRects().length > 0;
  if (extra === 'list' && !shown(document.querySelector(main + ' [data-testid="stDataFrame"]')))
    return false;
  if (extra === 'tabs' && document.querySelector(main + ' [role="tab"]') === null) return false;
  if (extra === 'link' && !Array.from(document.querySelectorAll(main + ' a'))
      .some((a) => a.innerText.includes('Open the plan of'))) return false;
  if (extra === 'targets') {
    const panel = document.querySelector(main + ' [role="tabpanel"]');
    if (!shown(panel) || !panel.innerText.includes('Yearly revenue targets')) return false;
    if (!shown(panel.querySelector('[data-testid="stDataFrame"]'))) return false;
  }
  return performance.now();
}"""


class Planner:
    """One browser session (context) of one user on the list and plan pages."""

    def __init__(self, browser, base: str, user: tuple[str, str, str]):
        from tests.e2e.conftest import LOADING, READY
        from tests.e2e.test_signin_roles import MAIN

        self.main, self.ready, self.loading = MAIN, READY, LOADING
        self.base, (self.name, self.password, self.role) = base, user
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.context.set_default_timeout(BROWSER_TIMEOUT_MS)
        self.context.add_init_script(CLICK_CLOCK)
        self.page = self.context.new_page()
        self.list_heading = "My accounts" if self.role == "planner" else "Account plans"

    def heading(self) -> str | None:
        h1 = self.page.locator(f"{self.main} h1")
        return h1.first.inner_text().strip() if h1.count() else None

    def wait(self, before: str | None, heading: str | None, extra: str | None) -> float:
        """Wait for a rerun's page: a heading other than ``before`` (``heading`` if given),
        the app idle (connected, no script running, no loading placeholder) and ``extra``
        there; the browser's clock (ms) at the first frame where all of it holds."""
        done = self.page.wait_for_function(
            SETTLED_JS,
            arg=[self.main, self.ready, self.loading, before, heading, extra],
            polling="raf",
            timeout=BROWSER_TIMEOUT_MS,
        ).json_value()
        if self.page.locator('[data-testid="stException"]').count():
            raise RuntimeError(f"{self.name}: the page shows an exception ({self.page.url})")
        return done

    def arm(self) -> None:
        self.page.evaluate("() => { window.__benchClick = null; window.__benchArmed = true; }")

    def since_click(self, done: float) -> float:
        clicked = self.page.evaluate("() => window.__benchClick")
        if clicked is None:
            raise RuntimeError(f"{self.name}: the click was not seen ({self.page.url})")
        return (done - clicked) / 1000

    def to_list(self, click) -> float:
        before = self.heading()
        self.arm()
        click()
        return self.since_click(self.wait(before, self.list_heading, "list"))

    def to_plan(self, click) -> float:
        before = self.heading()
        self.arm()
        click()
        self.wait(before, None, "tabs")
        # Only the open tab's panel is shown (Overview): a click on Targets (the browser
        # only, no rerun) until its targets grid is shown.
        self.page.get_by_role("tab", name="Targets").click()
        return self.since_click(self.wait(before, None, "targets"))

    def sign_in_on_list(self) -> float:
        """Open /plans signed out, sign in there: seconds from the click to the list."""
        from tests.e2e.conftest import wait_ready

        page = self.page
        page.goto(f"{self.base}/plans", wait_until="domcontentloaded")
        wait_ready(page)
        page.get_by_label("User name or e-mail").fill(self.name)
        page.get_by_label("Password", exact=True).fill(self.password)
        return self.to_list(page.get_by_role("button", name="Sign in").click)

    def pick_first_row(self) -> tuple[float, object]:
        """Select the list's first row (a rerun): (seconds, its "Open the plan of" link)."""
        grid = self.page.locator(f'{self.main} [data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        before = self.heading()
        link = self.page.locator(self.main).get_by_role("link", name="Open the plan of")
        if link.count():  # a row still picked: a click would unpick it
            raise RuntimeError(f"{self.name}: a row is already picked ({self.page.url})")
        self.arm()
        # The row marker (selection checkbox) of the first row, under the 35 px header.
        self.page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
        return self.since_click(self.wait(None, before, "link")), link

    def open_plan(self) -> tuple[float, float]:
        """Pick the first row, follow its link: (seconds of the pick, of the plan page)."""
        pick, link = self.pick_first_row()
        customer = link.inner_text().strip().split()[-1]
        seconds = self.to_plan(link.click)
        if not self.page.url.endswith(f"/plan?customer={customer}"):
            raise RuntimeError(f"the link opened {self.page.url}, not the plan of {customer}")
        return pick, seconds

    def open_list(self) -> float:
        """The sidebar's "Account plans": seconds from the click to the list."""
        nav = self.page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Account plans")
        return self.to_list(nav.first.click)

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(ROOT / "var" / f"bench-dashboard-{name}.png"))


def measure_user(browser, base: str, user: tuple[str, str, str], warm: int) -> dict:
    """First and warm loads of the list and the plan page in one session of ``user``."""
    who = user[2]
    suffix = "" if who == "planner" else f"_{who}"
    session = Planner(browser, base, user)
    try:
        first_plans = session.sign_in_on_list()
        progress(f"{who}: sign-in on /plans -> list: {first_plans:.2f} s")
        _, first_plan = session.open_plan()
        progress(f"{who}: first plan page: {first_plan:.2f} s")
        if who == "viewer":
            session.page.locator(session.main).get_by_text("Read only", exact=False).wait_for()
        lists, picks, plans = [], [], []
        for n in range(warm):
            lists.append(session.open_list())
            pick, plan = session.open_plan()
            picks.append(pick)
            plans.append(plan)
            progress(
                f"{who}: warm {n + 1}: list {lists[-1]:.2f} s, row pick {pick:.2f} s, "
                f"plan {plans[-1]:.2f} s"
            )
        session.screenshot(f"{who}-plan")
    except BaseException:
        session.screenshot(f"{who}-failed")
        progress(f"{who}: failed on {session.page.url}; screenshot in var/")
        raise
    finally:
        session.context.close()
    med = lambda xs: round(statistics.median(xs), 3)  # noqa: E731
    runs = lambda xs: [round(x, 3) for x in xs]  # noqa: E731
    return {
        f"browser_first_plans{suffix}": round(first_plans, 3),
        f"browser_warm_plans{suffix}": med(lists),
        f"browser_first_plan{suffix}": round(first_plan, 3),
        f"browser_warm_plan{suffix}": med(plans),
        f"browser_warm_pick{suffix}": med(picks),
        f"browser_warm_plans{suffix}_runs": runs(lists),
        f"browser_warm_plan{suffix}_runs": runs(plans),
        f"browser_warm_pick{suffix}_runs": runs(picks),
    }


def browse(db: Path, warm: int) -> dict:
    """The planner pages in headless Chromium against ``streamlit run`` on ``db``."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS

    if not CHROMIUM.exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium (or --plans 0)")
    log = ROOT / "var" / "bench-dashboard-streamlit.log"
    proc, base = start_app(db, log)
    figures: dict = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                figures |= measure_user(browser, base, PLANNER, warm)
                figures |= measure_user(browser, base, VIEWER, max(3, warm // 2))
            finally:
                browser.close()
    finally:
        from tests.e2e.conftest import stop_app

        stop_app(proc)
    server_log = log.read_text(errors="replace")
    if "Traceback" in server_log:
        raise SystemExit(f"the app failed on the server side ({log}):\n{server_log[-4000:]}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true", help="build the database afresh")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="bulk-load a synthetic book instead of the sample generator + ingest service",
    )
    parser.add_argument("--lines-per-customer", type=int, default=60)
    parser.add_argument(
        "--plans", type=int, default=1000, help="plans to hold (0: no plans, no browser)"
    )
    parser.add_argument("--warm", type=int, default=5, help="warm loads of each planner page")
    args = parser.parse_args()
    if args.warm < 1:
        raise SystemExit("--warm must be at least 1")
    kind = "fast" if args.fast else "sample"
    db = ROOT / "var" / f"bench-dashboard-{kind}-{args.customers}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}
    if args.rebuild or not db.exists():
        db.unlink(missing_ok=True)
        if args.fast:
            figures |= build_fast(db, args.customers, args.lines_per_customer)
        else:
            figures |= build(db, args.customers, args.years)
    else:
        progress(f"reusing {db} (--rebuild to build it afresh)")
        migrate(db)
    if args.plans:
        figures |= ensure_plans(db, args.plans)
    figures |= render(db)
    if args.plans:
        figures |= browse(db, args.warm)
    slowest = max(v for k, v in figures.items() if k.startswith("cached_"))
    report("dashboard", args.customers, slowest, database=str(db.name), **figures)


if __name__ == "__main__":
    main()
