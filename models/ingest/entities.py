"""Where each canonical entity lands: target tables, natural keys, column kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Table

from models.canonical import ENTITIES, EntityFile
from models.schema import (
    AccountManager,
    Customer,
    Initiative,
    Invoice,
    InvoiceLine,
    Opportunity,
    OpportunityStage,
    Payment,
    ProductLine,
    RoadmapItem,
    WalletEstimate,
)


@dataclass(frozen=True)
class Target:
    """One table an entity writes; ``grouped`` = one row per key (invoice headers);
    ``line_totals``: the table keeps what each row's lines add up to (line_totals.py)."""

    table: Table
    key: tuple[str, ...]
    columns: tuple[str, ...]
    grouped: bool = False
    line_totals: bool = False


def _target(
    model,
    entity: EntityFile,
    *,
    only: tuple[str, ...] | None = None,
    grouped: bool = False,
    line_totals: bool = False,
):
    table: Table = model.__table__
    key = tuple(c.name for c in table.primary_key.columns)
    names = set(entity.column_names) | EXTRA_COLUMNS.get(entity.entity, set())
    cols = tuple(
        c.name
        for c in table.columns
        if c.name in names
        and c.name not in key
        and c.name != "batch_id"
        and (only is None or c.name in only)
    )
    return Target(table, key, cols, grouped, line_totals)


# Table columns a mapping may fill that the canonical file does not carry.
EXTRA_COLUMNS: dict[str, set[str]] = {"invoice_lines": {"description"}}

HEADER_COLUMNS = ("customer_id", "invoice_date", "due_date", "currency")

_MODELS: dict[str, list[Any]] = {
    "account_managers": [AccountManager],
    "product_lines": [ProductLine],
    "customers": [Customer],
    "invoice_lines": [Invoice, InvoiceLine],
    "payments": [Payment],
    "wallet_estimates": [WalletEstimate],
    "opportunities": [Opportunity],
    "opportunity_stages": [OpportunityStage],
    "roadmap_items": [RoadmapItem],
    "initiatives": [Initiative],
}


def targets(entity: str) -> list[Target]:
    """Target tables of an entity, in write order (headers before lines)."""
    spec = ENTITIES[entity]
    if entity == "invoice_lines":
        return [
            _target(Invoice, spec, only=HEADER_COLUMNS, grouped=True, line_totals=True),
            _target(InvoiceLine, spec),
        ]
    return [_target(m, spec) for m in _MODELS[entity]]


def column_kinds(entity: str) -> dict[str, str]:
    """Column -> kind (str, int, decimal, date, bool, tags) incl. extra columns."""
    kinds = {c.name: c.kind for c in ENTITIES[entity].columns}
    for extra in EXTRA_COLUMNS.get(entity, ()):
        kinds.setdefault(extra, "str")
    return kinds


def column_lengths(entity: str) -> dict[str, int]:
    """Column -> the most characters it may hold: the length its table declares
    (``String(64)``), the shortest where the entity writes the column to two tables.
    Text columns without a declared length are not listed."""
    lengths: dict[str, int] = {}
    for target in targets(entity):
        table = target.table
        for name in (*target.key, *target.columns):
            length = getattr(table.c[name].type, "length", None)
            if isinstance(table.c[name].type, String) and length:
                lengths[name] = min(length, lengths.get(name, length))
    return lengths


def foreign_keys(entity: str) -> dict[str, tuple[str, str]]:
    """Column -> (table, column) it references, outside the entity's own targets."""
    own = {t.table.name for t in targets(entity)}
    refs: dict[str, tuple[str, str]] = {}
    for target in targets(entity):
        for column, (table, ref) in references(target.table).items():
            if table == "ingest_batch" or (table in own and table != target.table.name):
                continue
            refs[column] = (table, ref)
    return refs


def references(table: Table) -> dict[str, tuple[str, str]]:
    """Column -> (table, column) it refers to: FOREIGN KEY constraints, and the
    references fact tables declare in ``info`` (enforced by ingest, not by the database)."""
    refs = {fk.parent.name: (fk.column.table.name, fk.column.name) for fk in table.foreign_keys}
    for column in table.columns:
        if target := column.info.get("references"):
            refs[column.name] = tuple(target.split("."))
    return refs


def natural_key(entity: str) -> tuple[str, ...]:
    """The columns that identify a row of the entity."""
    return ENTITIES[entity].key
