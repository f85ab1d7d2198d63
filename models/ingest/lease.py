"""The lease on a batch claim: who holds a ``started`` batch, and for how long.

A claim names its process (token, host, pid) and runs until ``lease_until``. The
process renews the lease while it works (:class:`LeaseKeeper`, a thread beside the
load); a process that dies stops renewing, so its claim ends when the lease runs out,
whatever host it ran on. On its own host a dead pid ends it at once. Times come from
the database server's clock on PostgreSQL, so hosts whose clocks differ agree on when
a lease ran out; a SQLite file has one host.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select, update

from models.leases import Renewing
from models.runlock import process_alive
from models.schema import BatchStatus, IngestBatch


class ClaimLost(Exception):
    """Another process took this load's batch over (this load's lease had run out)."""


def database_now(conn: Connection) -> datetime:
    """Now, by the database server's clock (PostgreSQL) or this host's (SQLite)."""
    if conn.dialect.name == "postgresql":
        now: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
        return now.astimezone(UTC)
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClaimHolder:
    """The process a batch's claim names, as the ledger row records it."""

    batch_id: int
    host: str | None
    pid: int | None
    since: datetime | None
    lease_until: datetime | None

    @classmethod
    def of(cls, row) -> ClaimHolder:
        return cls(row.batch_id, row.claimed_host, row.claimed_pid, row.started_at, row.lease_until)

    def live(self, now: datetime) -> bool:
        """Whether the claim still holds: its lease runs, and its process is not known dead."""
        if self.lease_until is None or self.lease_until <= now:
            return False
        return self.host != socket.gethostname() or process_alive(self.host, self.pid)

    def describe(self) -> str:
        def at(moment: datetime | None) -> str:
            return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if moment else "unknown"

        return (
            f"pid {self.pid} on {self.host or 'an unknown host'} (claimed {at(self.since)}, "
            f"lease until {at(self.lease_until)})"
        )


class LeaseKeeper(Renewing):
    """Renew one claim's lease every third of its length while the ``with`` block runs.

    A renewal that fails (the database busy or briefly away) is tried again within a
    second (:class:`~models.leases.Renewing`); on SQLite the load's own write lock holds
    renewals back until it commits, and no other process can take the claim over
    meanwhile either (that needs the same lock).
    """

    def __init__(self, engine: Engine, batch_id: int, token: str, lease_seconds: float) -> None:
        self.engine, self.batch_id, self.token = engine, batch_id, token
        super().__init__(self.renew, timedelta(seconds=lease_seconds), f"lease-batch-{batch_id}")

    def renew(self) -> bool:
        """Push the lease on; False if the claim is no longer ours (or no longer started)."""
        from .claim import begin_claim

        b = IngestBatch.__table__
        with self.engine.connect() as conn:
            begin_claim(conn)
            done = conn.execute(
                update(b)
                .where(
                    b.c.batch_id == self.batch_id,
                    b.c.claim_token == self.token,
                    b.c.status == BatchStatus.STARTED,
                )
                .values(lease_until=database_now(conn) + self.lease)
            )
            conn.commit()
            return bool(done.rowcount)
