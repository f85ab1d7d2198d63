"""The ``accountops`` command line: the platform's public contract.

This module holds the one Typer app, the order its commands are listed in, and the
console-script entry ``main``. The commands live beside it, grouped by what they do:

- ``cli_setup``: init, sample
- ``cli_pipeline``: ingest, batches, quarantine list, recompute, pipeline
- ``cli_export``: export
- ``cli_demo``: demo, dashboard
- ``cli_backup``: backup, restore
- ``cli_users``: user add, list, set-role, (de)activate, reset-password, assign, unlock
  (``plan_cli``, ``roadmap_cli``: plan, roadmap)
- ``cli_context``: the settings, engine and output every command shares

Heavy libraries (prefect, great_expectations, streamlit, pandas) are imported
inside the commands that need them, so ``init``, ``user``, ``export`` and
``plan`` start in well under a second and never start a Prefect server.
"""

from __future__ import annotations

import sys

import typer
from typer._click import exceptions as click_exc  # Typer 0.29 vendors click: catch its own

from flows.cli_backup import backup, restore
from flows.cli_context import echo, engine, settings
from flows.cli_demo import dashboard, demo
from flows.cli_export import export
from flows.cli_pipeline import batches, ingest, pipeline, quarantine_app, recompute
from flows.cli_setup import init, sample
from flows.cli_users import user_app
from flows.plan_cli import plan_app
from flows.roadmap_cli import roadmap_app
from models.errors import AccountopsError

# plan_cli and roadmap_cli reach the shared settings and engine through this module.
__all__ = ["app", "engine", "main", "settings"]

app = typer.Typer(
    name="accountops",
    help="Key-account operations: ingest, customer value, plans and the executive dashboard.\n\n"
    "The database comes from ACCOUNTOPS_DATABASE_URL (default: the embedded SQLite file "
    "accountops.db in ACCOUNTOPS_DATA_DIR, your per-user data folder, e.g. "
    "~/.local/share/accountops; `accountops init` prints it).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# Registration order is the order `accountops --help` lists them in: the way through.
for _command in (
    init,
    sample,
    demo,
    ingest,
    batches,
    recompute,
    pipeline,
    export,
    dashboard,
    backup,
    restore,
):
    app.command()(_command)
app.add_typer(plan_app, name="plan")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(roadmap_app, name="roadmap")
app.add_typer(user_app, name="user")


def main() -> None:
    """Console-script entry: one-line errors and meaningful exit codes, never a traceback;
    SIGTERM or SIGINT stops the command and every process it started (exit 143 or 130)."""
    from flows.processes import leaving_quickly, stopping_cleanly

    with leaving_quickly(), stopping_cleanly():
        _run()


def _run() -> None:
    from sqlalchemy.exc import DBAPIError

    from models.db import database_error

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
    except DBAPIError as exc:
        echo(f"accountops: {database_error(exc)}")
        sys.exit(1)
    except KeyboardInterrupt:
        echo("accountops: interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
