"""What the recompute computes beside its own transaction (models/value/recompute.py):
the customers' lifetime value, the sales funnel, and a new window's rows stored.

Each runs on a connection of its own, on the worker the recompute hands it (a thread on
PostgreSQL; at once, before the recompute's transaction, on SQLite: see
models/value/parallel.py); the recompute collects the results in its transaction.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from models.funnel.compute import FunnelResult
from models.funnel.rules import FunnelRules
from models.funnel.store import funnel_on

from .clv_store import lifetime_values
from .dbtuning import tune_for_aggregates
from .facts import choose_sources, stored_window_names
from .parallel import one_blas_thread
from .rollups import RollupRefresh
from .windows import Windows
from .windows_apart import WindowsApart, release_apart


def lifetime_values_apart(
    engine: Engine, as_of: date, config: dict[str, Any], refreshed: RollupRefresh | None
) -> pd.DataFrame:
    """:func:`lifetime_values` in a transaction of its own: it keeps the purchase days (a
    cache of the roll-up with its own state, as the roll-up refresh's transaction is) and
    fits the models on their summary at ``as_of``. Tuned as the refresh is: with the
    default 4 MB of work memory the purchase days sorted on disk, and JIT compiled."""
    with engine.begin() as conn, one_blas_thread():
        tune_for_aggregates(conn)
        return lifetime_values(conn, as_of, config, refreshed)


@dataclass(frozen=True)
class Apart:
    """What is computed beside the measures: the CLV fit, and the funnel (None: computed
    in the snapshot's transaction, after the tiers it is segmented by)."""

    clv: Future
    funnel_rules: FunnelRules
    funnel: Future | None
    windows: WindowsApart | None = None


def windows_apart(engine: Engine, pool: Executor, windows: Windows) -> WindowsApart | None:
    """The window tables the recompute reads released unless they hold ``windows``
    (models/value/windows_apart.py), and where their new rows are stored: on ``pool``'s
    thread on PostgreSQL; None (in the recompute's transaction) on SQLite, where a second
    writer would wait for that transaction."""
    with engine.connect() as conn:
        names = stored_window_names(choose_sources(conn, windows))
    released = release_apart(engine, pool, windows, names)
    return released if engine.dialect.name == "postgresql" else None


def funnel_apart(engine: Engine, as_of: date, rules: FunnelRules) -> FunnelResult:
    """The funnel at ``as_of`` on a connection of its own (it reads only the opportunities)."""
    with engine.connect() as conn:
        return funnel_on(conn, as_of, rules)
