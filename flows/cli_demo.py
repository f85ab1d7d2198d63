"""The running app: ``dashboard`` (Streamlit on the configured database) and ``demo``
(sample data -> ingest -> demo users and plans -> a pipeline run per month end ->
dashboard in one command).
"""

from __future__ import annotations

import errno
import socket
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from flows.cli_context import echo, engine, settings
from flows.cli_pipeline import ingest, run_pipeline
from flows.cli_setup import init, sample
from models.errors import AccountopsError

# The sample's last day: a month end, so the newest snapshot is one too.
DEMO_END = date(2026, 9, 30)


def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboard.")] = 8501,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the sample data.")] = 500,
    months: Annotated[
        int,
        typer.Option(
            min=1, max=24, help="Month-end snapshots to build, the last on the sample's last day."
        ),
    ] = 6,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Set up the data but do not start the app.")
    ] = False,
) -> None:
    """Sample data (with a few bad rows, quarantined on purpose) -> ingest -> demo users and
    plans -> a snapshot as of each of the last month ends, recomputed and refreshed ->
    dashboard, on the configured (default embedded) database."""
    if not no_dashboard:
        require_free_port("127.0.0.1", port)  # now, not after minutes of setting up
    init()
    out = Path(settings().data_dir) / "demo-data"
    out.parent.mkdir(parents=True, exist_ok=True)  # the data folder (PostgreSQL: not made yet)
    if not (out / "invoice_lines.csv").exists():
        sample(
            out=out,
            customers=customers,
            years=3,
            seed=42,
            end_date=DEMO_END.isoformat(),
            bad_rows=True,
        )
    else:
        echo(f"reusing sample data in {out}")
    ingest(paths=[out])
    # Users and plans need the ingested customers; the recompute then reviews the plans.
    users = None
    if settings().env == "prod":
        echo("ACCOUNTOPS_ENV=prod: demo users (well-known passwords) and plans are not created")
    else:
        from models.auth import create_demo_users

        users = create_demo_users(engine())
        _demo_plans(out)
    build_history(month_ends(DEMO_END, months))
    _quarantined_on_purpose(out)
    if users is not None:
        echo("demo users (demo only: their passwords are public, never use them in production):")
        echo(f"  {'user name':<16} {'password':<26} role")
        for username, role, password in users:
            shown = password or "(existing user, password unchanged)"
            echo(f"  {username:<16} {shown:<26} {role}")
    if not no_dashboard:
        dashboard(port=port)


def month_ends(last: date, months: int) -> list[date]:
    """The ``months`` month ends up to ``last`` (itself a month end), oldest first."""
    from flows.pipeline import month_before

    ends = [last]
    while len(ends) < months:
        ends.append(month_before(ends[-1]))
    return ends[::-1]


def build_history(ends: list[date]) -> None:
    """The pipeline (without ingest) as of each month end after the newest refreshed
    snapshot, oldest first: each snapshot's migrations are against the month before. A
    demo run again finds its snapshots there and recomputes nothing."""
    from models.dashboard.read import as_of_of, latest_snapshot_id

    eng = engine()
    latest = latest_snapshot_id(eng)
    newest = as_of_of(eng, latest) if latest is not None else None
    eng.dispose()
    todo = [day for day in ends if newest is None or day > newest]
    if not todo:
        echo(
            f"snapshots up to {newest} exist already: nothing to recompute "
            f"(delete {settings().data_dir} for a fresh demo)"
        )
        return
    echo(f"history: {len(todo)} month-end snapshot(s), {todo[0]} to {todo[-1]}")
    for day in todo:
        run_pipeline([], as_of=day)


def _quarantined_on_purpose(out: Path) -> None:
    """One line: how many of the sample's planted bad rows the quarantine holds."""
    import pandas as pd

    from models.dashboard.data_health import quarantine_rows
    from models.sampledata.bad_rows import read_key
    from models.sampledata.roadmap import INTENDED_DIR

    planted = {(p.file_name, p.line_no) for p in read_key(out / INTENDED_DIR)}
    if not planted:
        return
    eng = engine()
    rows = quarantine_rows(eng, limit=1000)
    eng.dispose()
    held = set()
    if rows is not None:
        for file_name, line_no in zip(rows["file_name"], rows["line_no"], strict=True):
            if file_name is not None and pd.notna(line_no):
                held.add((Path(str(file_name)).name, int(line_no)))
    found = len(planted & held)
    if found == len(planted):
        echo(f"{found} rows quarantined on purpose: see Data health")
    else:
        echo(f"{found} of the {len(planted)} rows planted to be quarantined are: see Data health")


def _demo_plans(out: Path) -> None:
    """Import the sample plans of ``out`` as the demo planner; one line on what happened."""
    from models.sampledata.demo_plans import set_up_demo_plans
    from models.sampledata.plans import PLANS_DIR

    folder = out / PLANS_DIR
    done = set_up_demo_plans(engine(), folder)
    if not done.files:
        echo(f"no sample plans in {folder}: delete {out} to have the demo write them")
        return
    how = ", ".join(f"{n} {what}" for what, n in sorted(done.outcomes.items()))
    statuses = ", ".join(f"{done.statuses[s]} {s}" for s in ("draft", "submitted", "approved"))
    echo(
        f"sample plans: {done.files} imported from {folder} by planner {done.planner!r} "
        f"({how}); {statuses}"
    )


def dashboard(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start the Streamlit dashboard (stop with Ctrl+C)."""
    import os

    import dashboards
    from flows.processes import run_child

    cfg = settings()
    engine().dispose()  # the database is there, at the latest schema; else one line
    require_free_port(address, port)  # before the address is announced
    app_file = Path(dashboards.__file__).resolve().parent / "server.py"  # the app + session routes
    env = {
        **os.environ,
        "ACCOUNTOPS_DATABASE_URL": cfg.database_url,
        "ACCOUNTOPS_DATA_DIR": str(cfg.data_dir),
    }
    echo(f"dashboard on http://{address}:{port}/ (Ctrl+C to stop)")
    # A fixed argument list (this interpreter, our app file, typed options), no shell. In a
    # session of its own: SIGINT/SIGTERM reach this process, which stops Streamlit's group.
    code = run_child(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app_file),
            "--server.port",
            str(port),
            "--server.address",
            address,
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
    )
    if code not in (0, -2, 130):
        raise typer.Exit(code)


class PortBusy(AccountopsError):
    code = "PORT_IN_USE"


def require_free_port(address: str, port: int) -> None:
    """One line naming the port when the dashboard could not listen on ``address:port``
    (another program has it, or the address is not this machine's), before any URL is
    announced. Bound as Streamlit binds (SO_REUSEADDR), so a port that only has
    connections closing on it counts as free."""
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as exc:
        raise PortBusy(
            f"cannot serve on {address}: {exc.strerror}", code="ADDRESS_INVALID"
        ) from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortBusy(
                    f"port {port} on {address} is already in use (another dashboard?): stop "
                    "that program or choose another port with --port"
                ) from None
            raise PortBusy(
                f"cannot serve on {address}:{port}: {exc.strerror}", code="ADDRESS_INVALID"
            ) from None
