"""End-to-end: the real app (``streamlit run``) on a fresh SQLite database, driven by Chromium.

The browser is Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs
it) driven by Playwright's Python client; no ``playwright install``. Without the
browser the e2e tests skip with the reason, except under ``CI=true``, where they fail.
Screenshots go to ``test-output/screenshots/<role>-<page>.png``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from models.auth import create_demo_users
from models.sampledata.demo_plans import set_up_demo_plans
from models.sampledata.plans import PLANS_DIR
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ACCOUNTOPS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 90  # a loaded 2-core machine needs 5-15 s; leave room
PAGE_TIMEOUT_MS = 60_000
# The app is idle: connected, and no script run in progress.
READY = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
    '[data-test-script-state="notRunning"]'
)


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the end-to-end tests)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LiveApp:
    url: str
    users: dict[str, str]  # user name -> password (the demo users, one per role)
    log: Path
    database_url: str  # the app's database, for tests that check what a click stored


@pytest.fixture(scope="session")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    """The dashboard served by ``streamlit run`` on a free port, with one demo user per role,
    on sample data loaded the production way (ingest service, recompute, refresh)."""
    from tests.dashboards.pages_support import build_sample_database

    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'accountops.db'}"
    users: dict[str, str] = {}

    def demo_users_and_plans(engine, sample: Path) -> None:
        # As `accountops demo` does: users, then the sample plans, before the recompute.
        users.update({name: password for name, _, password in create_demo_users(engine)})
        set_up_demo_plans(engine, sample / PLANS_DIR)

    engine, _, _ = build_sample_database(
        folder / "accountops.db", folder / "sample", before_recompute=demo_users_and_plans
    )
    engine.dispose()

    log = folder / "streamlit.log"
    proc, base = start_app(url, log)
    try:
        yield LiveApp(base, users, log, url)
    finally:
        stop_app(proc)
    # No page may have failed on the server side, even where the browser showed nothing.
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


def start_app(
    database_url: str,
    log: Path,
    *,
    auth_mode: str = "password",
    cwd: Path = ROOT,
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """``streamlit run`` of the dashboard on ``port`` (a free one by default), output to
    ``log``; (process, base URL) once it answers its health check. Streamlit reads
    ``.streamlit/`` (config, and the ``[auth]`` secrets of ``oidc``) from ``cwd``. Also
    used by benchmarks/dashboard.py."""
    port = port or _free_port()
    env = {
        **os.environ,
        "ACCOUNTOPS_DATABASE_URL": database_url,
        "ACCOUNTOPS_AUTH_MODE": auth_mode,
        "ACCOUNTOPS_ENV": "test",
        # Signs the session cookies of this server only (never the repository's var/).
        "ACCOUNTOPS_SESSION_SECRET": secrets.token_urlsafe(32),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboards" / "server.py"),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=cwd,  # .streamlit/config.toml (and secrets.toml) are read from here
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
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


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)  # polling interval, bounded by the deadline above
    raise RuntimeError(f"streamlit not healthy after {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright (skips, or fails in CI, when absent)."""
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed (pip install -e .[dev])")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so fixtures can see whether it failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def new_page(browser, request):
    """``new_page()`` -> a page in a fresh browser context (no cookies, its own app
    session), 1440x900. When the test fails, every page it opened is screenshotted to
    test-output/screenshots/failed-<test>-<n>.png (CI keeps test-output/).

    Whatever the test, no page may break the dashboard's Content-Security-Policy
    (dashboards/server.py): a script, image, font or connection it blocked (say, one from
    another host) fails the test, naming it."""
    contexts = []
    blocked: list[str] = []

    def watch(tab) -> None:
        def on_console(message) -> None:
            if "Content Security Policy" in message.text:
                blocked.append(f"{tab.url}: {message.text}")

        tab.on("console", on_console)

    def make():
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.on("page", watch)  # every tab, also those a test opens itself
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "report_call", None)
    for n, context in enumerate(contexts):
        if report is not None and report.failed:
            for tab in context.pages:
                screenshot(tab, f"failed-{request.node.name}-{n}")
        context.close()
    assert not blocked, "the Content-Security-Policy blocked:\n" + "\n".join(blocked)


@pytest.fixture
def page(new_page):
    """A fresh browser context (no cookies, new app session) and page, 1440x900."""
    return new_page()


# Placeholders Streamlit draws while an element's code (data grid, select box) still loads.
LOADING = '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]'


def wait_ready(page) -> None:
    """Wait until the app is connected, no script run is in progress and nothing is loading."""
    page.wait_for_selector(READY, timeout=PAGE_TIMEOUT_MS)
    page.wait_for_function(
        f"() => document.querySelectorAll('{LOADING}').length === 0", timeout=PAGE_TIMEOUT_MS
    )


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
