"""Step 1 of the recompute: the roll-up refresh and, beside it, what it does not change.

The refresh (a transaction of its own) keeps the database busy; meanwhile a second
connection reads the customers, the wallet estimates and the latest complete snapshot,
and each window table's rows are read as they stand on a connection of their own
(:class:`Inputs`). On two cores that is ~1.6 s of a 10M-line recompute. The window rows
read this early are caught up afterwards (see
:class:`~models.value.early_windows.EarlyWindow`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine

from models.db import second_connection_sees_the_data

from .dbtuning import in_one_process, tune_for_aggregates
from .early_windows import EarlyWindow, read_early_window
from .facts import choose_sources, customers_frame, stored_window_names
from .parallel import worker
from .results import load_tiered, previous_snapshot
from .rollups import RollupRefresh, refresh_rollups
from .segments import wallet_frame
from .window_tables import WINDOW_TABLES
from .windows import Windows

T = TypeVar("T")


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


def read_inputs(conn: Connection, as_of: date) -> Inputs:
    """The inputs for ``as_of`` but the window tables' rows (see
    :func:`refresh_reading_inputs`)."""
    previous_id = previous_snapshot(conn)
    return Inputs(
        customers=customers_frame(conn),
        wallet=wallet_frame(conn, as_of.year),
        previous_id=previous_id,
        previous=load_tiered(conn, previous_id) if previous_id is not None else None,
    )


def _apart(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read`` on a connection of its own; on PostgreSQL in one snapshot (REPEATABLE
    READ), so window rows are never thrown away because the refresh committed while they
    were read: they and the batches read with them are of one moment (a new window's
    aggregate runs longer than the refresh at 10M lines, so it often did). Tuned as the
    refresh is: with the default 4 MB of work memory a new window's sales aggregate hashed
    and sorted on disk (4.5 s instead of ~1 s)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        tune_for_aggregates(conn)
        return read(conn)


def _read_window_alone(conn: Connection, windows: Windows, name: str) -> EarlyWindow | None:
    """Window table ``name``'s rows for ``windows`` if they can be read now (see
    :func:`read_early_window`: a table holding another window is aggregated now, if the
    recompute will read that table at all), in one process (see :func:`in_one_process`)."""
    in_one_process(conn)
    read = stored_window_names(choose_sources(conn, windows))
    return read_early_window(conn, name, windows, name in read)


def refresh_reading_inputs(
    engine: Engine, as_of: date, windows: Windows | None, refresh_first: bool
) -> tuple[RollupRefresh | None, Inputs | None]:
    """The roll-up refresh (if ``refresh_first``) and, meanwhile, the inputs read on a
    second connection where one sees the same data (None: read them afterwards); the
    window tables' rows for ``windows`` too (None: the recompute reads no window table),
    each table's on a connection of its own: a new month's window aggregates (~1.3 s for
    the sales at 10M lines, mostly the database's) then run beside the other inputs'
    reads (~1 s, mostly Python's) and each other, not one after the other."""
    if not second_connection_sees_the_data(engine):
        return (refresh(engine) if refresh_first else None), None
    with (
        worker("recompute-inputs") as pool,
        ThreadPoolExecutor(len(WINDOW_TABLES), "recompute-early-windows") as window_pool,
    ):
        reading = pool.submit(_apart, engine, lambda conn: read_inputs(conn, as_of))
        early = {}
        if windows is not None:
            for name in WINDOW_TABLES:
                read = partial(_read_window_alone, windows=windows, name=name)
                early[name] = window_pool.submit(_apart, engine, read)
        refreshed = refresh(engine) if refresh_first else None
        rows = {name: f.result() for name, f in early.items()}
        found = {name: r for name, r in rows.items() if r is not None}
        return refreshed, replace(reading.result(), windows=found)
