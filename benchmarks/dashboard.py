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
   (read-only plan): ``browser_*_viewer``. Each time runs from the click until the app
   is idle (connected, no script running, no loading placeholder) with the new page's
   heading, and the plans grid (list) or the Targets grid (plan) in the page.

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
    from tests.e2e.conftest import _free_port, _wait_healthy

    port = _free_port()
    env = {
        **os.environ,
        "ACCOUNTOPS_DATABASE_URL": f"sqlite:///{db}",
        "ACCOUNTOPS_AUTH_MODE": "password",
        "ACCOUNTOPS_ENV": "test",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboards" / "streamlit_app.py"),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,  # .streamlit/config.toml is read from here
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        with stopwatch() as t:
            _wait_healthy(base, proc, log)
        progress(f"streamlit healthy at {base} after {t():.1f} s")
    except BaseException:
        stop_app(proc)
        raise
    return proc, base


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Planner:
    """One browser session (context) of one user on the list and plan pages."""

    def __init__(self, browser, base: str, user: tuple[str, str, str]):
        from tests.e2e.test_signin_roles import MAIN

        self.main = MAIN
        self.base, (self.name, self.password, self.role) = base, user
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.context.set_default_timeout(BROWSER_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.list_heading = "My accounts" if self.role == "planner" else "Account plans"

    def heading(self) -> str:
        return self.page.locator(f"{self.main} h1").first.inner_text()

    def settled(self, before: str | None, heading: str | None) -> None:
        """Wait for the rerun's page (a heading other than ``before``, ``heading`` if given),
        then for the app to be idle: connected, no script running, nothing loading."""
        from tests.e2e.conftest import wait_ready

        self.page.wait_for_function(
            "([sel, old, want]) => { const h = document.querySelector(sel);"
            " if (h === null) return false; const t = h.innerText.trim();"
            " return t !== old && (want === null || t === want); }",
            arg=[f"{self.main} h1", before, heading],
            timeout=BROWSER_TIMEOUT_MS,
        )
        wait_ready(self.page)
        if self.page.locator('[data-testid="stException"]').count():
            raise RuntimeError(f"{self.name}: the page shows an exception ({self.page.url})")

    def list_ready(self) -> None:
        self.page.locator(f'{self.main} [data-testid="stDataFrame"]').first.wait_for()

    def plan_ready(self) -> None:
        # The Targets tab (the second panel) holds the targets grid; hidden tabs stay in
        # the page, so the grid counts when it is there, shown or not.
        panel = self.page.locator(f'{self.main} [role="tabpanel"]').nth(1)
        panel.locator('[data-testid="stDataFrame"]').first.wait_for(state="attached")

    def timed(self, click, heading: str | None, ready) -> float:
        before = self.heading() if self.page.locator(f"{self.main} h1").count() else None
        with stopwatch() as t:
            click()
            self.settled(before, heading)
            ready()
        return t()

    def sign_in_on_list(self) -> float:
        """Open /plans signed out, sign in there: seconds from the click to the list."""
        from tests.e2e.conftest import wait_ready

        page = self.page
        page.goto(f"{self.base}/plans", wait_until="domcontentloaded")
        wait_ready(page)
        page.get_by_label("User name or e-mail").fill(self.name)
        page.get_by_label("Password", exact=True).fill(self.password)
        button = page.get_by_role("button", name="Sign in")
        with stopwatch() as t:
            button.click()
            self.settled("Sign in", self.list_heading)
            self.list_ready()
        return t()

    def pick_first_row(self) -> tuple[float, object]:
        """Select the list's first row (a rerun): (seconds, its "Open the plan of" link)."""
        from tests.e2e.conftest import wait_ready

        grid = self.page.locator(f'{self.main} [data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        link = self.page.locator(self.main).get_by_role("link", name="Open the plan of")
        with stopwatch() as t:
            # The row marker (selection checkbox) of the first row, under the 35 px header.
            self.page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
            link.wait_for()
            wait_ready(self.page)
        return t(), link

    def open_plan(self) -> float:
        """Pick the first row and follow its link: seconds from the link's click."""
        _, link = self.pick_first_row()
        customer = link.inner_text().strip().split()[-1]
        seconds = self.timed(link.click, None, self.plan_ready)
        if f"customer={customer}" not in self.page.url:
            raise RuntimeError(f"the link opened {self.page.url}, not the plan of {customer}")
        return seconds

    def open_list(self) -> float:
        """The sidebar's "Account plans": seconds from the click to the list."""
        nav = self.page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Account plans")
        return self.timed(nav.first.click, self.list_heading, self.list_ready)

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
        first_plan = session.open_plan()
        progress(f"{who}: first plan page: {first_plan:.2f} s")
        if who == "viewer":
            session.page.locator(session.main).get_by_text("Read only", exact=False).wait_for()
        lists, picks, plans = [], [], []
        for n in range(warm):
            lists.append(session.open_list())
            pick, link = session.pick_first_row()
            picks.append(pick)
            plans.append(session.timed(link.click, None, session.plan_ready))
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
    if args.plans:
        figures |= ensure_plans(db, args.plans)
    figures |= render(db)
    if args.plans:
        figures |= browse(db, args.warm)
    slowest = max(v for k, v in figures.items() if k.startswith("cached_"))
    report("dashboard", args.customers, slowest, database=str(db.name), **figures)


if __name__ == "__main__":
    main()
