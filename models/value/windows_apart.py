"""A new window's rows stored on a connection of their own while the recompute goes on.

The first recompute of a month aggregates the roll-ups into the window tables' new rows
(:func:`~models.value.early_windows.window_frame`). The recompute computes from those rows
in memory; storing them (~400,000 sales rows at 10M lines: ~1.7 s of PostgreSQL's time)
need not hold it up. So, before the roll-up refresh, a short transaction of its own
releases the tables that hold another window (:func:`release_windows`: they then hold
none, so no one reads or rebuilds them, the refresh included); the recompute's transaction takes the
windows' lock as ever, aggregates, hands the rows to a worker that stores them in a
transaction of its own, and names the window (the state row) only once they are stored
and before it commits. The state row and the rows it names so become visible together,
and a recompute that fails leaves the table holding no window.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor, Future

import pandas as pd
from sqlalchemy import Connection, Engine

from .window_tables import fill_window, name_window, release_windows
from .windows import Windows


class WindowsApart:
    """Window tables released for ``windows`` (see the module), and the rows being stored
    in them on ``pool``'s thread, each on a connection of its own."""

    def __init__(self, engine: Engine, pool: Executor, windows: Windows, released: frozenset[str]):
        self.engine = engine
        self.pool = pool
        self.windows = windows
        self.released = released
        self._storing: dict[str, Future] = {}

    def takes(self, name: str, windows: Windows) -> bool:
        """Table ``name`` was released for ``windows`` and holds no rows stored here yet."""
        return windows == self.windows and name in self.released and name not in self._storing

    def store(self, name: str, frame: pd.DataFrame) -> None:
        """Store ``frame`` as table ``name``'s rows, beside whatever this thread does."""
        self._storing[name] = self.pool.submit(self._fill, name, frame)

    def _fill(self, name: str, frame: pd.DataFrame) -> None:
        with self.engine.begin() as conn:
            fill_window(conn, name, frame)

    def name_stored(self, conn: Connection) -> None:
        """Wait for the rows being stored and name their window in ``conn``'s transaction
        (the recompute's, which holds the windows' lock); a failed store raises."""
        for name, storing in self._storing.items():
            storing.result()
            name_window(conn, name, self.windows)
        self._storing.clear()


def release_apart(
    engine: Engine, pool: Executor, windows: Windows, names: Iterable[str]
) -> WindowsApart:
    """Release, in a short transaction, tables ``names`` unless they hold ``windows``
    (:func:`release_windows`), for their new rows to be stored on ``pool``'s thread."""
    with engine.begin() as conn:
        released = release_windows(conn, windows, names)
    return WindowsApart(engine, pool, windows, released)
