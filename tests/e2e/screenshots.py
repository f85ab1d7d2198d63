"""The README's screenshots of the executive pages, taken from the demo's data.

    .venv/bin/python -m tests.e2e.screenshots [--out docs/images] [--customers 500]

Builds the demo (``accountops demo --no-dashboard``: six month-end snapshots) in a
temporary data folder, starts the app on it, signs in as the demo viewer in headless
Chromium (Debian's ``/usr/bin/chromium``) and saves each page in ``PAGES``, 1440 pixels
wide, as ``OUT/<name>.png``. Run by hand when a page changes; not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from models.access import Role
from models.auth import demo_password
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, start_app, stop_app, wait_ready

# (file name, page path, heading to wait for, window height: the app scrolls inside its
# main area, so a page is shot whole by a window as tall as the part worth showing)
PAGES = (
    ("overview", "", "Executive overview", 1750),
    ("receivables", "receivables", "Receivables", 1700),
)
SIDEBAR = '[data-testid="stSidebar"]'


def build_demo(data_dir: Path, customers: int) -> str:
    """The demo's database in ``data_dir``; its URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    env |= {"ACCOUNTOPS_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "flows.cli", "demo", "--no-dashboard"]
    subprocess.run([*command, "--customers", str(customers)], env=env, check=True)
    return f"sqlite:///{data_dir / 'accountops.db'}"


def shoot(base: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    viewer = Role.VIEWER
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(base, wait_until="domcontentloaded")
        wait_ready(page)
        page.get_by_label("User name or e-mail").fill(viewer.value)
        page.get_by_label("Password", exact=True).fill(demo_password(viewer))
        page.get_by_role("button", name="Sign in").click()
        page.locator(SIDEBAR).get_by_role("button", name="Sign out").wait_for()
        for name, path, heading, height in PAGES:
            page.set_viewport_size({"width": 1440, "height": height})
            page.goto(f"{base}/{path}", wait_until="domcontentloaded")
            page.get_by_role("heading", name=heading).first.wait_for()
            wait_ready(page)
            page.wait_for_timeout(1500)  # Plotly's transitions settle
            page.screenshot(path=str(out / f"{name}.png"))
            print(f"{out / name}.png", flush=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--customers", type=int, default=500)
    args = parser.parse_args()
    if not args.out.is_dir():
        raise SystemExit(f"screenshots: {args.out} is not a folder")
    with tempfile.TemporaryDirectory(prefix="accountops-screenshots-") as tmp:
        url = build_demo(Path(tmp) / "data", args.customers)
        proc, base = start_app(url, Path(tmp) / "streamlit.log")
        try:
            shoot(base, args.out)
        finally:
            stop_app(proc)


if __name__ == "__main__":
    main()
