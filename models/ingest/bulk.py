"""Bulk writes of text columns, and the TEMP tables an ingest works in.

A chunk's columns are canonical text (None = unknown); they reach a table by
COPY on PostgreSQL and one ``executemany`` on SQLite, through Arrow rather than
a Python object per cell.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Column, Connection, MetaData, Table, delete, insert


def temp_table(name: str, columns: Iterable[Column]) -> Table:
    """A TEMP table (not created yet) of its own metadata: it never joins the schema's."""
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


def empty_table(conn: Connection, table: Table) -> None:
    """Remove every row of a TEMP table between chunks."""
    if conn.dialect.name == "postgresql":  # a new empty file instead of dead rows
        conn.exec_driver_sql(f'TRUNCATE "{table.name}"')
    else:
        conn.execute(delete(table))


def analyse(conn: Connection, table: Table) -> None:
    """Give the planner a TEMP table's row count (PostgreSQL's autovacuum never
    analyses TEMP tables: without statistics the planner guesses)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'ANALYZE "{table.name}"')


def bulk_insert(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    names: list[str],
    constants: dict[str, object] | None = None,
    *,
    numbered: str | None = None,
) -> None:
    """Append ``frame[names]`` (canonical text values, None = NULL) to ``table`` in
    bulk: COPY on PostgreSQL, one ``executemany`` on SQLite. ``constants`` fill a
    column with one value; ``numbered`` names a column that numbers the rows 0..n-1."""
    if frame.empty:
        return
    import pyarrow as pa

    n = len(frame)
    columns = {name: _arrow_text(frame[name]) for name in names}
    for name, value in (constants or {}).items():
        columns[name] = pa.array([None if value is None else str(value)] * n, pa.string())
    if numbered:
        columns[numbered] = pa.array(range(n), pa.int64())
    if conn.dialect.name == "postgresql":
        import pyarrow.csv as pacsv
        from psycopg import sql

        # pyarrow writes CSV ~5x faster than DataFrame.to_csv; NULL -> empty, unquoted.
        buf = io.BytesIO()
        # One chunk per column (see models/value/store.py bulk_insert: pyarrow's CSV writer).
        rows = pa.table(columns).combine_chunks()
        pacsv.write_csv(rows, buf, pacsv.WriteOptions(include_header=False))
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with _driver(conn).cursor() as cur, cur.copy(copy_sql) as copy:
            copy.write(buf.getvalue())
    else:
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
        statement = str(compiled)
        # Columns to Python lists through Arrow (None for unknown), then zipped into
        # rows: several times faster than pandas' object conversion and itertuples.
        order = compiled.positiontup or []
        rows = zip(*(columns[c].to_pylist() for c in order), strict=True)
        cursor = _driver(conn).cursor()
        try:
            cursor.executemany(statement, rows)
        finally:
            cursor.close()


def _driver(conn: Connection) -> Any:
    """The driver's own connection (psycopg's, with COPY; sqlite3's)."""
    return conn.connection.dbapi_connection


def _arrow_text(column: pd.Series):
    """A column of canonical text (or all unknown) as an Arrow string array, no copy
    for Arrow-backed strings."""
    import pyarrow as pa

    if column.dtype.kind == "f" and column.isna().all():  # a column the chunk lacks
        return pa.nulls(len(column), pa.string())
    return pa.array(column, type=pa.string(), from_pandas=True)
