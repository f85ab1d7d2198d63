"""Who holds the pipeline lock: one row per lock name while a run holds it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class RunLock(Base):
    """The run that holds a lock, since when, and where it runs.

    On PostgreSQL the lock itself is a session advisory lock (released by the
    server when the holder's connection ends, so a killed run frees it); this row
    only names the holder. On SQLite the row *is* the lock: a row whose process is
    gone (same host, pid no longer running) is taken over, and so is a row from another
    host whose lease has run out (``lease_until``: its holder renews it while it runs;
    NULL on PostgreSQL, which needs none).
    """

    __tablename__ = "run_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(36))
    holder: Mapped[str] = mapped_column(String(300))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
