"""Data health's figures agree with its tables: a file refused whole (no row read) and a
row that broke two rules are counted as the quarantine table lists them."""

from __future__ import annotations

import pytest
import streamlit as st

from flows import scheduler
from flows.scheduler import SchedulerView
from models.access import Identity
from models.ingest import ingest_config, ingest_file
from models.schema import Role
from tests.dashboards.conftest import app_test
from tests.ingest_builders import AS_OF, BASE_ENTITIES, fixture_batch, read_rows, write_rows


@pytest.fixture
def refused_db(app_db, signed_in_app, tmp_path, monkeypatch):
    """The base entities, two stray files refused whole (as a deployment's run records
    them) and an invoice file with one line that broke two rules."""
    from expectations.runner import SuiteRunner

    monkeypatch.setenv("ACCOUNTOPS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setattr(
        scheduler,
        "scheduler_view",
        lambda timeout=3.0: SchedulerView(None, problem="not asked in this test"),
    )
    base = fixture_batch(tmp_path / "fixture")
    strays = tmp_path / "landed"
    strays.mkdir()
    for name in ("hostname", "notes.csv"):
        (strays / name).write_text(f"{name}\n1\n", encoding="utf-8")  # two batches
    header, rows = read_rows(base / "invoice_lines.csv")
    rows[5][header.index("product_line_id")] = ""
    rows[5][header.index("amount")] = "abc"
    (tmp_path / "fixed").mkdir()
    bad = write_rows(tmp_path / "fixed" / "invoice_lines.csv", header, rows)
    config = ingest_config()
    runner = SuiteRunner(config, AS_OF)
    files = [*(base / f"{e}.csv" for e in BASE_ENTITIES), strays / "hostname"]
    for path in [*files, strays / "notes.csv", bad]:
        ingest_file(app_db, path, validator=runner, config=config, as_of=AS_OF)
    signed_in_app("viewer")
    st.cache_data.clear()


def _data_health_page():
    """Data health as a viewer sees it."""
    at = app_test()
    at.session_state["identity"] = Identity("test-viewer", Role.VIEWER, None, "Test viewer")
    at.run()
    at.switch_page("app_pages/data_health.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_quarantine_figure_is_the_sum_of_the_quarantine_table(refused_db):
    at = _data_health_page()

    figures = {m.label: m.value for m in at.metric}
    (by_rule,) = [d.value for d in at.dataframe if "records" in d.value.columns]
    assert figures["Quarantine records"] == "4"
    assert int(by_rule["records"].sum()) == 4
    assert sorted(by_rule["rule_code"]) == [
        "FILE_UNKNOWN_ENTITY",
        "FILE_UNKNOWN_ENTITY",
        "NUMBER_INVALID",
        "REQUIRED_MISSING",
    ]
    assert figures["Refused (rejected or quarantined)"] == "2"
    assert any(c.value.startswith("4 quarantine record(s) per batch and rule") for c in at.caption)

    # Both strays are the newest (and only) delivery of their kind: still held back.
    (warning,) = [w.value.replace("\\", "") for w in at.warning]
    assert warning.startswith("The newest delivery of 1 kind(s) of data was refused")
    assert "notes.csv" in warning


def test_a_refused_file_loaded_again_is_no_longer_a_warning(app_db, signed_in_app, tmp_path):
    """A delivery refused whole, then loaded fixed: the refused batch stays in the table
    and the count, but nothing is held back, so no warning."""
    from expectations.runner import SuiteRunner

    base = fixture_batch(tmp_path / "fixture")
    header, rows = read_rows(base / "invoice_lines.csv")
    broken = [list(r) for r in rows]
    for row in broken:
        row[header.index("amount")] = "abc"  # every row: the batch is rejected
    (tmp_path / "bad").mkdir()
    bad = write_rows(tmp_path / "bad" / "invoice_lines.csv", header, broken)
    config = ingest_config()
    runner = SuiteRunner(config, AS_OF)
    files = [*(base / f"{e}.csv" for e in BASE_ENTITIES), bad, base / "invoice_lines.csv"]
    for path in files:
        ingest_file(app_db, path, validator=runner, config=config, as_of=AS_OF)
    signed_in_app("viewer")
    st.cache_data.clear()
    at = _data_health_page()
    figures = {m.label: m.value for m in at.metric}
    assert figures["Refused (rejected or quarantined)"] == "1"
    assert not [w.value for w in at.warning if "refused" in w.value]
    assert any("loaded again since" in c.value for c in at.caption)
