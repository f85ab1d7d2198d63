"""Bulk writes of result frames: COPY on PostgreSQL, executemany on SQLite.

Both run on the connection (and so in the transaction) the caller holds. Money
is rounded to cents and ratios to six places before writing, so PostgreSQL's
NUMERIC and SQLite's REAL read back the same Decimal; unknown (NaN) is NULL.
"""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
from sqlalchemy import Connection, Table

from .numbers import as_float


def prepare(
    frame: pd.DataFrame,
    columns: list[str],
    *,
    money: tuple[str, ...] = (),
    ratios: tuple[str, ...] = (),
    hundredths: tuple[str, ...] = (),
    ints: tuple[str, ...] = (),
    json_cols: tuple[str, ...] = (),
    extra: dict | None = None,
) -> pd.DataFrame:
    """The frame as it will be written: rounded numbers, nullable ints, JSON as text."""
    out = frame[columns].copy()
    for c in money + hundredths:
        out[c] = as_float(out[c]).round(2)
    for c in ratios:
        out[c] = as_float(out[c]).round(6)
    for c in ints:
        out[c] = as_float(out[c]).round().astype("Int64")
    for c in json_cols:
        out[c] = out[c].map(lambda v: json.dumps(v, ensure_ascii=False))
    for key, value in (extra or {}).items():
        out[key] = value
    return out


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Append ``frame`` (columns named like ``table``'s) inside the caller's transaction."""
    if frame.empty:
        return
    cols = list(frame.columns)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False, na_rep="\\N", quoting=csv.QUOTE_MINIMAL)
        names = ", ".join(f'"{c}"' for c in cols)
        copy_sql = f"COPY \"{table.name}\" ({names}) FROM STDIN (FORMAT csv, NULL '\\N')"
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.write(buf.getvalue())
        return
    marks = ", ".join("?" for _ in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    # object dtype holds Python floats, ints and bools; NaN and pd.NA become None.
    values = frame.astype(object).where(frame.notna(), None)
    cur = raw.cursor()
    cur.executemany(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',  # noqa: S608 - names from Table
        values.itertuples(index=False, name=None),
    )
    cur.close()
