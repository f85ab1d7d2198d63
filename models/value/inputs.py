"""Step 1 of the recompute: the roll-up refresh and, beside it, what it does not change.

The refresh (a transaction of its own) keeps the database busy; meanwhile a second
connection reads the customers, the wallet estimates, the latest complete snapshot and
the window tables' rows as they stand (:class:`Inputs`), which keeps Python busy. On two
cores that is ~1.6 s of a 10M-line recompute. The window rows read this early are caught
up afterwards (see :class:`~models.value.early_windows.EarlyWindow`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine

from models.db import second_connection_sees_the_data

from .dbtuning import tune_for_aggregates
from .early_windows import EarlyWindow, read_early_window
from .facts import choose_sources, customers_frame, stored_window_names
from .parallel import worker
from .results import load_tiered, previous_snapshot
from .rollups import RollupRefresh, refresh_rollups
from .segments import wallet_frame
from .window_tables import WINDOW_TABLES
from .windows import Windows


def refresh(engine: Engine) -> RollupRefresh:
    """Step 1: bring the roll-ups up to date, in a transaction of its own."""
    with engine.begin() as conn:
        return refresh_rollups(conn)


@dataclass(frozen=True)
class Inputs:
    """What the roll-up refresh does not change: the customers, the wallet estimates up to
    the as-of year, and the latest complete snapshot (its id and tiers with measures);
    read beside the refresh, also the window tables' rows as they were (``windows``, by
    table name: see :class:`EarlyWindow`)."""

    customers: pd.DataFrame
    wallet: pd.DataFrame
    previous_id: int | None
    previous: pd.DataFrame | None
    windows: dict[str, EarlyWindow] = field(default_factory=dict)


def read_inputs(conn: Connection, as_of: date, windows: Windows | None = None) -> Inputs:
    """The inputs for ``as_of``; with ``windows``, also the window tables' rows for those
    windows (stored, or aggregated from the roll-ups: see :func:`read_early_window`)."""
    previous_id = previous_snapshot(conn)
    early = {}
    if windows is not None:
        # A table holding another window: its rows aggregated now, if the recompute will
        # read that table at all (they are caught up after the refresh, see EarlyWindow).
        read = stored_window_names(choose_sources(conn, windows))
        for name in WINDOW_TABLES:
            if (rows := read_early_window(conn, name, windows, name in read)) is not None:
                early[name] = rows
    return Inputs(
        customers=customers_frame(conn),
        wallet=wallet_frame(conn, as_of.year),
        previous_id=previous_id,
        previous=load_tiered(conn, previous_id) if previous_id is not None else None,
        windows=early,
    )


def _read_inputs_apart(engine: Engine, as_of: date, windows: Windows | None) -> Inputs:
    """:func:`read_inputs` on a connection of its own; on PostgreSQL in one snapshot
    (REPEATABLE READ), so window rows are never thrown away because the refresh committed
    while they were read: they and the batches read with them are of one moment (a new
    window's aggregate runs ~3 s at 10M lines, longer than the refresh, so it often did).
    Tuned as the refresh is: with the default 4 MB of work memory a new window's sales
    aggregate hashed and sorted on disk, and JIT compiled it (4.5 s instead of ~1 s)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        tune_for_aggregates(conn)
        return read_inputs(conn, as_of, windows)


def refresh_reading_inputs(
    engine: Engine, as_of: date, windows: Windows | None, refresh_first: bool
) -> tuple[RollupRefresh | None, Inputs | None]:
    """The roll-up refresh (if ``refresh_first``) and, meanwhile, the inputs read on a
    second connection where one sees the same data (None: read them afterwards); the
    window tables' rows for ``windows`` too (None: the recompute reads no window table)."""
    with worker("recompute-inputs") as pool:
        reading = None
        if second_connection_sees_the_data(engine):
            reading = pool.submit(_read_inputs_apart, engine, as_of, windows)
        refreshed = refresh(engine) if refresh_first else None
        return refreshed, reading.result() if reading is not None else None
