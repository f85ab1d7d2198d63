"""Sign-in throttling and lockout, counted from the audit log itself.

Failed sign-ins are the ``auth.failed`` rows of ``audit_event``: one source of truth, no
second table that could disagree with the audit trail, and nothing is ever deleted to
"reset" a counter (audit rows are append-only). A count starts again after the last
successful sign-in, unlock or lock of that user name, and only failures inside the
window count.

- After ``delay_after`` failures (per user name, and per client address when the
  dashboard knows it) the next attempt must wait 1 s after the last failure, then 2, 4,
  8 ... s (``2 ** (failures - delay_after)``, at most ``max_delay_seconds``). An attempt
  made sooner is refused without checking the password (``auth.blocked``). The server
  never sleeps: a sleeping dashboard thread per attempt would let anyone tie up the
  server; the caller is told how long to wait instead.
- After ``lock_after`` failures of one user name the name is locked for
  ``lock_minutes`` (``auth.locked``): even the right password is refused until the lock
  expires or an administrator unlocks it (``auth.unlocked``).
- Unknown user names are counted and locked exactly like real ones, so neither the
  message nor the throttling tells whether a user exists.

The decisions (:func:`delay_seconds`, :func:`refused_until`) are pure functions of the
counts, the rules and ``now``; :func:`signin_state` reads the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .schema import AuditEvent

if TYPE_CHECKING:
    from .settings import Settings

# The audit actions of signing in.
SIGNED_IN = "auth.signed_in"
FAILED = "auth.failed"  # a checked attempt that failed: these are counted
BLOCKED = "auth.blocked"  # refused unchecked (locked, or too soon): not counted
LOCKED = "auth.locked"
UNLOCKED = "auth.unlocked"

CLIENT_LENGTH = 64  # audit_event.client


@dataclass(frozen=True)
class SignInRules:
    """The thresholds of throttling and lockout (``ACCOUNTOPS_SIGNIN_*`` settings)."""

    delay_after: int
    lock_after: int
    lock_minutes: float
    window_minutes: float
    max_delay_seconds: float

    @classmethod
    def defaults(cls) -> SignInRules:
        """The settings' defaults (for callers and tests that do not pass their own)."""
        from .settings import Settings

        return cls(
            **{f.name: Settings.model_fields[f"signin_{f.name}"].default for f in fields(cls)}
        )

    @property
    def lock(self) -> timedelta:
        return timedelta(minutes=self.lock_minutes)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


def signin_rules(settings: Settings) -> SignInRules:
    """The sign-in rules of ``settings``."""
    return SignInRules(
        delay_after=settings.signin_delay_after,
        lock_after=settings.signin_lock_after,
        lock_minutes=settings.signin_lock_minutes,
        window_minutes=settings.signin_window_minutes,
        max_delay_seconds=settings.signin_max_delay_seconds,
    )


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins that count now (for a user name or a client), and the last one's time."""

    count: int = 0
    last: datetime | None = None

    def plus_one(self, at: datetime) -> Failures:
        return Failures(self.count + 1, at)


@dataclass(frozen=True)
class SignInState:
    """What the audit log says about a user name (and client) at ``now``."""

    user: Failures
    client: Failures
    locked_until: datetime | None  # set while the user name is locked


def delay_seconds(failures: int, rules: SignInRules) -> float:
    """How long after the last failure the next attempt must wait (0: no wait)."""
    if failures < rules.delay_after:
        return 0.0
    # The exponent is capped first: 2 ** 10_000 would overflow a float.
    exponent = min(failures - rules.delay_after, 62)
    return float(min(2.0**exponent, rules.max_delay_seconds))


def wait_until(failures: Failures, rules: SignInRules) -> datetime | None:
    """The earliest time of the next attempt after ``failures``, None if there is no wait."""
    seconds = delay_seconds(failures.count, rules)
    if not seconds or failures.last is None:
        return None
    return failures.last + timedelta(seconds=seconds)


def refused_until(state: SignInState, rules: SignInRules, now: datetime) -> datetime | None:
    """Until when an attempt made at ``now`` is refused unchecked; None if it is checked."""
    if state.locked_until is not None and now < state.locked_until:
        return state.locked_until
    waits = [w for w in (wait_until(state.user, rules), wait_until(state.client, rules)) if w]
    latest = max(waits, default=None)
    return latest if latest is not None and now < latest else None


def lock_until(
    locked_at: datetime | None, released_at: datetime | None, rules: SignInRules, now: datetime
) -> datetime | None:
    """The end of the lock taken at ``locked_at``, unless released since or already over."""
    if locked_at is None or (released_at is not None and released_at >= locked_at):
        return None
    until = (locked_at + rules.lock).astimezone(UTC)  # PostgreSQL answers in its own zone
    return until if now < until else None


def signin_state(
    session: Session, name: str, client: str | None, rules: SignInRules, now: datetime
) -> SignInState:
    """The failures that count for ``name`` and ``client`` at ``now``, and the lock."""
    marks: dict[str, datetime] = {
        action: at
        for action, at in session.execute(
            select(AuditEvent.action, func.max(AuditEvent.at))
            .where(
                AuditEvent.target_type == "app_user",
                AuditEvent.target_id == name,
                AuditEvent.action.in_((SIGNED_IN, UNLOCKED, LOCKED)),
            )
            .group_by(AuditEvent.action)
        ).all()
    }
    released = max((marks[a] for a in (SIGNED_IN, UNLOCKED) if a in marks), default=None)
    since = max([now - rules.window, *marks.values()])
    user = _failures(
        session, AuditEvent.target_type == "app_user", AuditEvent.target_id == name, since
    )
    client_failures = (
        _failures(session, AuditEvent.client == client, None, now - rules.window)
        if client
        else Failures()
    )
    return SignInState(
        user=user,
        client=client_failures,
        locked_until=lock_until(marks.get(LOCKED), released, rules, now),
    )


def _failures(session: Session, where, also, since: datetime) -> Failures:
    conditions = [where, AuditEvent.action == FAILED, AuditEvent.at > since]
    if also is not None:
        conditions.append(also)
    count, last = session.execute(
        select(func.count(), func.max(AuditEvent.at)).where(*conditions)
    ).one()
    return Failures(int(count), last)


def locked_names(session: Session, rules: SignInRules, now: datetime) -> dict[str, datetime]:
    """Every user name locked at ``now``, with the end of its lock (set-based: two queries)."""
    locks: dict[str, datetime] = {
        name: at
        for name, at in session.execute(
            select(AuditEvent.target_id, func.max(AuditEvent.at))
            .where(
                AuditEvent.action == LOCKED,
                AuditEvent.target_type == "app_user",
                AuditEvent.at > now - rules.lock,
            )
            .group_by(AuditEvent.target_id)
        ).all()
        if name is not None
    }
    if not locks:
        return {}
    releases: dict[str, datetime] = {
        name: at
        for name, at in session.execute(
            select(AuditEvent.target_id, func.max(AuditEvent.at))
            .where(
                AuditEvent.action.in_((SIGNED_IN, UNLOCKED)),
                AuditEvent.target_type == "app_user",
                AuditEvent.target_id.in_(list(locks)),
            )
            .group_by(AuditEvent.target_id)
        ).all()
        if name is not None
    }
    out = {}
    for name, locked_at in locks.items():
        until = lock_until(locked_at, releases.get(name), rules, now)
        if until is not None:
            out[name] = until
    return out


def utc_now() -> datetime:
    """The clock the services use when the caller passes no ``now``."""
    return datetime.now(UTC)
