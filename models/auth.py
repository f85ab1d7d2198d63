"""Signing in: who a person is and which role they have, always from our ``app_user`` table.

Passwords are checked against Argon2id hashes (:mod:`models.users`). With an identity
provider (OIDC) the provider proves the e-mail or subject; the role still comes from
``app_user``, never from the provider's claims, and an unknown person is refused.
Every refusal is written to ``audit_event``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NoReturn, cast

from sqlalchemy import CursorResult, Engine, select, update

from .access import Action, Identity, require
from .db import transaction
from .errors import AccountopsError
from .schema import AccountManager, AppUser, AuditEvent, Role
from .users import add_user, hash_password, normalise_username, verify_password

# Audit actions written here.
SIGNED_IN = "auth.signed_in"
FAILED = "auth.failed"

# `accountops demo` users: one per role, with passwords printed on the terminal.
# DEMO ONLY: anyone who reads this file knows them; never create them on a real database.
DEMO_PASSWORD_SUFFIX = "-demo-pass"  # noqa: S105 (public by design, demo only)


class AuthenticationFailed(AccountopsError):
    """Sign-in refused: wrong user name or password, unknown or deactivated user."""

    code = "AUTH_FAILED"


@dataclass(frozen=True)
class UserRow:
    """One user as the administration page lists it (never the password hash)."""

    username: str
    display_name: str | None
    role: str
    manager_id: str | None
    is_active: bool
    sign_in: str  # "password" or "identity provider"
    created_at: datetime


@cache
def _dummy_hash() -> str:
    # Verifying against a real hash when the user is unknown makes an unknown name cost
    # the same Argon2 time as a wrong password, so timing does not reveal who exists.
    return hash_password("not-a-user-of-accountops")


def _identity(user: AppUser) -> Identity:
    return Identity(
        username=user.username,
        role=Role(user.role),
        manager_id=user.manager_id,
        display_name=user.display_name,
    )


def _audit(engine: Engine, actor: str, action: str, detail: str | None = None) -> None:
    with transaction(engine) as session:
        session.add(
            AuditEvent(
                actor=actor[:320],
                action=action,
                target_type="app_user",
                target_id=actor[:200],
                detail=detail,
            )
        )


def authenticate(engine: Engine, username: str, password: str) -> Identity:
    """The identity of ``username`` if ``password`` is right and the user is active.

    Raises :class:`AuthenticationFailed` with the same message for an unknown user and
    a wrong password; a deactivated user is told so only after a correct password.
    """
    name = normalise_username(username)
    with transaction(engine) as session:
        user = session.scalar(select(AppUser).where(AppUser.username == name)) if name else None
        stored = user.password_hash if user is not None else None
    if user is None or stored is None:
        verify_password(password, _dummy_hash())
        reason = "unknown user" if user is None else "user signs in through the identity provider"
        _audit(engine, name or "(empty)", FAILED, reason)
        raise AuthenticationFailed("wrong user name or password")
    if not verify_password(password, stored):
        _audit(engine, name, FAILED, "wrong password")
        raise AuthenticationFailed("wrong user name or password")
    if not user.is_active:
        _refuse_deactivated(engine, name, "user is deactivated")
    _audit(engine, name, SIGNED_IN, "password")
    return _identity(user)


def identity_for_subject(engine: Engine, email_or_subject: str) -> Identity:
    """The identity of a person the identity provider signed in (by e-mail or subject).

    The role is the one in ``app_user``: a person the provider knows but we do not is
    refused, whatever the provider's claims say.
    """
    name = normalise_username(email_or_subject or "")
    with transaction(engine) as session:
        user = session.scalar(select(AppUser).where(AppUser.username == name)) if name else None
    if user is None:
        _audit(engine, name or "(empty)", FAILED, "identity provider: not an accountops user")
        raise AuthenticationFailed(
            f"{name!r} is not a user of accountops; ask an administrator to add it "
            "(accountops user add)",
            code="AUTH_UNKNOWN_USER",
        )
    if not user.is_active:
        _refuse_deactivated(engine, name, "identity provider: user is deactivated")
    _audit(engine, name, SIGNED_IN, "identity provider")
    return _identity(user)


def _refuse_deactivated(engine: Engine, name: str, reason: str) -> NoReturn:
    """Audit a deactivated user's sign-in as failed (``reason``) and refuse it."""
    _audit(engine, name, FAILED, reason)
    raise AuthenticationFailed(
        f"user {name!r} is deactivated; ask an administrator to reactivate it",
        code="AUTH_DEACTIVATED",
    )


def current_identity(engine: Engine, username: str) -> Identity | None:
    """The identity of an already signed-in user as it is now; None once deactivated or removed.

    The dashboard calls it again while a session lasts, so a role change or a
    deactivation takes effect without waiting for the person to sign out.
    """
    with transaction(engine) as session:
        user = session.scalar(select(AppUser).where(AppUser.username == username))
        return _identity(user) if user is not None and user.is_active else None


def list_users(engine: Engine) -> list[UserRow]:
    """Every user, by name, for the administration page."""
    with transaction(engine) as session:
        users = session.scalars(select(AppUser).order_by(AppUser.username)).all()
        return [
            UserRow(
                username=u.username,
                display_name=u.display_name,
                role=Role(u.role).value,
                manager_id=u.manager_id,
                is_active=bool(u.is_active),
                sign_in="password" if u.password_hash else "identity provider",
                created_at=u.created_at,
            )
            for u in users
        ]


def set_user_active(engine: Engine, actor: Identity, username: str, active: bool) -> None:
    """(De)activate ``username``; only a role with ``manage_users`` may, and not on itself."""
    name = normalise_username(username)
    require(actor, Action.MANAGE_USERS, engine=engine, target_type="app_user", target_id=name)
    if name == actor.username and not active:
        raise AccountopsError(
            "you cannot deactivate yourself; ask another administrator", code="USER_INVALID"
        )
    with transaction(engine) as session:
        # An UPDATE's result is a CursorResult (it has rowcount); SQLAlchemy 2.0 types
        # Session.execute as the plain Result for every statement.
        done = cast(
            CursorResult[Any],
            session.execute(
                update(AppUser).where(AppUser.username == name).values(is_active=active)
            ),
        )
        if done.rowcount == 0:
            raise AccountopsError(f"no user {name!r}", code="USER_UNKNOWN")
        session.add(
            AuditEvent(
                actor=actor.username,
                action="user.activate" if active else "user.deactivate",
                target_type="app_user",
                target_id=name,
            )
        )


def demo_password(role: Role) -> str:
    """The printed demo password of the demo user for ``role`` (demo databases only)."""
    return f"{role.value}{DEMO_PASSWORD_SUFFIX}"


def create_demo_users(engine: Engine) -> list[tuple[str, str, str | None]]:
    """One user per role, named after the role, for ``accountops demo``; safe to repeat.

    Returns ``(username, role, password)`` rows; the password is None for a user of that
    name that existed before with another password (it is left alone). The demo account
    manager acts as the first account manager of the data, once there is one. Demo users
    have well-known passwords: never create them on a database people rely on.
    """
    rows: list[tuple[str, str, str | None]] = []
    with transaction(engine) as session:
        first_manager = session.scalar(
            select(AccountManager.manager_id).order_by(AccountManager.manager_id).limit(1)
        )
        for role in Role:
            known = demo_password(role)
            password: str | None = known
            user = session.scalar(select(AppUser).where(AppUser.username == role.value))
            if user is None:
                user = add_user(session, role.value, role, known, actor="accountops demo")
                user.display_name = f"Demo {role.value.replace('_', ' ')}"
            elif not verify_password(known, user.password_hash):
                password = None
            if role == Role.ACCOUNT_MANAGER and user.manager_id is None and password:
                user.manager_id = first_manager
            rows.append((user.username, role.value, password))
    return rows
