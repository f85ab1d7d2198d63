"""``accountops user ...``: the users who sign in to the dashboard, their roles and the
accounts a planner may edit. Every change is made as the CLI's admin (``cli:<login>``).
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from typer._click import exceptions as click_exc  # Typer 0.29 vendors click: catch its own

from flows.cli_context import echo, engine, settings

user_app = typer.Typer(
    help="Users who sign in to the dashboard, and their roles.", no_args_is_help=True
)


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
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password",
            help="Signs in only through the identity provider (ACCOUNTOPS_AUTH_MODE=oidc): "
            "NAME is the e-mail it returns (else the subject); no password is stored.",
        ),
    ] = False,
) -> None:
    """Add a user who signs in with a password (stored as an Argon2 hash), or with
    --no-password through the identity provider."""
    from models.db import transaction
    from models.users import add_user, parse_role

    parsed_role = parse_role(role)
    password: str | None
    if no_password and password_stdin:
        raise click_exc.UsageError("--no-password and --password-stdin exclude each other")
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
    else:
        raise click_exc.UsageError("no terminal to ask for the password: pass --password-stdin")
    with transaction(engine()) as session:
        add_user(session, name, parsed_role, password, actor=f"cli:{getpass.getuser()}")
    how = " (signs in through the identity provider)" if password is None else ""
    echo(f"user {name.strip().lower()!r} added with role {parsed_role.value}{how}")


@user_app.command("unlock")
def user_unlock(
    name: Annotated[str, typer.Argument(help="The user name locked after failed sign-ins.")],
) -> None:
    """Unlock a user locked after failed sign-ins (and clear their failed attempts)."""
    from models.access import Identity, Role
    from models.auth import unlock_user
    from models.signin import signin_rules

    admin = Identity(f"cli:{getpass.getuser()}", Role.ADMIN)
    done = unlock_user(engine(), admin, name, rules=signin_rules(settings()))
    if done.was_locked_until is None:
        echo(f"{done.username!r} was not locked; its failed sign-ins no longer count")
    else:
        until = done.was_locked_until.strftime("%Y-%m-%d %H:%M:%S UTC")
        echo(f"{done.username!r} unlocked (it was locked until {until})")
