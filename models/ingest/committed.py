"""The book as committed before this batch, read beside the load, a chunk at a time.

A batch is checked against what the database held when it started (the keys a
row may refer to, what an invoice totals and has been paid). Those reads go
through a second connection: the load holds the ingest lock, so nothing else
commits meanwhile and the second connection sees exactly the book before this
batch, while the load's own connection writes the previous chunk in another
thread. Each read starts from a TEMP table of the chunk's own keys (an index
lookup per key), so what it costs, what comes back and what memory holds follow
the chunk size, not the book's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Column, Connection, Engine, Index, Table

from models.db import second_connection_sees_the_data

from .bulk import analyse, bulk_insert, empty_table, temp_table

PG_WORK_MEM = "64MB"


class CommittedBook:
    """A reading connection on the committed book and the TEMP tables of its lookups.

    Used from one thread (the one preparing chunks). In a SQLite database in
    memory a second connection would see another, empty database: there the
    load's own connection serves (SQLite loads in one thread anyway).
    """

    def __init__(self, engine: Engine, load_conn: Connection) -> None:
        self.engine, self.load_conn = engine, load_conn
        self.others: list[CommittedBook] = []
        self.own = second_connection_sees_the_data(engine)
        if self.own:
            conn = engine.connect()
            if conn.dialect.name == "postgresql":
                # One snapshot for every chunk, as the whole batch is checked against it.
                conn.execution_options(isolation_level="REPEATABLE READ")
                conn.exec_driver_sql(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
                # Its lookups are many small index probes (never JIT-compiled: no session
                # of ours is, models/db.py), which would read an invoice's few lines
                # through a bitmap (~10% slower).
                conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            else:
                conn.exec_driver_sql("BEGIN")  # WAL: a read snapshot beside the writer
        else:
            conn = load_conn
        self.conn = conn
        self.prefix = f"stage_{uuid.uuid4().hex[:12]}_book"
        self.tables: list[Table] = []

    def beside(self) -> CommittedBook:
        """Another reading connection on the same book, for lookups run in a thread of
        their own beside this one's (closed with this one). Nothing commits while the
        load holds the ingest lock, so it sees what this one sees. Not on SQLite (one
        writer, and its lookups run one after the other anyway): this one."""
        if not self.own or self.conn.dialect.name != "postgresql":
            return self
        other = CommittedBook(self.engine, self.load_conn)
        self.others.append(other)
        return other

    def temp(self, name: str, columns: Iterable[Column], *, index: str | None = None) -> Table:
        """Create a TEMP table ``<prefix>_<name>`` (dropped by :meth:`close`)."""
        table = temp_table(f"{self.prefix}_{name}", columns)
        if index:
            Index(f"{table.name}_ix", table.c[index])
        table.create(self.conn)
        self.tables.append(table)
        return table

    def fill(
        self,
        table: Table,
        frame: pd.DataFrame,
        *,
        numbered: str | None = None,
        analysed: bool = True,
    ) -> None:
        """Replace the rows of a TEMP table with ``frame`` (its columns by name;
        ``numbered``: a column numbering the rows 0..n-1; ``analysed``: see append)."""
        empty_table(self.conn, table)
        self.append(table, frame, numbered=numbered, analysed=analysed)

    def append(
        self,
        table: Table,
        frame: pd.DataFrame,
        *,
        numbered: str | None = None,
        analysed: bool = True,
    ) -> None:
        """Add ``frame``'s rows to a TEMP table; ``analysed``: give the planner its new
        size (not needed for a table only ever scanned whole, row by row)."""
        bulk_insert(self.conn, table, frame, list(frame.columns), numbered=numbered)
        if analysed:
            analyse(self.conn, table)

    def floats(self, query) -> np.ndarray:
        """A query's one column of numbers as float64 (NULL: NaN), fetched as the driver
        returns rows: no result row object per value (~0.5 s per 200,000 rows)."""
        result = self.conn.execute(query)
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        nan = float("nan")
        return np.fromiter(
            (nan if value is None else value for (value,) in rows), dtype="float64", count=len(rows)
        )

    def close(self) -> None:
        """End the reading transaction (its TEMP tables go with it), or drop the TEMP
        tables from the load's connection when it served."""
        for other in self.others:
            other.close()
        self.others = []
        if self.own:
            self.conn.rollback()
            self.conn.close()
        else:
            for table in reversed(self.tables):
                table.drop(self.conn)
        self.tables = []
