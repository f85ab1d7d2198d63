"""The schema stores and returns every kind of value exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.db import transaction
from models.schema import Customer, CustomerStatus, IngestBatch, InvoiceLine, metadata

from .fixtures import insert_one_of_everything, one_of_everything


def _columns(row) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def test_every_table_round_trips(engine):
    insert_one_of_everything(engine)
    expected = one_of_everything()
    assert {type(r).__tablename__ for r in expected} == set(metadata.tables)
    with Session(engine) as session:
        for want in expected:
            mapper = type(want)
            pk = tuple(getattr(want, c.key) for c in mapper.__table__.primary_key.columns)
            if None in pk:  # autoincrement keys: compare the only row instead
                (got,) = session.scalars(select(mapper)).all()
            else:
                got = session.get(mapper, pk if len(pk) > 1 else pk[0])
            for key, value in _columns(want).items():
                if value is not None:
                    assert getattr(got, key) == value, f"{mapper.__tablename__}.{key}"


def test_money_is_decimal_to_the_cent(engine):
    insert_one_of_everything(engine)
    with Session(engine) as session:
        amounts = session.scalars(select(InvoiceLine.amount).order_by(InvoiceLine.line_no)).all()
    assert amounts == [Decimal("12345678.91"), Decimal("-0.01")]
    assert all(isinstance(a, Decimal) for a in amounts)


def test_unknown_cost_stays_null(engine):
    insert_one_of_everything(engine)
    with Session(engine) as session:
        cost = session.scalar(select(InvoiceLine.cost).where(InvoiceLine.line_no == 2))
    assert cost is None


@pytest.mark.parametrize("influence", [-1, 101])
def test_influence_outside_0_100_is_refused(engine, influence):
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(
            Customer(customer_id="C-X", name="X", status=CustomerStatus.ACTIVE, influence=influence)
        )


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(
            Customer(customer_id="C-X", name="X", status=CustomerStatus.ACTIVE, manager_id="nobody")
        )


def test_a_batch_content_hash_is_unique_per_source(engine):
    insert_one_of_everything(engine)
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(
            IngestBatch(
                source="files", entity="invoice_lines", content_sha256="a" * 64, status="started"
            )
        )
