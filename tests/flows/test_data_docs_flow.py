"""The ingest flow publishes each validated batch's Data Docs after its load, under the
data folder (ACCOUNTOPS_DATA_DIR: the ``data_dir`` fixture of conftest.py)."""

from __future__ import annotations

from flows.ingest import ingest
from models.db import make_engine
from models.ingest.data_docs import data_docs_root, published_pages
from models.migrate import upgrade
from tests.ingest_builders import AS_OF, BASE_ENTITIES, read_rows, write_rows


def test_a_quarantined_batch_gets_a_page_naming_the_rule_that_refused_it(base, tmp_path, data_dir):
    url = f"sqlite:///{tmp_path / 'flow.db'}"
    upgrade(make_engine(url))
    header, rows = read_rows(base / "invoice_lines.csv")
    rows[1] = list(rows[0])  # duplicate natural key: the suite's batch-level rule fails
    bad = write_rows(tmp_path / "invoice_lines.csv", header, rows)
    paths = [*(str(base / f"{e}.csv") for e in BASE_ENTITIES), str(bad)]

    state = ingest(paths=paths, database_url=url, as_of=AS_OF, return_state=True)

    assert state.is_failed()
    results = state.result(raise_on_failure=False)
    refused = next(r for r in results if r["outcome"] == "QUARANTINED")
    pages = published_pages(data_docs_root(data_dir))
    assert sorted(pages) == [r["batch_id"] for r in results]  # every batch validated
    page = pages[refused["batch_id"]].read_text(encoding="utf-8")
    assert "KEY_DUPLICATE" in page and "expect_compound_columns_to_be_unique" in page
    assert "refuses the batch" in page
