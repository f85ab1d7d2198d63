"""The sample's bad rows, planted on purpose (``generate_sample(..., bad_rows=True)``, the
demo's sample): the real ingest quarantines exactly the rows the answer key names, with
the codes it gives, and loads every other row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from models.canonical import ENTITIES, LOAD_ORDER
from models.dashboard.data_health import quarantine_rows
from models.sampledata import generate_sample
from models.sampledata.bad_rows import read_key
from models.sampledata.roadmap import INTENDED_DIR
from models.schema import InvoiceLine, Payment

from .ingest_support import load


def test_the_ingest_quarantines_exactly_the_planted_rows(engine, tmp_path):
    counts = generate_sample(
        tmp_path, customers=20, years=2, seed=3, end_date=date(2026, 9, 30), bad_rows=True
    )
    key = read_key(tmp_path / INTENDED_DIR)
    assert len(key) == 4
    for entity in LOAD_ORDER[: LOAD_ORDER.index("payments") + 1]:
        load(engine, tmp_path / ENTITIES[entity].file_name)
    held = quarantine_rows(engine)
    assert held is not None
    assert sorted(zip(held.file_name, held.line_no, held.rule_code, strict=True)) == sorted(
        (p.file_name, p.line_no, p.rule_code) for p in key
    )
    with engine.connect() as conn:
        lines = conn.scalar(select(func.count()).select_from(InvoiceLine))
        payments = conn.scalar(select(func.count()).select_from(Payment))
    assert lines == counts["invoice_lines.csv"] - 3
    assert payments == counts["payments.csv"] - 1
