"""``accountops plan ...``: strategic-account plans from the command line.

Reads need no user; every write names one (``--user NAME``) and passes the same
checks as the dashboard: an unknown or deactivated user is refused, and the role
policy and row-level rule apply. Nothing here imports Prefect.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.errors import AccountopsError

plan_app = typer.Typer(
    help="Strategic-account plans: list, show, history, diff, export, import and the "
    "draft -> submitted -> approved workflow.",
    no_args_is_help=True,
)
out = Console(width=None if sys.stdout.isatty() else 200, highlight=False)

UserOpt = Annotated[
    str, typer.Option("--user", help="Act as this accountops user (checked like a sign-in).")
]
BasedOn = Annotated[
    int | None,
    typer.Option(
        "--based-on",
        help="The version you read (default: the current one). Someone else's later save "
        "makes this a conflict instead of a lost update.",
    ),
]
Customer = Annotated[str, typer.Argument(help="The account's customer_id.")]


def _engine():
    from flows.cli import engine

    return engine()


def acting_user(eng, username: str):
    """The active user ``--user`` names, as a sign-in would find them; else one line."""
    from models.auth import current_identity
    from models.users import normalise_username

    identity = current_identity(eng, normalise_username(username))
    if identity is None:
        raise AccountopsError(
            f"no active user {username!r}: add it (accountops user add) or ask an "
            "administrator to reactivate it",
            code="USER_UNKNOWN",
        )
    return identity


def _rules():
    from flows.cli import settings
    from models.config import load_config
    from models.plans.rules import plan_rules

    return plan_rules(load_config(settings().config_file))


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@plan_app.command("list")
def plan_list() -> None:
    """One plan a line: customer, title, years, status, version, last editor, 1+2+1."""
    from models.plans.checks import check_one_two_one
    from models.plans.read import list_plans

    rules = _rules()
    plans = list_plans(_engine())
    if not plans:
        _echo("no plans yet: accountops plan import FILE --user NAME")
        return
    table = Table(box=None, pad_edge=False)
    for col in ("customer", "title", "years", "status", "version", "last editor", "1+2+1"):
        table.add_column(col, no_wrap=col != "title")
    for p in plans:
        table.add_row(
            p.customer_id,
            p.title,
            p.years,
            p.status.value + (f" (approved v{p.approved_version})" if _behind(p) else ""),
            str(p.version),
            p.edited_by or p.updated_by,
            check_one_two_one(p.plan, rules).summary(),
        )
    out.print(table)


def _behind(p) -> bool:
    return p.approved_version is not None and p.approved_version != p.version


@plan_app.command("show")
def plan_show(
    customer_id: Customer,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Measure on this date (default: the latest snapshot's)."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Show this version (default: the current).")
    ] = None,
) -> None:
    """The plan with its 1+2+1 check, warnings and plan vs actual."""
    from flows.plan_show import print_plan

    eng = _engine()
    day = date.fromisoformat(as_of) if as_of else None
    print_plan(out, eng, customer_id, _rules(), as_of=day, version=version)


@plan_app.command("history")
def plan_history(customer_id: Customer) -> None:
    """One version a line: version, status, event, who, when, fields changed."""
    from models.plans.read import plan_history as history

    table = Table(box=None, pad_edge=False)
    for col in ("version", "status", "event", "who", "when (UTC)", "changed"):
        table.add_column(col, no_wrap=col != "changed")
    for r in history(_engine(), customer_id):
        changed = ", ".join(r.changed_fields[:6])
        if len(r.changed_fields) > 6:
            changed += f" and {len(r.changed_fields) - 6} more"
        if r.note:
            changed = f"{changed} ({r.note})" if changed else r.note
        table.add_row(
            str(r.version),
            r.status.value,
            r.event or "",
            r.actor,
            f"{r.at:%Y-%m-%d %H:%M}",
            changed,
        )
    out.print(table)


@plan_app.command("diff")
def plan_diff(
    customer_id: Customer,
    v1: Annotated[int, typer.Argument(help="From this version.")],
    v2: Annotated[int, typer.Argument(help="To this version.")],
) -> None:
    """Field by field, what changed from version V1 to V2."""
    from models.plans.read import plan_diff as diff

    changes = diff(_engine(), customer_id, v1, v2)
    if not changes:
        _echo(f"versions {v1} and {v2} of plan {customer_id} have the same content")
    for change in changes:
        out.print(str(change), markup=False)


@plan_app.command("export")
def plan_export(
    customer_id: Customer,
    out_file: Annotated[Path, typer.Option("--out", help="YAML file to write ('-': stdout).")],
) -> None:
    """Write the plan as one readable YAML file (import it back after editing)."""
    from models.errors import OutputNotWritable, refuse_missing_folder
    from models.plans.files import export_plan, plan_yaml
    from models.plans.read import get_plan

    eng = _engine()
    if str(out_file) == "-":
        typer.echo(plan_yaml(get_plan(eng, customer_id)), nl=False)
        return
    refuse_missing_folder(out_file)
    try:
        state = export_plan(eng, customer_id, out_file)
    except OSError as exc:
        raise OutputNotWritable(f"cannot write {out_file}: {exc.strerror}") from None
    _echo(
        f"plan {customer_id} version {state.version} ({state.status.value}) written to {out_file}"
    )


@plan_app.command("import")
def plan_import(
    files: Annotated[list[Path], typer.Argument(help="Plan YAML files (one plan each).")],
    user: UserOpt,
) -> None:
    """Import plan files: each is created, saved as a new version, or unchanged; a bad
    file is refused whole with its file, key and line, and the others still import."""
    from models.plans.files import import_plan

    eng = _engine()
    identity = acting_user(eng, user)
    failed = 0
    for path in files:
        try:
            done = import_plan(eng, identity, path)
        except AccountopsError as exc:
            failed += 1
            _echo(f"accountops: {exc}")
            continue
        _echo(f"{path}: plan {done.customer_id} {done.outcome} (version {done.version})")
    if failed:
        raise typer.Exit(1)


def _step(write, customer_id: str, user: str, based_on: int | None, what: str, *args, **kw):
    """Run one workflow write as ``user`` over ``based_on`` (default: the current version)."""
    from models.plans.read import get_plan

    eng = _engine()
    who = acting_user(eng, user)
    version = based_on if based_on is not None else get_plan(eng, customer_id).version
    state = write(eng, who, customer_id, *args, based_on=version, **kw)
    _echo(f"plan {state.customer_id} {what}: version {state.version}, {state.status.value}")


@plan_app.command("submit")
def plan_submit(customer_id: Customer, user: UserOpt, based_on: BasedOn = None) -> None:
    """Send a draft for approval."""
    from models.plans.service import submit_plan

    _step(submit_plan, customer_id, user, based_on, "submitted")


@plan_app.command("approve")
def plan_approve(customer_id: Customer, user: UserOpt, based_on: BasedOn = None) -> None:
    """Approve a submitted plan (approver role; not the person who last edited it)."""
    from models.plans.service import approve_plan

    _step(approve_plan, customer_id, user, based_on, "approved")


@plan_app.command("reject")
def plan_reject(
    customer_id: Customer,
    user: UserOpt,
    reason: Annotated[str, typer.Option("--reason", help="What the planner should change.")],
    based_on: BasedOn = None,
) -> None:
    """Send a submitted plan back to draft with the reason."""
    from models.plans.service import reject_plan

    _step(reject_plan, customer_id, user, based_on, "sent back to draft", reason=reason)


@plan_app.command("restore")
def plan_restore(
    customer_id: Customer,
    version: Annotated[int, typer.Argument(help="The earlier version to restore.")],
    user: UserOpt,
    based_on: BasedOn = None,
) -> None:
    """Start a new draft with the content of an earlier version."""
    from models.plans.service import restore_plan

    _step(restore_plan, customer_id, user, based_on, f"restored from version {version}", version)
