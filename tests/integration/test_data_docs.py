"""Each validated batch publishes Great Expectations Data Docs under the data folder, after
its load; the newest ``ingest.data_docs_keep`` are kept; a failure to write them never
fails the batch."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from expectations.runner import SuiteRunner
from flows.data_docs import publish_data_docs
from models.db import make_engine
from models.ingest import ingest_config, ingest_file
from models.ingest.data_docs import data_docs_root, page_without_scripts, published_pages
from models.migrate import upgrade
from tests.ingest_builders import AS_OF, BASE_ENTITIES, fixture_batch, read_rows, write_rows

LOG = logging.getLogger("test.data_docs")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


@pytest.fixture
def book(tmp_path, base):
    """A migrated SQLite book holding the base entities; the ingest's runner and rules
    (chunks of 400 rows, so a batch's validation is folded from several GX results)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'docs.db'}")
    upgrade(engine)
    config = dataclasses.replace(ingest_config(), chunk_rows=400, data_docs_keep=3)
    runner = SuiteRunner(config, AS_OF)
    for entity in BASE_ENTITIES:
        assert (
            ingest_file(
                engine, base / f"{entity}.csv", validator=runner, config=config, as_of=AS_OF
            ).outcome
            == "LOADED"
        )
        runner.take_validation(entity)
    yield engine, runner, config
    engine.dispose()


def _lines_with_bad_currency(base, out, rows_to_break):
    header, rows = read_rows(base / "invoice_lines.csv")
    for i in rows_to_break:
        rows[i][header.index("currency")] = "XXX"
    out.mkdir(parents=True, exist_ok=True)
    return write_rows(out / "invoice_lines.csv", header, rows)


def _text(html: str) -> str:
    html = re.sub(r"<(script|style).*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_validation_writes_a_page_naming_the_failing_expectation(book, base, tmp_path):
    engine, runner, config = book
    path = _lines_with_bad_currency(base, tmp_path / "in", [3, 900])  # chunks 1 and 3
    result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
    assert result.outcome == "LOADED" and result.rows_quarantined == 2

    page = publish_data_docs(runner, result, config, LOG, data_dir=tmp_path / "var")

    root = data_docs_root(tmp_path / "var")
    assert published_pages(root) == {result.batch_id: page}
    text = _text(page.read_text(encoding="utf-8"))
    # Our rule code and GX's expectation type, then GX's own wording and sample.
    assert "CURRENCY_NOT_ALLOWED expect_column_values_to_be_in_set currency 2" in text
    assert "values must belong to this set" in text
    assert "2 unexpected values found" in text  # folded from two chunks
    assert "XXX 2" in text
    assert f"invoice_lines.csv (batch {result.batch_id})" in text
    index = (root / "index.html").read_text(encoding="utf-8")
    assert page.relative_to(root).as_posix() in index
    assert runner.take_validation("invoice_lines") is None  # handed over once


# What makes a browser fetch as the page loads: a script, stylesheet or image element
# whose address is absolute (another host).
REMOTE_FETCH = re.compile(r"<(?:script|link|img)\b[^>]*\s(?:src|href)\s*=\s*[\"']?(?:https?:)?//")


def test_the_page_shown_in_the_dashboard_fetches_nothing_from_another_host(book, base, tmp_path):
    engine, runner, config = book
    path = _lines_with_bad_currency(base, tmp_path / "in", [3])
    result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
    page = publish_data_docs(runner, result, config, LOG, data_dir=tmp_path / "var")
    written = page.read_text(encoding="utf-8")
    assert REMOTE_FETCH.search(written)  # GX's page loads Bootstrap, fonts and its logo

    shown = page_without_scripts(page)

    assert REMOTE_FETCH.search(shown) is None
    assert "<script" not in shown.lower()
    assert re.search(r"<[^>]*\sonclick\s*=", written)  # GX's "show all / failed" buttons
    assert re.search(r"<[^>]*\son\w+\s*=", shown) is None
    assert "CURRENCY_NOT_ALLOWED" in _text(shown)  # what the page says stays
    assert "Great Expectations" in _text(shown)  # the logo, as its words


def test_pruning_keeps_the_newest_n_runs(book, base, tmp_path):
    engine, runner, config = book
    data_dir = tmp_path / "var"
    ids = []
    for n in range(5):  # five different files: five batches, each validated
        path = _lines_with_bad_currency(base, tmp_path / f"in{n}", [n])
        result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
        assert publish_data_docs(runner, result, config, LOG, data_dir=data_dir) is not None
        ids.append(result.batch_id)
    root = data_docs_root(data_dir)
    assert sorted(published_pages(root)) == ids[-config.data_docs_keep :]
    assert len(list((root / "validations").glob("*/batch-*/*"))) == config.data_docs_keep
    index = (root / "index.html").read_text(encoding="utf-8")
    assert f"batch-{ids[0]}.html" not in index and f"batch-{ids[-1]}.html" in index


def test_a_failure_to_write_the_docs_only_warns(book, base, tmp_path, caplog):
    engine, runner, config = book
    blocked = tmp_path / "var"
    blocked.write_text("a file where the data folder should be")
    path = _lines_with_bad_currency(base, tmp_path / "in", [5])
    result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert publish_data_docs(runner, result, config, LOG, data_dir=blocked) is None
    assert result.outcome == "LOADED"
    assert f"Data Docs of batch {result.batch_id} not written" in caplog.text


def test_a_batch_refused_before_validation_leaves_no_page(book, base, tmp_path):
    """A database built afresh numbers batches from 1 again: a stale page of an earlier
    batch 1 must not be shown as the new one's."""
    engine, runner, config = book
    data_dir = tmp_path / "var"
    good = _lines_with_bad_currency(base, tmp_path / "in", [7])
    first = ingest_file(engine, good, validator=runner, config=config, as_of=AS_OF)
    publish_data_docs(runner, first, config, LOG, data_dir=data_dir)
    refused = dataclasses.replace(first, outcome="REJECTED", error_code="FILE_EMPTY")
    assert publish_data_docs(runner, refused, config, LOG, data_dir=data_dir) is None
    assert published_pages(data_docs_root(data_dir)) == {}
    duplicate = ingest_file(engine, good, validator=runner, config=config, as_of=AS_OF)
    assert duplicate.outcome == "DUPLICATE"
    assert publish_data_docs(runner, duplicate, config, LOG, data_dir=data_dir) is None


def test_pages_rendered_by_the_shared_views_are_those_of_fresh_views(book, base, tmp_path):
    # One Jinja view per process renders every batch's page and the index: once its
    # templates are compiled, it renders what a fresh view renders.
    from datetime import UTC, datetime

    from expectations.data_docs import BatchFacts, jinja_view, render_index, render_page

    engine, runner, config = book
    for n, rows in enumerate(([3], [5, 900])):
        path = _lines_with_bad_currency(base, tmp_path / f"in{n}", rows)
        result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
        publish_data_docs(runner, result, config, LOG, data_dir=tmp_path / "var")
    root = data_docs_root(tmp_path / "var")
    path = _lines_with_bad_currency(base, tmp_path / "in2", [7])
    result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
    validation = runner.take_validation("invoice_lines")
    facts = BatchFacts(result.batch_id, "invoice_lines", "invoice_lines.csv", result.outcome)
    run_time = datetime(2026, 12, 5, tzinfo=UTC)
    # GX stamps its logo's address with the time and names collapsible blocks by uuid4.
    varies = re.compile(r"\d{8}T\d{6}\.\d+Z|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")

    def pages() -> list[str]:
        rendered = [render_page(validation, facts, run_time), render_index(root)]
        return [varies.sub("", html) for html in rendered]

    shared = pages()  # the views the two batches above warmed
    jinja_view.cache_clear()
    fresh = pages()
    assert "CURRENCY_NOT_ALLOWED" in shared[0] and "invoice_lines.csv" in shared[1]
    assert shared == fresh
