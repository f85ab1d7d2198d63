"""The CSV reader streams: memory held while reading follows the chunk size, not
the file size (a 2 GB file must not be read into memory)."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

import pyarrow as pa

from models.ingest import reader
from models.ingest.file_checks import FileFacts
from models.ingest.reader import read_chunks
from models.ingest.settings import IngestConfig

HEADER = ["invoice_id", "line_no", "customer_id", "amount"]


def _csv(path, rows: int):
    with path.open("w") as fh:
        fh.write(",".join(HEADER) + "\n")
        for i in range(rows):
            fh.write(f"INV-{i // 4:09d},{i % 4 + 1},C-{i % 997:06d},{i % 5000}.25\n")
    return FileFacts(path, path.name, path.stat().st_size, "-", "csv", HEADER, rows)


def test_reading_holds_about_one_chunk_whatever_the_file_size(tmp_path, monkeypatch):
    """Arrow reads up to 32 blocks ahead on its IO thread, into Python bytes (the file
    object's reads) that Arrow's pool does not count: tracemalloc sees them."""
    facts = _csv(tmp_path / "invoice_lines.csv", 1_000_000)  # ~40 MB
    monkeypatch.setattr(reader, "READ_BLOCK", 64 * 2**10)  # read-ahead <= 2 MB
    config = replace(IngestConfig(), chunk_rows=10_000)
    tracemalloc.start()
    try:
        before = pa.total_allocated_bytes()
        held, rows = 0, 0
        for frame in read_chunks(facts, config):
            python_bytes, _ = tracemalloc.get_traced_memory()
            held = max(held, python_bytes + pa.total_allocated_bytes() - before)
            rows += len(frame)
            del frame
    finally:
        tracemalloc.stop()
    assert rows == 1_000_000
    # Blocks sized by the chunk (~1.2 MB) read 32 ahead would hold ~38 MB here.
    assert held < 8 * 2**20, f"{held / 2**20:.1f} MB held while reading 10,000-row chunks"


def test_chunks_are_numbered_by_data_row(tmp_path):
    facts = _csv(tmp_path / "invoice_lines.csv", 25_000)
    chunks = list(read_chunks(facts, replace(IngestConfig(), chunk_rows=10_000)))
    assert sum(len(c) for c in chunks) == 25_000
    assert chunks[0].index[0] == 0
    assert [c.index[0] for c in chunks[1:]] == [
        sum(len(c) for c in chunks[:i]) for i in range(1, len(chunks))
    ]
    assert chunks[-1].iloc[-1]["invoice_id"] == f"INV-{24_999 // 4:09d}"
