"""An as-of date before the end of the data: the roll-ups cut at the date give exactly the
numbers the raw facts cut at the date give, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from models.migrate import upgrade
from models.sampledata import generate_sample
from models.value import facts
from models.value.facts import Sources, choose_sources
from models.value.frames import frame_of
from models.value.receivables import late_invoices_select
from models.value.recompute import refresh
from models.value.windows import Windows
from tests import value_builders as vb

# Mid-month (invoices later in the month), a month end, and the data's last days.
AS_OFS = (date(2025, 11, 14), date(2026, 3, 15), date(2026, 6, 30), date(2026, 9, 29))


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cutoff-sample")
    generate_sample(out, customers=40, years=2, seed=11, end_date=date(2026, 9, 30))
    return out


def _frames(conn, src: Sources) -> dict[str, pd.DataFrame]:
    per_invoice, _ = facts.invoice_sources(src)
    frames = {
        "months": frame_of(conn, facts.invoice_months_by_customer(src)),
        "open": frame_of(conn, facts.open_invoices_by_customer(src, (30, 60, 90))),
        "late": frame_of(conn, late_invoices_select(src)),
        "invoices": frame_of(conn, select(per_invoice)),
    }
    keys = {"months": ["customer_id"], "open": ["customer_id"], "invoices": ["invoice_id"]}
    keys["late"] = ["customer_id", "invoice_id"]
    out = {}
    for name, frame in frames.items():
        frame = frame.sort_values(keys[name]).reset_index(drop=True).astype(object)
        # Money as cents, as it is stored; dates as ISO text (SQLite gives text already).
        out[name] = frame.map(
            lambda v: "" if v is None or v != v else f"{v:.2f}" if isinstance(v, float) else str(v)
        )
    return out


def test_cut_rollups_equal_raw_facts_cut_at_the_date(engine, sample_dir, monkeypatch):
    upgrade(engine)
    vb.load_sample(engine, sample_dir)
    refresh(engine)
    with engine.connect() as conn:
        for as_of in AS_OFS:
            src = choose_sources(conn, Windows(as_of, 12))
            assert src.raw_payments, as_of  # the case under test: payments after as_of
            fast = _frames(conn, src)
            with monkeypatch.context() as m:
                m.setattr(facts, "invoice_sources", facts.raw_invoice_sources)
                import models.value.receivables as receivables

                m.setattr(receivables, "invoice_sources", facts.raw_invoice_sources)
                slow = _frames(conn, src)
            for name in fast:
                assert len(fast[name]) > 0, (as_of, name)
                pd.testing.assert_frame_equal(fast[name], slow[name], obj=f"{name} at {as_of}")


def test_a_batch_of_new_rows_rebuilds_only_its_months_and_equals_a_full_rebuild(engine):
    from models.value.rollups import refresh_rollups
    from tests.unit.test_value_measures import build_book

    build_book(engine)
    with engine.begin() as conn:
        assert refresh_rollups(conn).full_rebuild
    # A new invoice, a new line on an old invoice, a payment for an old invoice.
    vb.a_batch_of_new_rows(engine)
    with engine.begin() as conn:
        second = refresh_rollups(conn)
        assert not second.full_rebuild and second.customers_rebuilt == 3
        vb.assert_rollups_match_a_full_rebuild(conn)
