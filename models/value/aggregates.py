"""The per-customer base aggregates behind one interface, with two implementations.

- ``fast``: the roll-ups, window tables and cut-off path (:mod:`models.value.facts`),
  built for millions of invoice lines.
- ``plain``: plain GROUP BYs over the raw facts (:mod:`models.value.reference`), the
  specification the fast one is tested against (tests/value/test_base_contract.py);
  enough for a small installation.

Both return the same frames: ``base`` with the columns :data:`BASE_COLUMNS` (one row per
customer) and ``per_line`` with :data:`PER_LINE_COLUMNS` (customer x product line). The
rules file picks one (``value.base_aggregates``, read by :func:`base_implementation`).

Scale-out reads the fast path's frames range of customers by range
(:class:`PartitionedAggregates`, :func:`customer_part_aggregates`): the same functions,
each part on a connection of its own, wherever the caller runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, cast

import pandas as pd
from pandas.api.types import is_object_dtype
from sqlalchemy import Connection

from .dbtuning import tune_for_aggregates
from .facts import NO_SHORTCUTS, Shortcuts, choose_sources, customer_base
from .partitions import CustomerRange, customer_ranges
from .reference import BASE_COLUMNS, PER_LINE_COLUMNS, plain_base_aggregates
from .rules import BASE_IMPLEMENTATIONS, value_rules
from .windows import Windows

__all__ = [
    "BASE_COLUMNS",
    "PER_LINE_COLUMNS",
    "BaseAggregates",
    "Implementation",
    "PartitionedAggregates",
    "ReadParts",
    "base_aggregates",
    "base_implementation",
    "customer_part_aggregates",
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


def customer_part_aggregates(
    conn: Connection,
    windows: Windows,
    bucket_days: tuple[int, int, int],
    part: CustomerRange,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fast path's (base, per_line), as the recompute computes them, for the customers
    of ``part`` only: from the roll-ups as committed, writing nothing, so any number of
    connections may read parts at once. ``conn`` is in a transaction (the tuning is)."""
    tune_for_aggregates(conn)
    return customer_base(conn, choose_sources(conn, windows), bucket_days, part=part)


# (windows, bucket_days, ranges) -> each range's (base, per_line), in the ranges' order;
# how and where each is read (:func:`customer_part_aggregates`) is the caller's.
ReadParts = Callable[
    [Windows, tuple[int, int, int], list[CustomerRange]],
    list[tuple[pd.DataFrame, pd.DataFrame]],
]


class PartitionedAggregates:
    """The base aggregates read in ``parts`` ranges of customers by ``read_parts`` (on a
    cluster's workers: flows/recompute.py), then put together: a :class:`BaseAggregates`.

    The frames are those of :func:`facts.customer_base` for every customer, whose rows are
    each one customer's (or one customer's and product line's): the parts, one after the
    other, are the whole, in customer order."""

    def __init__(self, parts: int, read_parts: ReadParts) -> None:
        self.parts, self.read_parts = parts, read_parts

    def __call__(
        self, conn: Connection, windows: Windows, bucket_days: tuple[int, int, int]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        frames = self.read_parts(windows, bucket_days, customer_ranges(conn, self.parts))
        return _stacked([b for b, _ in frames]), _stacked([p for _, p in frames])


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts one after the other (an empty one has no types to give). A column with
    no value in one part comes back as Python's None there (see :func:`frames.frame_of`):
    where another part has numbers, the column is numbers with NaN, as when the whole was
    read at once."""
    frames = [f for f in frames if len(f)] or frames[:1]
    whole = pd.concat(frames, ignore_index=True)
    for column in whole.columns:
        if whole[column].dtype != object:
            continue
        kinds = {f[column].dtype for f in frames if f[column].notna().any()}
        if kinds and all(k.kind in "iuf" for k in kinds):  # numbers with NULLs: floats, NaN
            whole[column] = whole[column].astype(float)
        elif len(kinds) == 1 and not (is_object_dtype(kind := kinds.pop()) or kind.kind == "b"):
            whole[column] = whole[column].astype(kind)  # text (booleans stay objects)
    return whole
