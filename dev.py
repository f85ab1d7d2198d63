#!/usr/bin/env python3
"""Developer tasks that need nothing but Python 3.11+ and pip.

    python3 dev.py demo      sample data -> pipeline -> dashboard (embedded SQLite)
    python3 dev.py test      lint, layering contracts, type check and the test suite
    python3 dev.py setup     create .venv and install the locked dependencies
    python3 dev.py lock      re-resolve requirements.lock.txt from pyproject.toml

The virtual environment lives in ./.venv and is (re)installed whenever
requirements.lock.txt or pyproject.toml is newer than the last install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PY = BIN / "python"
LOCK = ROOT / "requirements.lock.txt"
STAMP = VENV / ".installed"

# Environment every task runs with (see ../shared/STACK.md for why each is set).
TASK_ENV = {
    "PREFECT_HOME": str(ROOT / ".prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "GX_ANALYTICS_ENABLED": "false",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def run(*cmd: str | Path, check: bool = True) -> int:
    env = {**os.environ, **TASK_ENV, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if check and code != 0:
        sys.exit(code)
    return code


def setup() -> None:
    """Create .venv and install the lock file plus the project (editable)."""
    newest = max(LOCK.stat().st_mtime, (ROOT / "pyproject.toml").stat().st_mtime)
    if STAMP.exists() and STAMP.stat().st_mtime >= newest:
        return
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", LOCK)
    run(
        PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", "."
    )
    STAMP.touch()


def lock() -> None:
    """Re-resolve the lock file with uv (installed into .venv on demand)."""
    setup()
    run(PY, "-m", "pip", "install", "--quiet", "uv")
    run(
        BIN / "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "dev",
        "--extra",
        "scale",
        "-o",
        LOCK.name,  # relative (run() works in ROOT): the lock's header names no local path
        "--python-version",
        "3.11",
    )


def test(args: list[str]) -> None:
    """Ruff, import-linter contracts, mypy, then pytest (exit 5, no tests, is a failure)."""
    setup()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "lint-imports")
    run(BIN / "mypy")  # models/ and flows/, configured in pyproject.toml [tool.mypy]
    # The whole suite (as CI runs it) runs on every core, up to four (pytest-xdist; its
    # "load" distribution keeps each worker's tests in collection order, so the browser
    # tests still come last in each, see tests/conftest.py), and ends with its slowest
    # tests, where to look first when it grows slow. A run of chosen tests keeps pytest's
    # own output, in one process.
    workers = str(min(os.cpu_count() or 1, 4))
    whole = ["-n", workers, "--dist", "load", "--durations=30"]
    code = run(PY, "-m", "pytest", *(args or whole), check=False)
    if code == 5:
        print("pytest collected no tests: failing the run", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)


def demo(args: list[str]) -> None:
    setup()
    sys.exit(run(BIN / "accountops", "demo", *args, check=False))


def main(argv: list[str]) -> None:
    task, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if task == "setup":
        setup()
    elif task == "lock":
        lock()
    elif task == "test":
        test(rest)
    elif task == "demo":
        demo(rest)
    elif task in {"help", "-h", "--help"}:
        print(__doc__)
    else:
        print(f"dev.py: unknown task {task!r}; try: python3 dev.py help", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
