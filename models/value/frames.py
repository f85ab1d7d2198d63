"""Query results as DataFrames, fetched the fast way for each database.

Per-customer results come back to Python as frames of 100,000s of rows; building them
through SQLAlchemy's per-row processing cost more than the queries themselves, so the
rows come straight from the driver (and, on PostgreSQL, through COPY parsed by Arrow).
"""

from __future__ import annotations

import contextlib
import csv
import io
import selectors
from collections.abc import Callable

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import pq
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    TypeDecorator,
)


def frame_of(conn: Connection, query: Select) -> pd.DataFrame:
    """A query's rows as a DataFrame, fetched straight from the driver's cursor.

    Skipping SQLAlchemy's per-row processing keeps 100,000s of per-customer rows
    cheap; money arrives as floats (the queries cast it), dates as the driver gives
    them (ISO text on SQLite, ``date`` on PostgreSQL), so callers convert explicitly.
    On PostgreSQL the rows come as COPY ... TO STDOUT text parsed by Arrow (see
    :func:`_copy_frame`): building the frame from Python tuples cost more than the
    queries themselves (1 s for the 400,000 customer x product line rows at 10M lines).
    """
    if conn.dialect.name == "postgresql":
        frame = _copy_frame(conn, query)
        if frame is not None:
            return frame
    result = conn.execute(query)
    columns = list(result.keys())
    return pd.DataFrame(result.cursor.fetchall() if result.returns_rows else [], columns=columns)


def _arrow_type(sql_type) -> pa.DataType | None:
    """The Arrow type a column of ``sql_type`` is parsed as; None when not one of ours.

    Numbers as float64 (money included: every caller converts it with ``as_float``,
    and the shortest text PostgreSQL prints parses to the same double as the
    driver's Decimal converted), whole numbers as int64 (float64 with NaN when some
    are NULL, as pandas makes of Python ints and None), dates as ``date`` objects.
    """
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance  # the driver's values are the stored type's
    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, Integer):
        return pa.int64()
    if isinstance(sql_type, Float | Numeric):
        return pa.float64()
    if isinstance(sql_type, Date) and not isinstance(sql_type, DateTime):
        return pa.date32()
    if isinstance(sql_type, String | Enum):
        return pa.string()
    return None


def _drain_copy_out(raw: psycopg.Connection, out: io.BytesIO) -> None:
    """Every row of the COPY ... TO STDOUT in progress on ``raw`` into ``out``, then
    its final result, checked (an error raises as psycopg raises it).

    The server sends one message per row. Read through psycopg's ``Copy`` iterator, each
    took a generator and a wait call in Python (394,000 window rows: 0.58 s of CPU with
    the GIL held, while other threads of the recompute needed it); read here in one loop
    over libpq's calls, 0.14 s. psycopg's ``Copy`` block around it starts the statement
    and, should reading the rows raise (a lost connection raises in ``get_copy_data``),
    cancels it; once the rows are over, a stop while the final result is awaited is
    cleaned up here (:func:`_end_of_copy`)."""
    pgconn = raw.pgconn
    get, write = pgconn.get_copy_data, out.write
    with selectors.DefaultSelector() as waiting:
        waiting.register(pgconn.socket, selectors.EVENT_READ)

        def more() -> None:
            waiting.select()
            pgconn.consume_input()

        while True:
            size, data = get(1)
            if size > 0:
                write(data)
            elif size == 0:  # nothing has arrived yet
                more()
            else:  # -1: the rows are over (psycopg raises any error itself)
                break
        results = _end_of_copy(raw, more)
    for result in results:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)


def _end_of_copy(raw: psycopg.Connection, more: Callable[[], None]) -> list[pq.abc.PGresult]:
    """The COPY's final results, once its rows are over (``get_copy_data`` gave -1). A
    stop meanwhile (a signal, Ctrl-C) cancels the statement and reads what is left, so
    the connection is idle again for the rollback that follows."""
    pgconn = raw.pgconn
    results: list[pq.abc.PGresult] = []
    try:
        while True:
            while pgconn.is_busy():
                more()
            if (result := pgconn.get_result()) is None:
                return results
            results.append(result)
    except BaseException:
        with contextlib.suppress(Exception):
            raw.cancel_safe()
            while pgconn.get_result() is not None:
                pass
        raise


def _copy_frame(conn: Connection, query) -> pd.DataFrame | None:
    """``query``'s rows through COPY (PostgreSQL), or None when a column's type is not
    one :func:`_arrow_type` knows (the caller then fetches rows as usual)."""
    if not isinstance(query, Select):
        return None
    types = [_arrow_type(c.type) for c in query.selected_columns]
    if any(t is None for t in types):
        return None
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    buf = io.BytesIO()
    raw = conn.connection.driver_connection
    if raw is None:  # only once the pool has invalidated this connection
        raise RuntimeError("COPY read: the database connection was invalidated")
    # Parameters are bound client-side (COPY takes none); the rows stay in the
    # transaction (and its settings) the caller holds.
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv, HEADER)", compiled.params),
    ):
        _drain_copy_out(raw, buf)
    header, _, body = buf.getvalue().partition(b"\n")
    names = next(csv.reader([header.decode()]))
    if len(names) != len(types):
        return None
    if not body:
        return pd.DataFrame([], columns=names)
    table = pacsv.read_csv(
        io.BytesIO(body),
        pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(names))]),
        pacsv.ParseOptions(newlines_in_values=True),
        pacsv.ConvertOptions(
            column_types={f"c{i}": t for i, t in enumerate(types)},
            # COPY writes NULL as an empty unquoted cell and '' as "".
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    frame = table.to_pandas(date_as_object=True)
    frame.columns = names
    for i in range(len(names)):
        if table.column(i).null_count == len(frame):
            # Python's None throughout, as a frame of fetched rows has it.
            frame.isetitem(i, pd.Series([None] * len(frame), dtype=object))
    return frame
