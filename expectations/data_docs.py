"""A batch's validation as Great Expectations Data Docs: one page per batch, plus the index.

The suite runs chunk by chunk (``ingest.chunk_rows``); :func:`merge_results` folds each
chunk's result into one result for the batch as it goes (counts added, a bounded sample
of unexpected values and their row labels kept, never the full lists), so memory stays
flat. After the load has committed, :func:`publish_validation` renders that one page with
GX's own renderer and view (what ``build_data_docs`` does per page, without a file data
context or a store), writes it into the site of models/ingest/data_docs.py, drops the
runs beyond the newest ``keep`` and rewrites the index from the runs' small ``run.json``
files. GX is imported here only when a page is written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from models.ingest.data_docs import (
    RUN_META,
    page_name,
    prune_runs,
    remove_batch_runs,
    run_folder,
    run_folders,
)

SAMPLE_VALUES = 20  # GX's own partial_unexpected_count
SAMPLE_PAIRS = 200  # (value, row label) pairs kept per expectation for the index column
_COUNTS = ("element_count", "missing_count", "unexpected_count")
_SAMPLES = ("partial_unexpected_list", "partial_unexpected_index_list", "partial_unexpected_counts")
# Full lists (one entry per failing row) and the query naming them: never kept.
_FULL = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")


@dataclass(frozen=True)
class BatchFacts:
    """What the page says about the batch beside GX's results (from the BatchResult)."""

    batch_id: int
    entity: str
    file_name: str
    outcome: str  # LOADED | QUARANTINED | REJECTED
    message: str | None = None
    rows_read: int = 0
    rows_quarantined: int = 0


def merge_results(total: Any | None, chunk: Any) -> Any:
    """Fold one chunk's ExpectationSuiteValidationResult into the batch's (``total``).

    The first chunk's result becomes the batch's, its full unexpected lists cut to a
    sample; later chunks add their counts and fill the sample up to its bound. The
    expectations come in the same order in every chunk (one suite per entity).
    """
    if total is None:
        for r in chunk.results:
            r.result = _sampled(r.result or {}, None)
        return chunk
    for acc, new in zip(total.results, chunk.results, strict=True):
        acc.success = bool(acc.success and new.success)
        acc.result = _sampled(new.result or {}, acc.result or {})
    total.success = bool(total.success and chunk.success)
    return total


def show_looked_up_values(result: Any, frame: Any, lookups: dict[str, str]) -> None:
    """Put the file's values in the sample of a foreign-key rule, in place.

    The runner checks ``customer_id`` through a lookup column ``__fk__customer_id`` (1 or
    empty); GX's sample would show "null". The page should show the unknown ids.
    """
    for r in result.results:
        column = str(r.expectation_config.kwargs.get("column") or "")
        res = r.result or {}
        labels = (res.get("unexpected_index_list") or [])[:SAMPLE_PAIRS]
        if not column.startswith("__fk__") or column[6:] not in lookups or not labels:
            continue
        values = frame[column[6:]].loc[labels].tolist()
        counts: dict[str, list] = {}
        for v in values:
            counts.setdefault(repr(v), [v, 0])[1] += 1
        top = sorted(counts.values(), key=lambda vc: -vc[1])[:SAMPLE_VALUES]
        res["unexpected_list"], res["unexpected_index_list"] = values, labels
        res["partial_unexpected_list"] = values[:SAMPLE_VALUES]
        res["partial_unexpected_counts"] = [{"value": v, "count": c} for v, c in top]


def _sampled(new: dict[str, Any], acc: dict[str, Any] | None) -> dict[str, Any]:
    """``acc`` plus ``new`` (``acc`` None: ``new`` alone): counts added, percents
    recomputed, samples bounded; the full unexpected lists are never kept."""
    if acc is None:
        out = {k: v for k, v in new.items() if k not in _FULL}
        for k in _SAMPLES:
            if k in new:
                out[k] = list((new[k] or [])[:SAMPLE_VALUES])
        _add_pairs(out, new)
        return out
    out = dict(acc)
    for k in _COUNTS:
        if k in new:
            out[k] = int(out.get(k) or 0) + int(new[k] or 0)
    for k in ("partial_unexpected_list", "partial_unexpected_index_list"):
        if k in new:
            kept = list(out.get(k) or [])
            out[k] = kept + list(new[k] or [])[: max(SAMPLE_VALUES - len(kept), 0)]
    if "partial_unexpected_counts" in new:
        counts: dict[str, list] = {
            repr(c["value"]): [c["value"], int(c["count"])]
            for c in out.get("partial_unexpected_counts") or []
        }
        for c in new["partial_unexpected_counts"] or []:
            counts.setdefault(repr(c["value"]), [c["value"], 0])[1] += int(c["count"])
        top = sorted(counts.values(), key=lambda vc: -vc[1])[:SAMPLE_VALUES]
        out["partial_unexpected_counts"] = [{"value": v, "count": c} for v, c in top]
    _add_pairs(out, new)
    total = int(out.get("element_count") or 0)
    missing = int(out.get("missing_count") or 0)
    unexpected = int(out.get("unexpected_count") or 0)
    if "missing_percent" in out:
        out["missing_percent"] = 100.0 * missing / total if total else None
    if "unexpected_percent" in out:
        nonmissing = total - missing
        out["unexpected_percent"] = 100.0 * unexpected / nonmissing if nonmissing else None
        out["unexpected_percent_nonmissing"] = out["unexpected_percent"]
        out["unexpected_percent_total"] = 100.0 * unexpected / total if total else None
    return out


def _add_pairs(out: dict[str, Any], new: dict[str, Any]) -> None:
    """Keep up to SAMPLE_PAIRS (unexpected value, row label) pairs: GX's index column."""
    labels = new.get("unexpected_index_list")
    if not labels:
        return
    kept_values = list(out.get("unexpected_list") or [])
    kept_labels = list(out.get("unexpected_index_list") or [])
    room = max(SAMPLE_PAIRS - len(kept_labels), 0)
    out["unexpected_list"] = kept_values + list((new.get("unexpected_list") or [])[:room])
    out["unexpected_index_list"] = kept_labels + list(labels[:room])


def render_page(result: Any, batch: BatchFacts, run_time: datetime) -> str:
    """The batch's Data Docs validation page (HTML), as GX's site builder renders it."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    result.meta = {
        **(result.meta or {}),
        "run_id": RunIdentifier(run_name=f"batch-{batch.batch_id}", run_time=run_time),
        "batch_spec": {"data_asset_name": f"{batch.file_name} (batch {batch.batch_id})"},
        "validation_time": run_time.strftime("%Y%m%dT%H%M%S.%fZ"),
    }
    evaluated = len(result.results)
    passed = sum(1 for r in result.results if r.success)
    result.statistics = {
        "evaluated_expectations": evaluated,
        "successful_expectations": passed,
        "unsuccessful_expectations": evaluated - passed,
        "success_percent": 100.0 * passed / evaluated if evaluated else None,
    }
    document = ValidationResultsPageRenderer().render(result)
    document.sections[0].content_blocks.insert(1, _rules_block(result, batch))
    return jinja_view("page").render(document, show_how_to_buttons=False)


@cache
def jinja_view(kind: str) -> Any:
    """GX's Jinja view of a ``page`` or the ``index``, one per process: each view has its
    own Jinja environment, which compiles the templates on first use (about 0.1 s of a
    0.15 s render) and keeps them, so every later batch's page renders from them."""
    from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

    return DefaultJinjaPageView() if kind == "page" else DefaultJinjaIndexPageView()


def _rules_block(result: Any, batch: BatchFacts):
    """Our rule codes beside GX's wording: what each failed expectation did to the batch."""
    from great_expectations.render.components import RenderedTableContent

    rows = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        meta = cfg.meta or {}
        level = meta.get("level", "row")
        rows.append(
            [
                meta.get("rule", "VALUE_NOT_ALLOWED"),
                meta.get("as_written", cfg.type),
                meta.get("column")
                or cfg.kwargs.get("column")
                or ",".join(cfg.kwargs.get("column_list") or []),
                f"{int((r.result or {}).get('unexpected_count') or 0):,}",
                "refuses the batch" if level == "batch" else "rows go to quarantine",
            ]
        )
    outcome = f"{batch.outcome}: {batch.message}" if batch.message else batch.outcome
    outcome = outcome.replace("$", "$$")  # GX fills $name placeholders in templates
    return RenderedTableContent(
        content_block_type="table",
        header={
            "content_block_type": "string_template",
            "string_template": {"template": "Batch outcome and rules broken", "tag": "h5"},
        },
        subheader={
            "content_block_type": "string_template",
            "string_template": {
                "template": f"{outcome}. {batch.rows_read:,} row(s) read, "
                f"{batch.rows_quarantined:,} quarantined.",
                "tag": "p",
            },
        },
        table=rows or [["", "", "", "0", "no rule broken"]],
        header_row=["Rule", "Expectation", "Column", "Rows", "What it does"],
        styling={"body": {"classes": ["table", "table-sm"]}},
    )


def publish_validation(root: Path, keep: int, result: Any, batch: BatchFacts) -> Path:
    """Write the batch's page and ``run.json``, replace its earlier runs, prune to ``keep``,
    rewrite the index; the page's path."""
    run_time = datetime.now(UTC)
    folder = run_folder(root, batch.entity, batch.batch_id, run_time)
    page = folder / page_name(batch.batch_id)
    html = render_page(result, batch, run_time)
    folder.mkdir(parents=True, exist_ok=True)
    _write(page, html)
    meta = {
        **asdict(batch),
        "success": bool(result.success),
        "suite": result.suite_name,
        "run_time": run_time.isoformat(),
    }
    _write(folder / RUN_META, json.dumps(meta))
    remove_batch_runs(root, batch.batch_id, keep=folder)
    prune_runs(root, keep)
    _write(root / "index.html", render_index(root))
    return page


def render_index(root: Path) -> str:
    """The site's index page (GX's index renderer) listing the runs on disk."""
    from great_expectations.render.renderer import SiteIndexPageRenderer

    links = []
    for folder in run_folders(root):
        try:
            meta = json.loads((folder / RUN_META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        links.append(
            {
                "expectation_suite_name": meta.get("suite") or f"accountops-{meta['entity']}",
                "filepath": (folder / page_name(meta["batch_id"])).relative_to(root).as_posix(),
                "run_name": f"batch-{meta['batch_id']}",
                "run_time": meta.get("run_time"),
                "validation_success": meta.get("success"),
                "batch_identifier": meta.get("file_name"),
                "asset_name": meta.get("file_name"),
                "batch_spec": {"data_asset_name": meta.get("file_name")},
            }
        )
    document = SiteIndexPageRenderer.render(
        OrderedDict(site_name="accountops validations", validations_links=links)
    )
    return jinja_view("index").render(document, show_how_to_buttons=False)


def _write(path: Path, text: str) -> None:
    """Write a file whole or not at all (a reader never sees half a page)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
