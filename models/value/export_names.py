"""Names beside ids in every export: a reader of a spreadsheet knows "C-00042" by its name.

One rule for the CLI exports and the dashboard's downloads: each id column an export has
gets the matching name column right after it, under a fixed name (the columns table of
docs/OPERATIONS.md, tested against the real headers). A name the database does not know
(an id no longer in the reference data, the receivables' TOTAL row) is left empty: unknown,
never a made-up name. Names are user data: the CSV and Excel writers make any that would
run as a formula harmless, as for every other text cell.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from models.schema import AccountManager, Customer, ProductLine

# id column -> (name column, the reference table's key and name columns)
NAME_COLUMNS: dict[str, tuple[str, Any, Any]] = {
    "customer_id": ("customer_name", Customer.customer_id, Customer.name),
    "group_id": ("group_name", Customer.customer_id, Customer.name),
    "parent_customer_id": ("parent_customer_name", Customer.customer_id, Customer.name),
    "manager_id": ("manager_name", AccountManager.manager_id, AccountManager.name),
    "owner": ("owner_name", AccountManager.manager_id, AccountManager.name),
    "product_line_id": ("product_line_name", ProductLine.product_line_id, ProductLine.name),
}


# Up to this many ids are looked up by key; more, and the whole table is read (a bound
# well under SQLite's 32,766 parameters of a statement).
IN_LIST_LIMIT = 2_000


def name_column(id_column: str) -> str | None:
    """The name column that follows ``id_column`` in an export, or None."""
    named = NAME_COLUMNS.get(id_column)
    return named[0] if named else None


def with_names(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each known id column followed by its name column (one query per kind
    of reference: customers, managers, product lines); a frame that already has the name
    column keeps its own."""
    todo = [
        c for c in frame.columns if c in NAME_COLUMNS and NAME_COLUMNS[c][0] not in frame.columns
    ]
    if not todo:
        return frame
    lookups: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    values: dict[str, pd.Series] = {}
    for column in frame.columns:
        columns.append(column)
        if column not in todo:
            continue
        name, key, label = NAME_COLUMNS[column]
        ids = {v for v in frame[column] if isinstance(v, str)}
        names = lookups.setdefault(str(key), {})
        if missing := ids - names.keys():
            names.update(_names_of(conn, key, label, missing))
        values[name] = pd.Series(
            [names.get(v) if isinstance(v, str) else None for v in frame[column]],
            index=frame.index,
            dtype=object,
        )
        columns.append(name)
    return frame.assign(**values)[columns]


def _names_of(conn: Connection, key: Any, label: Any, ids: set[str]) -> dict[str, str]:
    """id -> name of ``ids``: a few by key, many by reading the whole (small) table."""
    query = select(key, label)
    if len(ids) <= IN_LIST_LIMIT:
        query = query.where(key.in_(sorted(ids)))
    return dict(conn.execute(query).tuples().all())


def download_frame(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """A dashboard table as its download: the page's ``name`` column (the entity of the id
    column just before it: ``customer_id, name``) under the export's name
    (``customer_name``), then :func:`with_names` for the other ids, so a download and the
    CLI export call the same thing by the same column name."""
    columns = list(frame.columns)
    if "name" in columns and columns.index("name") > 0:
        before = columns[columns.index("name") - 1]
        named = name_column(before)
        if named is not None and named not in columns:
            frame = frame.rename(columns={"name": named})
    return with_names(conn, frame)
