"""The careful path, for staged rows whose key is already stored: compare them with
the stored rows, update the ones that differ, insert the new keys, and log every
change (old and new value per column) in ``ingest_change``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Connection,
    Table,
    Text,
    and_,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from models.schema import IngestChange, Invoice

from .entities import Target

CHANGE_ROWS_PER_INSERT = 5_000
# SQLAlchemy 2 keeps an INSERT ... SELECT's row count only when asked to.
_ROWCOUNT = {"preserve_rowcount": True}


@dataclass
class TargetCounts:
    """New and changed rows of one target table (the careful path)."""

    inserted: int = 0
    updated: int = 0


def staged_source(stage: Table, target: Target):
    """What a target receives from the staged rows (grouped for invoice headers)."""
    if not target.grouped:
        return select(*[stage.c[c] for c in (*target.key, *target.columns)]).subquery("src")
    keys = [stage.c[k] for k in target.key]
    vals = [func.min(stage.c[c]).label(c) for c in target.columns]
    return select(*keys, *vals).group_by(*keys).subquery("src")


def on_keys(table: Table, src, key: tuple[str, ...]):
    """The join condition of ``table`` and ``src`` on the columns ``key``."""
    return and_(*(table.c[k] == src.c[k] for k in key))


def _cmp(column):
    # PostgreSQL's json type has no equality operator: compare its text.
    return cast(column, Text) if isinstance(column.type, JSON) else column


def _differs(table: Table, src, columns: tuple[str, ...]):
    return or_(*(_cmp(table.c[c]).is_distinct_from(_cmp(src.c[c])) for c in columns))


def diff_target(
    conn: Connection, src, target: Target, batch_id: int, entity: str
) -> tuple[TargetCounts, list[dict]]:
    """New keys and changed rows of one target against the staged rows (before any write)."""
    table = target.table
    counts = TargetCounts()
    counts.inserted = (
        conn.scalar(
            select(func.count())
            .select_from(src.outerjoin(table, on_keys(table, src, target.key)))
            .where(table.c[target.key[0]].is_(None))
        )
        or 0
    )
    changes: list[dict] = []
    if target.columns:
        prev_customer = None
        joined = src.join(table, on_keys(table, src, target.key))
        if "customer_id" in table.c:
            prev_customer = table.c.customer_id
        elif "invoice_id" in table.c and table.name != "invoice":
            inv = Invoice.__table__
            joined = joined.outerjoin(inv, inv.c.invoice_id == table.c.invoice_id)
            prev_customer = inv.c.customer_id
        old = [table.c[c].label(f"old_{c}") for c in target.columns]
        new = [src.c[c].label(f"new_{c}") for c in target.columns]
        keys = [src.c[k].label(f"key_{k}") for k in target.key]
        extra = [prev_customer.label("prev_customer")] if prev_customer is not None else []
        query = (
            select(*keys, *old, *new, *extra)
            .select_from(joined)
            .where(_differs(table, src, target.columns))
        )
        for row in conn.execute(query).mappings():
            diff = {
                c: [_text(row[f"old_{c}"]), _text(row[f"new_{c}"])]
                for c in target.columns
                if _text(row[f"old_{c}"]) != _text(row[f"new_{c}"])
            }
            if not diff:
                continue  # equal once both sides are text (e.g. 1.50 vs 1.5)
            changes.append(
                {
                    "batch_id": batch_id,
                    "entity": entity if not target.grouped else table.name,
                    "natural_key": "/".join(str(row[f"key_{k}"]) for k in target.key),
                    "previous_customer_id": row.get("prev_customer"),
                    "changes": diff,
                }
            )
        counts.updated = len(changes)
    return counts, changes


def write_target(
    conn: Connection, src, target: Target, batch_id: int, counts: TargetCounts
) -> None:
    """Apply the careful rows to one target: update the changed ones, insert the new ones."""
    table = target.table
    # Two plain statements instead of INSERT ... ON CONFLICT: the ingest lock
    # serialises writers, and PostgreSQL's speculative insertion costs ~20% more.
    if target.columns and counts.updated:
        conn.execute(
            update(table)
            .values({c: src.c[c] for c in target.columns} | {"batch_id": batch_id})
            .where(on_keys(table, src, target.key), _differs(table, src, target.columns))
        )
    cols = [*target.key, *target.columns]
    existing = select(literal(1)).select_from(table).where(on_keys(table, src, target.key))
    stmt = insert(table).from_select(
        [*cols, "batch_id"],
        select(*[src.c[c] for c in cols], literal(batch_id).label("batch_id")).where(
            ~existing.exists()
        ),
    )
    inserted = conn.execute(stmt, execution_options=_ROWCOUNT).rowcount
    if inserted is not None and inserted >= 0 and inserted != counts.inserted:
        raise RuntimeError(f"{table.name}: counted {counts.inserted} new rows, inserted {inserted}")


def write_changes(conn: Connection, changes: Iterator[dict]) -> int:
    """Insert change-log rows in bounded statements; returns how many."""
    total = 0
    table = IngestChange.__table__
    while rows := list(itertools.islice(changes, CHANGE_ROWS_PER_INSERT)):
        conn.execute(insert(table), rows)
        total += len(rows)
    return total


def _text(value) -> str | None:
    """Values as compared and logged: dates ISO, numbers without trailing zeros."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        value = repr(value)
    text = str(value)
    if "." in text and text.replace(".", "", 1).lstrip("-").isdigit():
        text = text.rstrip("0").rstrip(".")
    return text
