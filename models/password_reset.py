"""An administrator sets a new password for a user (``accountops user reset-password``).

Kept apart from :mod:`models.users` (which :mod:`models.sessions` imports) because a reset
also ends the user's open sessions: whoever knew the old password is signed out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from .access import Action, Identity, require
from .db import transaction
from .errors import AccountopsError
from .schema import AppUser, AuditEvent
from .sessions import end_sessions_of
from .signin import utc_now
from .users import MIN_PASSWORD_LENGTH, UserError, hash_password, normalise_username

PASSWORD_RESET = "user.password_reset"  # noqa: S105 (the audit action, not a password)
RESET = "password_reset"  # why the user's sessions ended


def reset_password(
    engine: Engine, actor: Identity, username: str, password: str, *, now: datetime | None = None
) -> int:
    """Give ``username`` the new ``password`` (hashed), end its open sessions and write
    ``user.password_reset`` to the audit log; only a role with ``manage_users`` may.
    Returns how many sessions ended. A user of the identity provider gets a password too
    (it may then also sign in with it)."""
    name = normalise_username(username)
    require(actor, Action.MANAGE_USERS, engine=engine, target_type="app_user", target_id=name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password for {name!r} is shorter than {MIN_PASSWORD_LENGTH} characters")
    now = now or utc_now()
    with transaction(engine) as session:
        user = session.scalar(select(AppUser).where(AppUser.username == name))
        if user is None:
            raise AccountopsError(f"no user {name!r}", code="USER_UNKNOWN")
        had_password = user.password_hash is not None
        user.password_hash = hash_password(password)
        ended = end_sessions_of(session, name, RESET, now)
        session.add(
            AuditEvent(
                actor=actor.username,
                action=PASSWORD_RESET,
                target_type="app_user",
                target_id=name,
                detail=("password replaced" if had_password else "first password")
                + f"; {ended} session(s) ended",
                at=now,
            )
        )
    return ended
