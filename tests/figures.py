"""Every figure a database holds, as plain rows, to compare two databases that were given
the same data in different ways (one process or a cluster, one run or several).

The figures are the data as loaded (each canonical entity's tables and the quarantine),
the roll-ups, and every table of a snapshot's results (the dashboard's included).
Left out is what tells runs apart rather than figures: batch and flow-run ids, the
times things happened, surrogate keys numbered in the order rows were written, and
caches that a run may or may not have filled (the window tables).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Engine, Table, select

from models.canonical import LOAD_ORDER
from models.ingest.entities import targets
from models.schema import metadata
from models.schema.base import UTCDateTime

RUN_COLUMNS = {"batch_id", "batch_ids", "flow_run_id"}
ROLLUPS = ("sales_rollup", "invoice_rollup", "invoice_month_rollup", "open_invoice_rollup")


def figure_tables() -> list[Table]:
    """The tables whose rows are figures (see the module docstring)."""
    loaded = [t.table.name for e in LOAD_ORDER for t in targets(e)]
    results = [
        t.name
        for t in metadata.sorted_tables
        if "snapshot_id" in t.columns and t.name != "snapshot"
    ]
    names = [*loaded, "quarantine_record", *ROLLUPS, "snapshot", *sorted(results)]
    return [metadata.tables[n] for n in names]


# Numbered as rows are written: batches loading side by side number them in another order.
SURROGATE_KEYS = {"quarantine_record": "quarantine_id"}


def _figure_column(table: Table, column: Column) -> bool:
    if column.name in RUN_COLUMNS or isinstance(column.type, UTCDateTime):
        return False
    return SURROGATE_KEYS.get(table.name) != column.name


def figures(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Table name -> its figure columns' rows, in an order that does not depend on the
    order they were written in."""
    out = {}
    with engine.connect() as conn:
        for table in figure_tables():
            columns = [c for c in table.columns if _figure_column(table, c)]
            rows = [tuple(r) for r in conn.execute(select(*columns))]
            out[table.name] = sorted(rows, key=repr)
    return out


def differences(a: Engine, b: Engine) -> list[str]:
    """Each table whose figures differ between the two databases, with its first
    differing row; empty when every figure is equal."""
    left, right = figures(a), figures(b)
    out = []
    for name, rows in left.items():
        if rows != right[name]:
            first = next(
                (i for i, (x, y) in enumerate(zip(rows, right[name], strict=False)) if x != y),
                min(len(rows), len(right[name])),
            )
            out.append(
                f"{name}: {len(rows)} vs {len(right[name])} rows; first difference at "
                f"{first}: {rows[first : first + 1]} vs {right[name][first : first + 1]}"
            )
    return out
