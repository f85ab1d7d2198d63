"""Where each batch's Great Expectations Data Docs live, and how many are kept.

The site sits under ``<data_dir>/data_docs/`` in Great Expectations' own layout, so its
links (Home, the index) work when the folder is opened or served as it is::

    data_docs/index.html
    data_docs/validations/accountops-<entity>/batch-<id>/<run time>/batch-<id>.html
                                                            .../run.json  (what the index lists)

One run folder per validation of a batch; a batch validated again (a refused file claimed
once more) replaces its folder. Only the newest ``ingest.data_docs_keep`` runs are kept.
The pages are written by expectations/data_docs.py after the load (never inside it); this
module is the layout both the writer and the dashboard read, and imports no GX.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

DATA_DOCS = "data_docs"
VALIDATIONS = "validations"
RUN_META = "run.json"
RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # GX's run-time folder names (they sort by time)
_BATCH_DIR = re.compile(r"batch-(\d+)")
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
# Elements that fetch from another host as the page loads: stylesheets (Bootstrap, fonts)
# from public CDNs, and GX's logo from its own web assets.
_REMOTE = r"""\s(?:href|src)\s*=\s*["']?(?:https?:)?//"""
_REMOTE_LINK = re.compile(rf"<link\b[^>]*{_REMOTE}[^>]*>", re.IGNORECASE)
_REMOTE_IMG = re.compile(rf"<img\b[^>]*{_REMOTE}[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z][^>]*>")
_HANDLER = re.compile(r"""\son\w+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_ALT = re.compile(r"""\salt\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def data_docs_root(data_dir: Path) -> Path:
    """The Data Docs site of a data folder."""
    return Path(data_dir) / DATA_DOCS


def run_folder(root: Path, entity: str, batch_id: int, run_time: datetime) -> Path:
    """The folder of one validation run of a batch."""
    stamp = run_time.astimezone(UTC).strftime(RUN_TIME_FORMAT)
    return root / VALIDATIONS / f"accountops-{entity}" / f"batch-{batch_id}" / stamp


def page_name(batch_id: int) -> str:
    return f"batch-{batch_id}.html"


def _runs(root: Path) -> list[tuple[str, int, Path]]:
    """(run time, batch id, run folder) of every run on disk, newest first."""
    out = []
    for folder in (root / VALIDATIONS).glob("*/batch-*/*"):
        match = _BATCH_DIR.fullmatch(folder.parent.name)
        if match and folder.is_dir():
            out.append((folder.name, int(match.group(1)), folder))
    return sorted(out, reverse=True)


def published_pages(root: Path) -> dict[int, Path]:
    """Batch id -> its newest Data Docs page, for the batches whose page is kept."""
    pages: dict[int, Path] = {}
    for _stamp, batch_id, folder in _runs(root):
        page = folder / page_name(batch_id)
        if batch_id not in pages and page.is_file():
            pages[batch_id] = page
    return pages


def run_folders(root: Path) -> list[Path]:
    """The run folders on disk, newest first (what the index lists)."""
    return [folder for _stamp, _batch, folder in _runs(root)]


def remove_batch_runs(root: Path, batch_id: int, keep: Path | None = None) -> None:
    """Remove the run folders of one batch (all but ``keep``)."""
    for _stamp, bid, folder in _runs(root):
        if bid == batch_id and folder != keep:
            shutil.rmtree(folder, ignore_errors=True)
            _remove_empty_parents(folder)


def prune_runs(root: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` run folders; the folders removed."""
    removed = []
    for _stamp, _batch, folder in _runs(root)[max(keep, 0) :]:
        shutil.rmtree(folder, ignore_errors=True)
        _remove_empty_parents(folder)
        removed.append(folder)
    return removed


def _remove_empty_parents(run: Path) -> None:
    """Remove the batch and suite folders above a removed run once they are empty."""
    for folder in (run.parent, run.parent.parent):
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            return


# Readable tables where the page's Bootstrap (from a public CDN) cannot be fetched.
_PLAIN_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;font-size:14px;margin:8px}"
    "table{border-collapse:collapse;margin:4px 0}"
    "td,th{padding:2px 8px;border-bottom:1px solid #e4e4e4;text-align:left}"
    # The status icons come from a CDN font too: a plain mark in their place.
    'i.fa-check-circle::before{content:"\\2714";color:#2e7d32;font-style:normal}'
    'i.fa-times::before{content:"\\2718";color:#c62828;font-style:normal}</style>'
)


def page_without_scripts(page: Path) -> str:
    """A page's HTML with its scripts, its event handlers (``onclick``) and its
    stylesheets and images from other hosts removed, to show inside the dashboard.

    An inline frame runs with the app's origin: a GX page's scripts (jQuery, Bootstrap and
    Vega from public CDNs) would run with access to the signed-in session. What the page
    says is in its HTML; the scripts only fold and filter it (the downloaded page keeps
    them).
    """
    html = _SCRIPT.sub("", page.read_text(encoding="utf-8"))
    html = _TAG.sub(lambda tag: _HANDLER.sub("", tag.group(0)), html)  # onclick=...
    html = _REMOTE_LINK.sub("", html)
    html = _REMOTE_IMG.sub(lambda img: _alt_text(img.group(0)), html)
    return html.replace("</head>", _PLAIN_STYLE + "</head>", 1)


def _alt_text(img: str) -> str:
    """An image from another host, as its alternative text (the dashboard fetches nothing
    from another host: its Content-Security-Policy would refuse it)."""
    alt = _ALT.search(img)
    return f"<span>{alt.group(1)}</span>" if alt else ""
