"""``accountops user ...``: the users who sign in to the dashboard, their roles and the
accounts a planner may edit. Every change is made as the CLI's admin (``cli:<login>``),
through the same services as the *Admin: users* page: the same checks, the same audit
events.
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


def _admin():
    """The CLI's acting identity: an administrator named after the login running it."""
    from models.access import Identity, Role

    return Identity(f"cli:{getpass.getuser()}", Role.ADMIN)


def _read_password(name: str, password_stdin: bool) -> str:
    """The password from standard input (one line) or, at a terminal, asked for."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {name}: ")
    raise click_exc.UsageError("no terminal to ask for the password: pass --password-stdin")


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
UserName = Annotated[str, typer.Argument(help="The user name (case-insensitive).")]


@user_app.command("list")
def user_list() -> None:
    """Every user: name, role, status, how they sign in, when they were added."""
    from models.auth import list_users

    users = list_users(engine())
    if not users:
        echo("no users yet: add one with `accountops user add NAME --role ROLE`")
        return
    header = ("user", "role", "status", "signs in with", "manager id", "added (UTC)", "name")
    rows = [
        (
            u.username,
            u.role,
            "active" if u.is_active else "deactivated",
            u.sign_in,
            u.manager_id or "",
            u.created_at.strftime("%Y-%m-%d %H:%M"),
            u.display_name or "",
        )
        for u in users
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [f"{c:<{w}}" for c, w in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, _printable(row[-1])]).rstrip())


def _printable(text: str) -> str:
    """A name as one safe line on a terminal: control characters shown as ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text)


@user_app.command("set-role")
def user_set_role(
    name: UserName,
    role: Annotated[str, typer.Argument(help="viewer, account_manager, planner, approver, admin.")],
) -> None:
    """Give a user another role (audited as user.role, old -> new)."""
    from models.auth import set_user_role
    from models.users import normalise_username, parse_role

    new = parse_role(role)
    before = set_user_role(engine(writes=True), _admin(), name, new)
    who = normalise_username(name)
    if before == new:
        echo(f"{who!r} already has role {new.value}: nothing to do")
    else:
        echo(f"{who!r} is now {new.value} (was {before.value})")


@user_app.command("deactivate")
def user_deactivate(name: UserName) -> None:
    """Deactivate a user: they cannot sign in, and their open sessions end at once."""
    from models.auth import set_user_active
    from models.users import normalise_username

    set_user_active(engine(writes=True), _admin(), name, False)
    echo(f"{normalise_username(name)!r} is now deactivated")


@user_app.command("activate")
def user_activate(name: UserName) -> None:
    """Reactivate a deactivated user."""
    from models.auth import set_user_active
    from models.users import normalise_username

    set_user_active(engine(writes=True), _admin(), name, True)
    echo(f"{normalise_username(name)!r} is now active")


@user_app.command("reset-password")
def user_reset_password(name: UserName, password_stdin: PasswordStdin = False) -> None:
    """Set a new password for a user; their open sessions end (audited)."""
    from models.password_reset import reset_password
    from models.users import normalise_username

    eng = engine(writes=True)
    password = _read_password(name, password_stdin)
    ended = reset_password(eng, _admin(), name, password)
    echo(f"password of {normalise_username(name)!r} reset; {ended} open session(s) ended")


@user_app.command("assign")
def user_assign(
    name: Annotated[str, typer.Argument(help="The planner (user name).")],
    customer_ids: Annotated[list[str], typer.Argument(help="Accounts whose plans they edit.")],
) -> None:
    """Assign accounts to a planner: they may then edit those accounts' plans."""
    from models.plans.assignments import assign_accounts

    new = assign_accounts(engine(), _admin(), name, customer_ids)
    kept = len(customer_ids) - len(new)
    echo(
        f"{name.strip().lower()!r}: {len(new)} account(s) assigned"
        + (f", {kept} already were" if kept else "")
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name or e-mail (case-insensitive).")],
    role: Annotated[str, typer.Option(help="viewer, account_manager, planner, approver, admin.")],
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password",
            "--oidc",
            help="Signs in only through the identity provider (ACCOUNTOPS_AUTH_MODE=oidc): "
            "NAME is the e-mail it returns (else the subject); no password is stored.",
        ),
    ] = False,
) -> None:
    """Add a user who signs in with a password (stored as an Argon2 hash), or with
    --no-password (or --oidc) through the identity provider."""
    from models.db import transaction
    from models.users import add_user, parse_role

    parsed_role = parse_role(role)
    if no_password and password_stdin:
        raise click_exc.UsageError("--no-password and --password-stdin exclude each other")
    engine(writes=True).dispose()  # the database is there before a password is asked for
    password = None if no_password else _read_password(name, password_stdin)
    with transaction(engine()) as session:
        add_user(session, name, parsed_role, password, actor=f"cli:{getpass.getuser()}")
    how = " (signs in through the identity provider)" if password is None else ""
    echo(f"user {name.strip().lower()!r} added with role {parsed_role.value}{how}")


@user_app.command("unlock")
def user_unlock(
    name: Annotated[str, typer.Argument(help="The user name locked after failed sign-ins.")],
) -> None:
    """Unlock a user locked after failed sign-ins (and clear their failed attempts)."""
    from models.auth import unlock_user
    from models.signin import signin_rules

    done = unlock_user(engine(), _admin(), name, rules=signin_rules(settings()))
    if done.was_locked_until is None:
        echo(f"{done.username!r} was not locked; its failed sign-ins no longer count")
    else:
        until = done.was_locked_until.strftime("%Y-%m-%d %H:%M:%S UTC")
        echo(f"{done.username!r} unlocked (it was locked until {until})")
