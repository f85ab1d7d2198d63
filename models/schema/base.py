"""Declarative base, naming convention and the column types every table shares."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    MetaData,
    Numeric,
    String,
    Table,
    TypeDecorator,
    func,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column

# Constraint names are deterministic so Alembic can alter and drop them on
# every backend (SQLite batch mode needs names to recreate tables).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money is NUMERIC(18, 2) and Decimal in Python. PostgreSQL stores it exactly;
# SQLite has no decimal storage (NUMERIC affinity keeps a REAL), so read models
# round aggregates back to cents and tests compare both backends.
MONEY = Numeric(18, 2, asdecimal=True)
QUANTITY = Numeric(18, 3, asdecimal=True)
RATIO = Numeric(9, 6, asdecimal=True)


class UTCDateTime(TypeDecorator):
    """Timestamps are aware UTC in Python on every backend.

    PostgreSQL keeps the zone (timestamptz); SQLite drops it, so values are
    stored as naive UTC there and given their zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


SourceId = Annotated[str, mapped_column(String(64))]
Money = Annotated[Decimal, mapped_column(MONEY)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict: JSON, list: JSON, datetime: UTCDateTime}

    if TYPE_CHECKING:
        # Every class here maps a plain Table (none maps a join or a select), so
        # ``Model.__table__`` is a Table wherever one is wanted (bulk inserts, DELETE).
        __table__: ClassVar[Table]


def enum_column(enum_cls: type[enum.Enum], name: str):
    """A portable enum: VARCHAR plus a CHECK constraint, values stored (not names)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def references(target: str) -> dict:
    """Column ``info`` naming the row a column refers to ("table.column"), for a reference
    the database does not enforce (no FOREIGN KEY: PostgreSQL checks one per row with a
    trigger). Ingest and tests check these set-based (``models/ingest/load.py``)."""
    return {"references": target}


def created_at_column():
    return mapped_column(UTCDateTime(), server_default=func.current_timestamp())
