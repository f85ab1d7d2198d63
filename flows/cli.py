"""The ``accountops`` command line: the platform's public contract.

Heavy libraries (prefect, great_expectations, streamlit, pandas) are imported
inside the commands that need them, so ``init``, ``user``, ``export`` and
``plan`` start in well under a second and never start a Prefect server.
"""

from __future__ import annotations

import getpass
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer._click import exceptions as click_exc  # Typer 0.29 vendors click: catch its own

from flows.plan_cli import plan_app
from flows.roadmap_cli import roadmap_app
from models.errors import AccountopsError, ConfigError, NotBuiltYet, OutputNotWritable

if TYPE_CHECKING:  # Prefect is imported by the commands that run flows, not at start-up
    from prefect.states import State


class PipelineFailed(AccountopsError):
    code = "PIPELINE_FAILED"


class RecomputeFailed(AccountopsError):
    code = "RECOMPUTE_FAILED"


app = typer.Typer(
    name="accountops",
    help="Key-account operations: ingest, customer value, plans and the executive dashboard.\n\n"
    "The database comes from ACCOUNTOPS_DATABASE_URL (default: the embedded SQLite file "
    "var/accountops.db).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
quarantine_app = typer.Typer(
    help="Rows kept out of the data, with their reasons.", no_args_is_help=True
)
user_app = typer.Typer(
    help="Users who sign in to the dashboard, and their roles.", no_args_is_help=True
)
app.add_typer(plan_app, name="plan")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(roadmap_app, name="roadmap")
app.add_typer(user_app, name="user")

EXPORT_KINDS = (
    "tiers",
    "migrations",
    "segments",
    "receivables",
    "managers",
    "clv",
    "funnel",
    "forecast",
    "roadmap",
)


def settings():
    """The platform settings, or a one-line error naming the bad variable."""
    from pydantic import ValidationError

    from models.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "ACCOUNTOPS_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(f"{field}: {err['msg'].removeprefix('Value error, ')}") from None


def engine(*, migrated: bool = True):
    """An engine on the configured database, reachable and (unless told) at the latest schema."""
    from models.db import check_connection, make_engine
    from models.migrate import require_current_schema

    eng = make_engine(settings().database_url)
    check_connection(eng)
    if migrated:
        require_current_schema(eng)
    return eng


def echo(message: str) -> None:
    typer.echo(message, err=True)


def not_built(command: str, issue: str) -> None:
    raise NotBuiltYet(f"`accountops {command}` is not built yet ({issue})")


# --- set-up ---------------------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create the database schema, or upgrade it to the latest migration (safe to repeat)."""
    from models.db import display_url
    from models.migrate import head_revision, upgrade

    eng = engine(migrated=False)
    before, after = upgrade(eng)
    where = display_url(str(eng.url.render_as_string(hide_password=False)))
    if before == after:
        echo(f"schema already at {after} in {where}: nothing to do")
    else:
        echo(f"schema upgraded {before or 'empty'} -> {after} in {where}")
    assert after == head_revision()


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the CSV files into.")] = Path(
        "var/sample"
    ),
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 500,
    years: Annotated[int, typer.Option(min=1, max=20, help="Years of history.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, byte-identical files.")] = 42,
    end_date: Annotated[
        str, typer.Option(help="Last day of the data (YYYY-MM-DD); fixed so output is stable.")
    ] = "2026-09-30",
) -> None:
    """Write deterministic sample data: one canonical CSV per entity and the strategic
    accounts' plans as YAML files in plans/ (see README)."""
    end = _parse_date(end_date, "--end-date")
    _ensure_writable_dir(out)
    from models.sampledata import generate_sample
    from models.sampledata.plans import PLANS_DIR

    with _progress() as report:
        counts = generate_sample(
            out, customers=customers, years=years, seed=seed, end_date=end, progress=report
        )
    for name, rows in counts.items():
        echo(f"  {name:<26} {rows:>12,} rows")
    plans = len(list((out / PLANS_DIR).glob("*.yaml")))
    echo(f"  {PLANS_DIR + '/':<26} {plans:>12,} files")
    echo(f"sample data written to {out}")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboard.")] = 8501,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the sample data.")] = 500,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Set up the data but do not start the app.")
    ] = False,
) -> None:
    """Sample data -> ingest -> demo users and plans -> recompute and refresh -> dashboard,
    on the configured (default embedded) database."""
    init()
    out = Path(settings().data_dir) / "demo-data"
    if not (out / "invoice_lines.csv").exists():
        sample(out=out, customers=customers, years=3, seed=42, end_date="2026-09-30")
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
    run_pipeline([])
    if users is not None:
        echo("demo users (demo only: their passwords are public, never use them in production):")
        echo(f"  {'user name':<16} {'password':<26} role")
        for username, role, password in users:
            shown = password or "(existing user, password unchanged)"
            echo(f"  {username:<16} {shown:<26} {role}")
    if not no_dashboard:
        dashboard(port=port)


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


# --- data in --------------------------------------------------------------------------------


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders of canonical CSVs.")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping for a foreign export.")] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help="SQLAlchemy URL of a source database.")
    ] = None,
    query: Annotated[str | None, typer.Option(help="SQL query run on --source-url.")] = None,
    entity: Annotated[
        str, typer.Option(help="What the query returns: invoice_lines or payments.")
    ] = "invoice_lines",
) -> None:
    """Validate and load input files exactly once; bad rows go to quarantine."""
    from flows.ingest_cli import run_ingest

    if not paths and not query:
        raise click_exc.UsageError("give PATH... or --source-url URL --query SQL")
    if query and not source_url:
        raise click_exc.UsageError("--query needs --source-url")
    cfg = settings()
    engine()  # reachable and migrated, or a one-line error
    code = run_ingest(
        cfg.database_url,
        [str(p) for p in paths or []],
        mapping=str(mapping) if mapping else None,
        source_url=source_url,
        query=query,
        entity=entity,
        config_file=str(cfg.config_file) if getattr(cfg, "config_file", None) else None,
    )
    if code:
        raise typer.Exit(code)


@app.command()
def batches() -> None:
    """List ingested batches with their status and validation results."""
    from flows.ingest_cli import print_batches

    print_batches(engine())


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[int | None, typer.Option(help="Only this batch id.")] = None,
) -> None:
    """List quarantined rows with the rules they broke."""
    from flows.ingest_cli import print_quarantine

    print_quarantine(engine(), batch)


# --- computation ----------------------------------------------------------------------------


@app.command()
def recompute(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: last invoice).")
    ] = None,
) -> None:
    """Recompute measures, tiers, segments and receivables into a new snapshot."""
    day = _parse_date(as_of, "--as-of") if as_of is not None else None
    cfg = settings()
    eng = engine()  # fails fast, in one line, before Prefect starts
    eng.dispose()
    from flows.recompute import recompute_flow

    state = recompute_flow(
        database_url=cfg.database_url,
        as_of=day,
        config_file=str(cfg.config_file) if cfg.config_file else None,
        return_state=True,
    )
    if not state.is_completed():
        try:
            state.result()
        except AccountopsError:
            raise
        except Exception as exc:  # the run's log has the detail; the user gets one line
            raise RecomputeFailed(f"recompute failed: {str(exc).splitlines()[0]}") from None
    out = state.result()
    counts = ", ".join(f"{k} {v}" for k, v in out["tier_counts"].items())
    echo(f"snapshot {out['snapshot_id']} as of {out['as_of']}: {counts}")


@app.command()
def pipeline(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders to ingest first.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: last invoice).")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping for a foreign export.")] = None,
) -> None:
    """Ingest, then recompute, then refresh the dashboard's tables (a step that fails stops
    the steps after it; what earlier steps committed stays)."""
    day = _parse_date(as_of, "--as-of") if as_of is not None else None
    run_pipeline([str(p) for p in paths or []], as_of=day, mapping=mapping)


def run_pipeline(paths: list[str], *, as_of: date | None = None, mapping: Path | None = None):
    """Run the pipeline flow with ingest progress; print each step; fail in one line."""
    cfg = settings()
    engine().dispose()  # reachable and migrated, or a one-line error before Prefect starts
    from flows.ingest_cli import ingest_progress, print_ingest_summary
    from flows.pipeline import pipeline as pipeline_flow

    with ingest_progress():
        # The flow returns its final State itself, which Prefect's overloads type as a
        # State holding a State: the call's value is that final State.
        state = cast(
            "State[Any]",
            pipeline_flow(
                paths=paths or None,
                database_url=cfg.database_url,
                as_of=as_of,
                mapping_file=str(mapping) if mapping else None,
                config_file=str(cfg.config_file) if cfg.config_file else None,
                return_state=True,
            ),
        )
    data = state.result(raise_on_failure=False)
    data = data if isinstance(data, dict) else {}
    if data.get("batches"):
        print_ingest_summary(data["batches"])
    for step in data.get("steps", []):
        echo(f"  {step['step']:<10} {step['outcome']:<8} {step['detail']}")
    if not state.is_completed():
        raise PipelineFailed(state.message or "the pipeline failed")
    echo(state.message or "pipeline complete")


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(EXPORT_KINDS)}.")],
    format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("-"),
) -> None:
    """Export computed results as CSV (spreadsheet-safe) or JSON."""
    if kind not in EXPORT_KINDS:
        raise typer.BadParameter(
            f"{kind!r} is not one of: {', '.join(EXPORT_KINDS)}", param_hint="KIND"
        )
    if format not in {"csv", "json"}:
        raise typer.BadParameter(f"{format!r} is not csv or json", param_hint="--format")
    if kind in {"funnel", "forecast"}:
        not_built(f"export {kind}", "a later issue")
    from models.config import load_config
    from models.value.exports import export as write_export

    rows = write_export(engine(), kind, format, out, load_config(settings().config_file))
    if str(out) != "-":
        echo(f"{rows} rows written to {out}")


# --- plans and users ------------------------------------------------------------------------


@user_app.command("assign")
def user_assign(
    name: Annotated[str, typer.Argument(help="The planner (user name).")],
    customer_ids: Annotated[list[str], typer.Argument(help="Accounts whose plans they edit.")],
) -> None:
    """Assign accounts to a planner: they may then edit those accounts' plans."""
    from models.access import Identity, Role
    from models.plans.assignments import assign_accounts

    admin = Identity(f"cli:{getpass.getuser()}", Role.ADMIN)
    new = assign_accounts(engine(), admin, name, customer_ids)
    kept = len(customer_ids) - len(new)
    echo(
        f"{name.strip().lower()!r}: {len(new)} account(s) assigned"
        + (f", {kept} already were" if kept else "")
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name or e-mail (case-insensitive).")],
    role: Annotated[str, typer.Option(help="viewer, account_manager, planner, approver, admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user who signs in with a password (stored as an Argon2 hash)."""
    from models.db import transaction
    from models.users import add_user, parse_role

    parsed_role = parse_role(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
    else:
        raise click_exc.UsageError("no terminal to ask for the password: pass --password-stdin")
    with transaction(engine()) as session:
        add_user(session, name, parsed_role, password, actor=f"cli:{getpass.getuser()}")
    echo(f"user {name.strip().lower()!r} added with role {parsed_role.value}")


# --- dashboard ------------------------------------------------------------------------------


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start the Streamlit dashboard (stop with Ctrl+C)."""
    import os
    import subprocess

    import dashboards

    cfg = settings()
    app_file = Path(dashboards.__file__).resolve().parent / "streamlit_app.py"
    env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": cfg.database_url}
    echo(f"dashboard on http://{address}:{port}/ (Ctrl+C to stop)")
    code = subprocess.call(
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


# --- helpers --------------------------------------------------------------------------------


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


def _ensure_writable_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".accountops-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputNotWritable(f"cannot write to {folder}: {exc.strerror or exc}") from None


def _progress():
    """A context manager yielding ``report(file_name, rows)`` that draws progress on stderr."""
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    @contextmanager
    def manager():
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def report(name: str, rows: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name)
                bar.update(tasks[name], description=f"{name}: {rows:,} rows")

            yield report

    return manager()


def main() -> None:
    """Console-script entry: one-line errors and meaningful exit codes, never a traceback."""
    from sqlalchemy.exc import OperationalError

    try:
        code = app(standalone_mode=False, prog_name="accountops")
    except click_exc.NoArgsIsHelpError as exc:
        echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click_exc.UsageError as exc:
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        echo(f"accountops: error: {exc.format_message()}{hint}")
        sys.exit(2)
    except click_exc.ClickException as exc:
        echo(f"accountops: error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except typer.Abort:
        echo("accountops: aborted")
        sys.exit(130)
    except AccountopsError as exc:
        echo(f"accountops: {exc}")
        sys.exit(exc.exit_code)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        echo(f"accountops: [DB_ERROR] database error: {reason}")
        sys.exit(1)
    except KeyboardInterrupt:
        echo("accountops: interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
