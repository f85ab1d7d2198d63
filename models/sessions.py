"""Dashboard sessions: a password sign-in that survives a reload, ended at once server-side.

A session is a row of ``app_session``. The browser holds the session's token in a signed
cookie (:data:`SESSION_COOKIE`: HttpOnly, SameSite=Strict, set by the dashboard's server,
``dashboards/server.py``); only the token's SHA-256 is stored. Every run of the dashboard
checks the row (:func:`check_session`), so a sign-out, a deactivation, the idle timeout or
the absolute lifetime ends the session at the person's next click, in every tab.

The life of a session:

1. :func:`begin_session` after a correct password: a row, and a one-time hand-over code
   valid for ``handoff_seconds``. A Streamlit script cannot set an HttpOnly cookie, so
   the dashboard sends the browser to its hand-over address with the code.
2. :func:`hand_over` (the server's hand-over address) trades the code, once, for the
   cookie's value: a fresh random token, signed with the installation's secret
   (:func:`session_secret`) and a timestamp that expires with the session.
3. :func:`check_session` on every run: by the session id the Streamlit session already
   holds, or by the cookie when a page is (re)loaded.
4. :func:`end_session` (sign-out), :func:`end_sessions_of` (deactivation), or the check
   itself ending it (idle, expired).

A sign-in through the identity provider is a session too (:func:`begin_provider_session`),
with the same rules. Its browser holds Streamlit's identity cookie, not ours: the row is
found by that sign-in's key (the ID token's issuer, subject, issue time and nonce, the
same in every tab, new at each sign-in), stored hashed like a cookie's token. Without
it, a provider sign-in lasted as long as Streamlit's cookie (30 days), idle or not.

Starting, ending and expiring are audit events (``auth.session_*``; the sign-in itself
is ``auth.signed_in``, written by :func:`models.auth.authenticate`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from .access import Identity
from .db import transaction, write_transaction
from .errors import ConfigError
from .schema import AppUser, AuditEvent, SignInSession
from .signin import CLIENT_LENGTH, utc_now
from .users import identity_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .settings import Settings

SESSION_COOKIE = "accountops_session"
SECRET_FILE = "session-secret"  # noqa: S105 (a file name: the key made when none is set)

# Why a session ended (app_session.end_reason, and the audit event's detail).
SIGNED_OUT = "signed_out"
DEACTIVATED = "deactivated"
IDLE = "idle"
EXPIRED = "expired"

# Audit actions.
SESSION_STARTED = "auth.session_started"
SESSION_ENDED = "auth.session_ended"

_SALT = "accountops.session"


@dataclass(frozen=True)
class SessionRules:
    """How long a session lasts (``ACCOUNTOPS_SESSION_*`` settings)."""

    idle_minutes: float = 30.0
    lifetime_hours: float = 12.0
    handoff_seconds: float = 60.0
    # ``last_seen_at`` is written at most this often: a click is not a database write.
    touch_seconds: float = 30.0

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)

    @property
    def lifetime(self) -> timedelta:
        return timedelta(hours=self.lifetime_hours)


def session_rules(settings: Settings) -> SessionRules:
    """The session rules of ``settings`` (the touch interval never exceeds a tenth of idle)."""
    return SessionRules(
        idle_minutes=settings.session_idle_minutes,
        lifetime_hours=settings.session_lifetime_hours,
        touch_seconds=min(SessionRules.touch_seconds, settings.session_idle_minutes * 6),
    )


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies.

    ``ACCOUNTOPS_SESSION_SECRET`` when set (required in production, where several
    dashboard replicas must share it); otherwise a random key kept in the data folder
    (``<data_dir>/session-secret``, readable by its owner only), made on first use.
    Changing it signs everybody out.
    """
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    if settings.env == "prod":
        raise ConfigError(
            "ACCOUNTOPS_SESSION_SECRET is not set: in production set it to a long random "
            "value (at least 32 characters), the same for every dashboard replica"
        )
    path = settings.data_dir / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def _signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=_SALT)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Begun:
    """A new session: its id, and the one-time code that gets the browser its cookie."""

    session_id: int
    handoff: str


def begin_session(
    engine: Engine,
    identity: Identity,
    *,
    client: str | None = None,
    rules: SessionRules | None = None,
    now: datetime | None = None,
) -> Begun:
    """Start a session for ``identity`` (just signed in): the row and its hand-over code."""
    rules = rules or SessionRules()
    now = now or utc_now()
    handoff = secrets.token_urlsafe(32)
    until = now + timedelta(seconds=rules.handoff_seconds)
    with transaction(engine) as session:
        row = _new_session(
            session,
            identity,
            rules,
            now,
            client,
            handoff_hash=_digest(handoff),
            handoff_until=until,
        )
        return Begun(row.session_id, handoff)


def begin_provider_session(
    engine: Engine,
    identity: Identity,
    login: str,
    *,
    client: str | None = None,
    rules: SessionRules | None = None,
    now: datetime | None = None,
) -> SessionCheck:
    """Start the session of ``identity``'s sign-in at the identity provider, named by
    ``login`` (see the module docstring); checked afterwards with
    ``check_session(login=...)``. Two tabs that start it at once share one session."""
    rules = rules or SessionRules()
    now = now or utc_now()
    try:
        with transaction(engine) as session:
            row = _new_session(session, identity, rules, now, client, token_hash=_login(login))
            return SessionCheck(row.session_id, identity)
    except IntegrityError:  # another tab began it first
        return check_session(engine, login=login, rules=rules, now=now)


def provider_sign_in(
    engine: Engine,
    subject: str,
    login: str,
    *,
    rules: SessionRules | None = None,
    now: datetime | None = None,
) -> SessionCheck:
    """The session of a sign-in at the identity provider: ``subject`` (its e-mail, else
    subject) signed in there; ``login`` names that sign-in (see the module docstring).

    One seen before is checked (one that ended stays ended, even if its person was
    reactivated since: a new sign-in at the provider starts a new session). A new one is
    let in as ``models.auth.identity_for_subject`` lets it (else it raises
    ``AuthenticationFailed``, audited) and its session begun.
    """
    from .auth import identity_for_subject  # models.auth imports this module

    check = check_session(engine, login=login, rules=rules, now=now)
    if check.session_id is not None:
        return check
    identity = identity_for_subject(engine, subject)
    return begin_provider_session(engine, identity, login, rules=rules, now=now)


def _new_session(
    session: Session,
    identity: Identity,
    rules: SessionRules,
    now: datetime,
    client: str | None,
    **found_by: object,
) -> SignInSession:
    """A new session row (audited), found later by ``found_by`` (a hash column, and the
    hand-over's end with its code)."""
    row = SignInSession(
        username=identity.username,
        created_at=now,
        last_seen_at=now,
        expires_at=now + rules.lifetime,
        client=client[:CLIENT_LENGTH] if client else None,
        **found_by,
    )
    session.add(row)
    session.flush()
    _audit(session, identity.username, SESSION_STARTED, f"session {row.session_id}", now)
    return row


def _login(login: str) -> str:
    """The stored hash of a provider sign-in's key (never equal to a cookie token's)."""
    return _digest(f"identity provider: {login}")


def hand_over(
    engine: Engine, handoff: str, *, secret: str, now: datetime | None = None
) -> str | None:
    """The cookie value for the session whose hand-over code is ``handoff``, once.

    None when the code is unknown, already used, too old, or its session is over. The
    token is made here, so it exists only in this answer and in the browser's cookie.
    """
    if not handoff:
        return None
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    with write_transaction(engine) as session:
        row = session.scalar(
            select(SignInSession).where(SignInSession.handoff_hash == _digest(handoff))
        )
        if row is None:
            return None
        fresh = row.handoff_until is not None and now <= row.handoff_until
        row.handoff_hash = None  # used, whatever the outcome
        row.handoff_until = None
        if not fresh or row.ended_at is not None or row.token_hash is not None:
            return None
        row.token_hash = _digest(token)
    return _signer(secret).sign(token).decode("ascii")


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of :func:`check_session`: who is signed in, or why nobody is."""

    session_id: int | None
    identity: Identity | None
    ended: str | None = None  # SIGNED_OUT, DEACTIVATED, IDLE, EXPIRED; None: none found


NO_SESSION = SessionCheck(None, None)


def check_session(
    engine: Engine,
    *,
    session_id: int | None = None,
    cookie: str | None = None,
    secret: str | None = None,
    login: str | None = None,
    rules: SessionRules | None = None,
    now: datetime | None = None,
) -> SessionCheck:
    """The identity of the session ``session_id``, else of the one ``cookie`` carries,
    else of the provider sign-in ``login`` (see :func:`begin_provider_session`).

    A session past its idle timeout or its lifetime, or whose user was deactivated or
    removed, is ended here (and audited); the answer then says why. A cookie with a bad
    signature, or signed longer ago than the lifetime, finds no session.
    """
    rules = rules or SessionRules()
    now = now or utc_now()
    if session_id is not None:
        where = SignInSession.session_id == session_id
    elif cookie and secret:
        try:
            token = _signer(secret).unsign(cookie, max_age=int(rules.lifetime.total_seconds()))
        except BadSignature:  # also SignatureExpired
            return NO_SESSION
        where = SignInSession.token_hash == _digest(token.decode("ascii"))
    elif login:
        where = SignInSession.token_hash == _login(login)
    else:
        return NO_SESSION
    with transaction(engine) as session:
        found = session.execute(
            select(SignInSession, AppUser)
            .outerjoin(AppUser, AppUser.username == SignInSession.username)
            .where(where)
        ).one_or_none()
    if found is None:
        return NO_SESSION
    row, user = found
    if row.ended_at is not None:
        return SessionCheck(row.session_id, None, row.end_reason)
    ended = (
        EXPIRED
        if now >= row.expires_at
        else IDLE
        if now - row.last_seen_at > rules.idle
        else DEACTIVATED
        if user is None or not user.is_active
        else None
    )
    if ended is not None:
        end_session(engine, row.session_id, reason=ended, now=now)
        return SessionCheck(row.session_id, None, ended)
    if (now - row.last_seen_at).total_seconds() >= rules.touch_seconds:
        with transaction(engine) as session:
            session.execute(
                update(SignInSession)
                .where(SignInSession.session_id == row.session_id)
                .values(last_seen_at=now)
            )
    return SessionCheck(row.session_id, identity_of(user))


def end_session(
    engine: Engine, session_id: int, *, reason: str = SIGNED_OUT, now: datetime | None = None
) -> None:
    """End one session (a no-op when it has already ended)."""
    now = now or utc_now()
    with transaction(engine) as session:
        _end(session, SignInSession.session_id == session_id, reason, now)


def end_sessions_of(session: Session, username: str, reason: str, now: datetime) -> int:
    """End every open session of ``username`` in the caller's transaction; how many."""
    return _end(session, SignInSession.username == username, reason, now)


def _end(session: Session, where, reason: str, now: datetime) -> int:
    rows = session.execute(
        select(SignInSession.session_id, SignInSession.username).where(
            where, SignInSession.ended_at.is_(None)
        )
    ).all()
    if not rows:
        return 0
    session.execute(
        update(SignInSession)
        .where(SignInSession.session_id.in_([r.session_id for r in rows]))
        .values(ended_at=now, end_reason=reason, handoff_hash=None)
    )
    for session_id, username in rows:
        _audit(session, username, SESSION_ENDED, f"session {session_id}: {reason}", now)
    return len(rows)


def _audit(session: Session, username: str, action: str, detail: str, now: datetime) -> None:
    session.add(
        AuditEvent(
            actor=username[:320],
            action=action,
            target_type="app_user",
            target_id=username[:200],
            detail=detail,
            at=now,
        )
    )
