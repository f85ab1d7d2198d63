"""Data health's quarantine figure and table are one read: the figure is the sum of the
table's records, a file refused whole included (the "0 rows quarantined above 2
quarantined rows" of issue 21), on both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from models.dashboard.data_health import quarantine_summary
from models.schema import QuarantineRecord
from tests.ingest_builders import BASE_ENTITIES, fixture_batch, read_rows, write_rows

from .ingest_support import load


def test_the_total_is_the_sum_of_the_groups_whatever_the_limit(engine, tmp_path):
    base = fixture_batch(tmp_path / "fixture")
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    # A file no entity matches, as a deployment's run records it: refused whole, no row read.
    stray = tmp_path / "landed" / "hostname"
    stray.parent.mkdir()
    stray.write_text("build-host-7\n", encoding="utf-8")
    refused = load(engine, stray)
    assert (refused.outcome, refused.rows_quarantined) == ("REJECTED", 0)
    # One line breaking two rules (two records, one row) and one too long for its column.
    header, rows = read_rows(base / "invoice_lines.csv")
    rows[5][header.index("product_line_id")] = ""
    rows[5][header.index("amount")] = "abc"
    rows[9][header.index("product_code")] = "P" * 65
    (tmp_path / "fixed").mkdir()
    loaded = load(engine, write_rows(tmp_path / "fixed" / "invoice_lines.csv", header, rows))
    assert (loaded.outcome, loaded.rows_quarantined) == ("LOADED", 2), loaded.message

    summary = quarantine_summary(engine)

    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(QuarantineRecord))
    assert summary.records == stored == int(summary.by_rule["records"].sum()) == 4
    assert summary.complete and summary.groups == len(summary.by_rule) == 4
    assert sorted(zip(summary.by_rule["rule_code"], summary.by_rule["records"], strict=True)) == [
        ("FILE_UNKNOWN_ENTITY", 1),
        ("NUMBER_INVALID", 1),
        ("REQUIRED_MISSING", 1),
        ("VALUE_TOO_LONG", 1),
    ]
    cut = quarantine_summary(engine, limit=1)
    assert (cut.records, cut.groups, len(cut.by_rule), cut.complete) == (4, 4, 1, False)


def test_no_quarantine_is_zero_and_an_empty_table(engine):
    summary = quarantine_summary(engine)
    assert (summary.records, summary.groups, summary.complete) == (0, 0, True)
    assert summary.by_rule.empty
