"""Users with roles, their dashboard sessions, and the append-only audit log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, created_at_column, enum_column


class Role(enum.StrEnum):
    VIEWER = "viewer"
    ACCOUNT_MANAGER = "account_manager"
    PLANNER = "planner"
    APPROVER = "approver"
    ADMIN = "admin"


class AppUser(Base):
    """A person who signs in. Roles come from here, never from IdP claims."""

    __tablename__ = "app_user"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Normalised (lower-case, trimmed) user name or e-mail / OIDC subject.
    username: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # NULL for users who only sign in through the identity provider.
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # Row-level access: the account manager this user acts as, if any.
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("account_manager.manager_id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()


class AuditEvent(Base):
    """Who did what and when. Append-only: no service changes or deletes a row, and a
    trigger refuses UPDATE and DELETE on both databases (migration 0017).

    Sign-in throttling counts its failures from these rows (``models.signin``), by user
    name (``target_id``) and by client address (``client``), hence the two indexes.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_target_id_at", "target_id", "at"),
        Index("ix_audit_event_client_at", "client", "at"),
        Index("ix_audit_event_at", "at"),
    )

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    # The client's network address for sign-in events, when the dashboard knows it.
    client: Mapped[str | None] = mapped_column(String(64))


class SignInSession(Base):
    """One password sign-in to the dashboard, from sign-in to its end (``models.sessions``).

    The browser holds a signed cookie carrying a random token; only the token's SHA-256
    is stored, so a copy of this table signs nobody in. The cookie is set by a one-time
    hand-over (``handoff_hash``, valid for seconds) because a Streamlit script cannot set
    an HttpOnly cookie itself. ``ended_at`` set: the session is over (signed out,
    deactivated, idle, expired) whatever the cookie says.
    """

    __tablename__ = "app_session"
    __table_args__ = (Index("ix_app_session_username_ended_at", "username", "ended_at"),)

    session_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))
    client: Mapped[str | None] = mapped_column(String(64))
