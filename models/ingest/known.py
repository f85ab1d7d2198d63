"""The keys a chunk's references may take: the suite's ``${known.<table>}`` sets.

A referenced table no larger than a chunk (product lines, account managers,
customers of most books) is read whole once per batch. A larger one (the
invoices payments refer to) is asked, chunk by chunk, only about the values the
chunk holds. Either way a set holds at most about a chunk's worth of keys, plus
the keys the batch itself adds (its own rows, customers a mapping creates,
product lines a mapping declares), which the committed book does not show yet.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Column, Table, func, literal, select

from .committed import CommittedBook
from .entities import foreign_keys


def _table(name: str) -> Table:
    from models.schema import metadata

    return metadata.tables[name]


class KnownKeys:
    """``{"known.<table>": keys}`` for each chunk of one batch (see the module doc)."""

    def __init__(
        self, book: CommittedBook, entity: str, chunk_rows: int, looked_up: frozenset = frozenset()
    ) -> None:
        """``looked_up``: the ``known.<table>`` names a caller finds for each chunk itself
        (passed to :meth:`for_chunk` as ``found``): never read whole."""
        self.book = book
        # column of the entity -> the "known.<table>" name it is checked against
        self.columns: dict[str, str] = {}
        self.whole: dict[str, set] = {}
        self.probes: dict[str, tuple[Table, Table, str]] = {}
        self.added: dict[str, set] = {}
        for column, (table_name, ref) in foreign_keys(entity).items():
            name = f"known.{table_name}"
            self.columns[column] = name
            if name in self.whole or name in self.probes:
                continue
            table = _table(table_name)
            if name not in looked_up and _at_most(book, table, chunk_rows):
                self.whole[name] = set(book.conn.execute(select(table.c[ref])).scalars())
            else:
                probe = book.temp(
                    f"known_{table_name}", [Column("value", table.c[ref].type, primary_key=True)]
                )
                self.probes[name] = (table, probe, ref)

    def add(self, table_name: str, keys) -> None:
        """Keys this batch writes into ``table_name``: they resolve from now on."""
        name = f"known.{table_name}"
        if name in self.whole:
            self.whole[name].update(keys)
        else:
            self.added.setdefault(name, set()).update(keys)

    def for_chunk(self, frame: pd.DataFrame, found: dict[str, Any] | None = None) -> dict[str, Any]:
        """The known sets the suite checks ``frame``'s reference columns against: whole
        tables as they are; for large ones, the chunk's values that exist (``found``:
        those a caller has looked up already, by name: a set, or an Arrow array of text
        the suite's runner tests as it is)."""
        known: dict[str, Any] = dict(self.whole)
        for name, (table, probe, ref) in self.probes.items():
            exists = (found or {}).get(name)
            added = self.added.get(name, set())
            if exists is not None and not added:
                known[name] = exists  # no need for the chunk's values (~a chunk of text)
                continue
            wanted: set = set()
            for column, of in self.columns.items():
                if of == name and column in frame:
                    wanted.update(frame[column].dropna().unique())
            if exists is None:
                exists = self._existing(wanted, table, probe, ref)
            elif not isinstance(exists, set):
                exists = set(exists.to_pylist())
            known[name] = exists | (wanted & added)
        return known

    def _existing(self, wanted: set, table: Table, probe: Table, ref: str) -> set:
        """Which of ``wanted`` are keys of ``table`` in the committed book."""
        if not wanted:
            return set()
        self.book.fill(probe, pd.DataFrame({"value": sorted(wanted)}, dtype=object))
        # A scalar subquery: one index lookup per value, never a scan of the table.
        hit = select(literal(1)).where(table.c[ref] == probe.c.value).scalar_subquery()
        query = select(probe.c.value).where(hit.is_not(None))
        return set(self.book.conn.execute(query).scalars())


def _at_most(book: CommittedBook, table: Table, rows: int) -> bool:
    """Whether ``table`` has no more than ``rows`` rows (reads at most rows + 1)."""
    sample = select(literal(1).label("one")).select_from(table).limit(rows + 1).subquery()
    return (book.conn.scalar(select(func.count()).select_from(sample)) or 0) <= rows
