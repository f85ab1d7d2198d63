"""M1-M4: one head, base->head on empty databases, downgrade/upgrade, no drift."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, inspect, select, text

from models.db import make_engine
from models.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    pending_changes,
    upgrade,
)
from models.schema import Invoice, metadata

from .fixtures import insert_one_of_everything


def test_m1_single_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1
    assert head_revision() == heads[0]


def test_m2_base_to_head_creates_every_table(db_url):
    engine = make_engine(db_url)
    before, after = upgrade(engine)
    assert before is None
    assert after == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_init_twice_is_a_no_op(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        tables_before = sorted(inspect(conn).get_table_names())
    before, after = upgrade(engine)
    assert before == after == head_revision()
    with engine.connect() as conn:
        assert sorted(inspect(conn).get_table_names()) == tables_before


def test_m4_models_and_migrations_do_not_drift(engine):
    assert pending_changes(engine) == []


def test_m3_downgrade_then_upgrade_keeps_data(engine):
    """Step the latest migration down and up again with data in every table.

    Rows in the tables the step down keeps must all be there after the step up
    (a table the latest migration creates cannot keep its rows when dropped).
    """
    insert_one_of_everything(engine)
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_revision(head_revision())
    counts = _row_counts(engine)
    downgrade(engine, head.down_revision or "base")
    assert current_revision(engine) == head.down_revision
    kept = set(inspect(engine).get_table_names()) & set(counts)
    upgrade(engine)
    assert current_revision(engine) == head.revision
    after = _row_counts(engine)
    assert {t: after[t] for t in kept} == {t: counts[t] for t in kept}
    if head.down_revision is not None:
        assert kept, "the step down dropped every table"
    assert pending_changes(engine) == []


def _row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(table))
            for name, table in metadata.tables.items()
        }


def test_0010_keys_the_per_customer_rollups_by_customer(engine):
    """The roll-ups and window tables whose key leads with customer_id are stored in key
    order on SQLite (WITHOUT ROWID); the open invoices are keyed by customer first, and
    invoice_rollup keeps no index on settled_day (nothing reads by it since 0009)."""
    clustered = [
        t.name for t in metadata.sorted_tables if t.dialect_options["sqlite"]["with_rowid"] is False
    ]
    assert sorted(clustered) == sorted(
        [
            "sales_rollup",
            "invoice_month_rollup",
            "open_invoice_rollup",
            "sales_window",
            "invoice_window",
            "payment_month_rollup",  # 0025, stored alike
        ]
    )
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("open_invoice_rollup")["constrained_columns"] == [
        "customer_id",
        "invoice_id",
    ]
    assert "ix_invoice_rollup_settled_day" not in {
        ix["name"] for ix in inspector.get_indexes("invoice_rollup")
    }
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            ddl = dict(
                conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                ).all()
            )
        assert {t for t, sql in ddl.items() if sql.rstrip().endswith("WITHOUT ROWID")} == set(
            clustered
        )


def test_0022_gives_existing_invoices_the_total_of_their_lines(engine):
    """An invoice stored before 0022 gets what its lines add up to (a credit line
    included); one without lines gets none."""
    insert_one_of_everything(engine)  # INV-1: lines of 12345678.91 and -0.01
    with engine.begin() as conn:
        conn.execute(
            insert(Invoice.__table__).values(
                invoice_id="INV-NO-LINES",
                customer_id="C-1",
                invoice_date=date(2026, 1, 11),
                currency="EUR",
            )
        )
    downgrade(engine, "0021")
    upgrade(engine)
    with engine.connect() as conn:
        kept = dict(conn.execute(select(Invoice.invoice_id, Invoice.line_total)).all())
    assert kept == {"INV-1": Decimal("12345678.90"), "INV-NO-LINES": None}


def test_0023_keeps_the_sales_rollup_in_whole_cents(engine):
    """The sales roll-up's money is whole cents from 0023 on: stepping down gives the
    amounts back to the cent, stepping up the cents again."""
    insert_one_of_everything(engine)  # one row: 12,345,678.90
    query = text("SELECT revenue, cost FROM sales_rollup")
    downgrade(engine, "0022")
    with engine.connect() as conn:
        revenue, cost = conn.execute(query).one()
    assert (Decimal(str(revenue)).quantize(Decimal("0.01")), cost) == (
        Decimal("12345678.90"),
        None,
    )
    upgrade(engine)
    with engine.connect() as conn:
        assert tuple(conn.execute(query).one()) == (1234567890, None)
