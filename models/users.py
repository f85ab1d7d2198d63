"""Users and roles: adding users, hashing and checking passwords."""

from __future__ import annotations

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import Identity
from .errors import AccountopsError
from .schema import AppUser, AuditEvent, Role

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHash.recommended()  # Argon2id with the library's current parameters


class UserError(AccountopsError):
    code = "USER_INVALID"


def normalise_username(name: str) -> str:
    """User names and e-mails compare trimmed and lower-case."""
    return name.strip().lower()


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise UserError(f"unknown role {value!r}; use one of: {allowed}") from None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:  # a user without a password cannot sign in with one
        return False
    return _hasher.verify(password, password_hash)


def add_user(
    session: Session, username: str, role: Role, password: str | None, *, actor: str
) -> AppUser:
    """Create a user; the password is hashed (Argon2id) and never stored in clear."""
    name = normalise_username(username)
    if not name:
        raise UserError("user name is empty")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password for {name!r} is shorter than {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(AppUser.user_id).where(AppUser.username == name)) is not None:
        raise UserError(f"user {name!r} already exists", code="USER_EXISTS")
    user = AppUser(
        username=name,
        display_name=username.strip(),
        role=role,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.add(
        AuditEvent(
            actor=actor,
            action="user.add",
            target_type="app_user",
            target_id=name,
            detail=f"role={role.value}",
        )
    )
    return user


def identity_of(user: AppUser) -> Identity:
    """The signed-in identity of ``user`` (its role from our table, as it is now)."""
    return Identity(
        username=user.username,
        role=Role(user.role),
        manager_id=user.manager_id,
        display_name=user.display_name,
    )
