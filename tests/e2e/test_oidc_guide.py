"""The OIDC guide of docs/OPERATIONS.md, as written, with the real command line: its
``secrets.toml`` block (only the addresses of this machine's provider and dashboard put
in for the placeholders), then its commands (``init``, ``user add ... --no-password`` from another
folder, ``ACCOUNTOPS_AUTH_MODE=oidc accountops dashboard`` in the folder of
``.streamlit/``), then a sign-in in Chromium through ``oidc-provider-mock``."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import _free_port, _missing, _wait_healthy, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NAV_LINK = '[data-testid="stSidebarNavLink"]'


def oidc_guide_example() -> tuple[str, list[str]]:
    """(the secrets.toml block, the shell lines) of docs/OPERATIONS.md's OIDC steps."""
    text = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    bullet = text.split("### Connecting your identity provider (OIDC)", 1)[1]
    toml = bullet.split("```toml\n", 1)[1].split("```", 1)[0]
    shell = bullet.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].strip() for line in shell.splitlines()]
    return toml, [line for line in lines if line]


def test_the_oidc_guide_signs_in_as_written(tmp_path, page):
    try:
        import oidc_provider_mock
    except ImportError:
        _missing("oidc-provider-mock is not installed: pip install -e .[dev]")
    toml, commands = oidc_guide_example()
    assert [c.split()[:3] for c in commands] == [
        ["accountops", "init"],
        ["accountops", "user", "add"],
        ["ACCOUNTOPS_AUTH_MODE=oidc", "accountops", "dashboard"],
    ]
    email = shlex.split(commands[1])[3]
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    elsewhere.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    env |= {"XDG_DATA_HOME": str(tmp_path / "xdg"), "AUTHLIB_INSECURE_TRANSPORT": "1"}
    person = oidc_provider_mock.User(sub="00ujane", claims={"email": email, "name": email})
    with oidc_provider_mock.run_server_in_thread(user_claims=[person]) as server:
        provider = f"http://localhost:{server.server_port}"
        secrets = re.sub(r"https://accountops\.example\.com", f"http://127.0.0.1:{port}", toml)
        secrets = re.sub(
            r'server_metadata_url = "[^"]*"',
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"',
            secrets,
        )
        (site / ".streamlit").mkdir()
        (site / ".streamlit" / "secrets.toml").write_text(secrets, encoding="utf-8")

        def accountops(line: str, cwd: Path) -> list[str]:
            words = shlex.split(line)
            extra = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
            args = [w for w in words if not re.match(r"^[A-Z_]+=", w)][1:]
            return [sys.executable, "-m", "flows.cli", *args], env | extra, cwd

        for line in commands[:2]:
            argv, run_env, cwd = accountops(line, elsewhere)
            done = subprocess.run(argv, cwd=cwd, env=run_env, capture_output=True, text=True)
            assert done.returncode == 0, (line, done.stderr)
        argv, run_env, cwd = accountops(commands[2], site)
        log = tmp_path / "dashboard.log"
        with log.open("wb") as out:
            app = subprocess.Popen(
                [*argv, "--port", str(port)], cwd=cwd, env=run_env, stdout=out, stderr=out
            )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, app, log)
            page.goto(base, wait_until="domcontentloaded")
            wait_ready(page)
            page.get_by_role("button", name="Sign in with your organisation account").click()
            page.locator('input[name="sub"]').fill(person.sub)
            page.get_by_role("button", name="Authorize", exact=True).click()
            page.wait_for_url(re.compile(rf"^{re.escape(base)}/?$"))
            wait_ready(page)
            page.locator(NAV_LINK).filter(has_text="Customers").wait_for()
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert email in sidebar.replace("\u2060", "")  # the page breaks e-mails at "@"
            assert "Role: viewer" in sidebar  # the role given by `accountops user add`
        finally:
            app.terminate()
            app.wait(timeout=30)
    assert "Traceback" not in log.read_text(errors="replace")
