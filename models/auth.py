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
from .sessions import DEACTIVATED, end_sessions_of
from .signin import (
    BLOCKED,
    CLIENT_LENGTH,
    FAILED,
    LOCKED,
    SIGNED_IN,
    UNLOCKED,
    SignInRules,
    SignInState,
    delay_seconds,
    locked_names,
    refused_until,
    signin_state,
    utc_now,
)
from .users import add_user, hash_password, identity_of, normalise_username, verify_password

__all__ = [
    "BLOCKED",
    "FAILED",
    "LOCKED",
    "SIGNED_IN",
    "UNLOCKED",
    "AuthenticationFailed",
    "authenticate",
]

# One message for an unknown user, a wrong password, a locked name and an attempt made
# too soon: none of them tells whether the user exists (the audit event says which).
SIGN_IN_REFUSED = "sign-in failed or temporarily blocked; try again later"

# `accountops demo` users: one per role, with passwords printed on the terminal.
# DEMO ONLY: anyone who reads this file knows them; never create them on a real database.
DEMO_PASSWORD_SUFFIX = "-demo-pass"  # noqa: S105 (public by design, demo only)


class AuthenticationFailed(AccountopsError):
    """Sign-in refused: wrong user name or password, unknown, locked or deactivated user.

    ``retry_after`` is how many seconds the next attempt must wait (None: no wait); it
    depends only on the attempts made with that name (or from that client), never on
    whether the user exists.
    """

    code = "AUTH_FAILED"

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


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


def _audit(
    engine: Engine,
    actor: str,
    action: str,
    detail: str | None = None,
    *,
    client: str | None = None,
    at: datetime | None = None,
    target: str | None = None,
) -> None:
    with transaction(engine) as session:
        session.add(
            AuditEvent(
                actor=actor[:320],
                action=action,
                target_type="app_user",
                target_id=(target or actor)[:200],
                detail=detail,
                client=client,
                **({"at": at} if at is not None else {}),
            )
        )


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, int(-(-(until - now).total_seconds() // 1)))  # rounded up


def authenticate(
    engine: Engine,
    username: str,
    password: str,
    *,
    client: str | None = None,
    rules: SignInRules | None = None,
    now: datetime | None = None,
) -> Identity:
    """The identity of ``username`` if ``password`` is right and the user is active.

    Raises :class:`AuthenticationFailed` with the same message for an unknown user, a
    wrong password, a locked user name and an attempt made before the wait that earlier
    failures impose (:mod:`models.signin`); the audit event records the real reason.
    ``client`` is the address the attempt comes from (counted too, when known); ``now``
    is the time of the attempt (the clock when not given). A deactivated user is told so
    only after a correct password.
    """
    rules = rules or SignInRules.defaults()
    now = now or utc_now()
    client = client[:CLIENT_LENGTH] if client else None
    name = normalise_username(username)
    target = (name or "(empty)")[:200]
    with transaction(engine) as session:
        state = signin_state(session, target, client, rules, now)
        user = session.scalar(select(AppUser).where(AppUser.username == name)) if name else None
        stored = user.password_hash if user is not None else None
    blocked = refused_until(state, rules, now)
    if blocked is not None:
        # Refused before the password is checked: a locked name or a too-early attempt
        # costs no Argon2 time, for real and unknown names alike.
        why = "user name is locked" if state.locked_until else "too soon after failed sign-ins"
        detail = f"{why}; refused until {blocked.isoformat(timespec='seconds')}"
        _audit(engine, target, BLOCKED, detail, client=client, at=now)
        raise AuthenticationFailed(SIGN_IN_REFUSED, retry_after=_seconds(blocked, now))
    if user is None or stored is None:
        verify_password(password, _dummy_hash())
        reason = "unknown user" if user is None else "user signs in through the identity provider"
        _fail(engine, target, reason, client, state, rules, now)
    if not verify_password(password, stored):
        _fail(engine, target, "wrong password", client, state, rules, now)
    if not user.is_active:
        _audit(engine, target, FAILED, "user is deactivated", client=client, at=now)
        raise AuthenticationFailed(
            f"user {name!r} is deactivated; ask an administrator to reactivate it",
            code="AUTH_DEACTIVATED",
        )
    _audit(engine, target, SIGNED_IN, "password", client=client, at=now)
    return identity_of(user)


def _fail(
    engine: Engine,
    name: str,
    reason: str,
    client: str | None,
    state: SignInState,
    rules: SignInRules,
    now: datetime,
) -> NoReturn:
    """Record a failed attempt (and the lock it may cause) and refuse it."""
    user, from_client = state.user.plus_one(now), state.client.plus_one(now)
    detail = f"{reason} (failure {user.count} for this user name"
    detail += f", {from_client.count} from this client)" if client else ")"
    _audit(engine, name, FAILED, detail, client=client, at=now)
    if user.count >= rules.lock_after:
        until = now + rules.lock
        _audit(
            engine,
            name,
            LOCKED,
            f"after {user.count} failed sign-ins; until {until.isoformat(timespec='seconds')}",
            client=client,
            at=now,
        )
        raise AuthenticationFailed(SIGN_IN_REFUSED, retry_after=_seconds(until, now))
    wait = max(delay_seconds(user.count, rules), delay_seconds(from_client.count, rules))
    raise AuthenticationFailed(SIGN_IN_REFUSED, retry_after=int(-(-wait // 1)) or None)


@dataclass(frozen=True)
class Unlocked:
    """What :func:`unlock_user` did: the name, and until when it was locked (None: it was not)."""

    username: str
    was_locked_until: datetime | None


def unlock_user(
    engine: Engine,
    actor: Identity,
    username: str,
    *,
    rules: SignInRules | None = None,
    now: datetime | None = None,
) -> Unlocked:
    """Lift the lock on ``username`` and clear its failed sign-ins (``auth.unlocked``, by
    ``actor``); only a role with ``manage_users`` may. A user who is not locked is
    unlocked all the same (its earlier failures then no longer delay it)."""
    rules = rules or SignInRules.defaults()
    now = now or utc_now()
    name = normalise_username(username)
    require(actor, Action.MANAGE_USERS, engine=engine, target_type="app_user", target_id=name)
    with transaction(engine) as session:
        if session.scalar(select(AppUser.user_id).where(AppUser.username == name)) is None:
            raise AccountopsError(f"no user {name!r}", code="USER_UNKNOWN")
        until = signin_state(session, name, None, rules, now).locked_until
    detail = (
        f"was locked until {until.isoformat(timespec='seconds')}" if until else "was not locked"
    )
    _audit(engine, actor.username, UNLOCKED, detail, at=now, target=name)
    return Unlocked(name, until)


def locked_users(
    engine: Engine, rules: SignInRules | None = None, now: datetime | None = None
) -> dict[str, datetime]:
    """User names locked now, with the end of each lock (for the administration page)."""
    with transaction(engine) as session:
        return locked_names(session, rules or SignInRules.defaults(), now or utc_now())


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
    return identity_of(user)


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
        return identity_of(user) if user is not None and user.is_active else None


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
        if not active:  # signed out everywhere at once, not at the next check
            end_sessions_of(session, name, DEACTIVATED, utc_now())
        session.add(
            AuditEvent(
                actor=actor.username,
                action="user.activate" if active else "user.deactivate",
                target_type="app_user",
                target_id=name,
            )
        )


def set_user_role(engine: Engine, actor: Identity, username: str, role: Role) -> Role:
    """Give ``username`` the role ``role`` (``user.role``, "old -> new", in the audit log);
    only a role with ``manage_users`` may, and not on itself (an administrator who demotes
    themselves could leave nobody to undo it). Returns the previous role; no event is
    written when the role does not change."""
    name = normalise_username(username)
    require(actor, Action.MANAGE_USERS, engine=engine, target_type="app_user", target_id=name)
    if name == actor.username:
        raise AccountopsError(
            "you cannot change your own role; ask another administrator", code="USER_INVALID"
        )
    with transaction(engine) as session:
        user = session.scalar(select(AppUser).where(AppUser.username == name))
        if user is None:
            raise AccountopsError(f"no user {name!r}", code="USER_UNKNOWN")
        before = Role(user.role)
        if before != role:
            user.role = role
            session.add(
                AuditEvent(
                    actor=actor.username,
                    action="user.role",
                    target_type="app_user",
                    target_id=name,
                    detail=f"{before.value} -> {role.value}",
                )
            )
    return before


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
