"""The per-customer base aggregates behind one interface, with two implementations.

- ``fast``: the roll-ups, window tables and cut-off path (:mod:`models.value.facts`),
  built for millions of invoice lines.
- ``plain``: plain GROUP BYs over the raw facts (:mod:`models.value.reference`), the
  specification the fast one is tested against (tests/value/test_base_contract.py);
  enough for a small installation.

Both return the same frames: ``base`` with the columns :data:`BASE_COLUMNS` (one row per
customer) and ``per_line`` with :data:`PER_LINE_COLUMNS` (customer x product line). The
rules file picks one (``value.base_aggregates``, read by :func:`base_implementation`).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, cast

import pandas as pd
from sqlalchemy import Connection

from .facts import NO_SHORTCUTS, Shortcuts, choose_sources, customer_base
from .reference import BASE_COLUMNS, PER_LINE_COLUMNS, plain_base_aggregates
from .rules import BASE_IMPLEMENTATIONS, value_rules
from .windows import Windows

__all__ = [
    "BASE_COLUMNS",
    "PER_LINE_COLUMNS",
    "BaseAggregates",
    "Implementation",
    "base_aggregates",
    "base_implementation",
    "fast_base_aggregates",
    "plain_base_aggregates",
]

Implementation = Literal["fast", "plain"]
IMPLEMENTATIONS: tuple[str, ...] = BASE_IMPLEMENTATIONS


class BaseAggregates(Protocol):
    """What either implementation is: (conn, windows, bucket_days) -> (base, per_line)."""

    def __call__(
        self, conn: Connection, windows: Windows, bucket_days: tuple[int, int, int]
    ) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def fast_base_aggregates(
    conn: Connection,
    windows: Windows,
    bucket_days: tuple[int, int, int] = (30, 60, 90),
    cuts: Shortcuts = NO_SHORTCUTS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roll-up path: :func:`facts.choose_sources` then :func:`facts.customer_base`,
    cut to the contract's columns; ``cuts`` are the recompute's shortcuts (see
    :class:`facts.Shortcuts`)."""
    src = choose_sources(conn, windows)
    base, per_line = customer_base(conn, src, bucket_days, cuts)
    return base[list(BASE_COLUMNS)], per_line[list(PER_LINE_COLUMNS)]


def base_aggregates(
    conn: Connection,
    windows: Windows,
    bucket_days: tuple[int, int, int] = (30, 60, 90),
    implementation: Implementation = "fast",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(base, per_line) for ``windows`` by the chosen ``implementation``; the frames
    have the same columns and, by contract, the same figures either way."""
    if implementation == "fast":
        return fast_base_aggregates(conn, windows, bucket_days)
    if implementation != "plain":
        raise ValueError(f"base aggregates: no implementation {implementation!r}")
    return plain_base_aggregates(conn, windows, bucket_days)


def base_implementation(config: dict[str, Any]) -> Implementation:
    """The implementation the rules file names (``value.base_aggregates``; default fast),
    checked with the rest of the value rules."""
    return cast(Implementation, value_rules(config).base_aggregates)
