"""The CSV reader streams: memory held while reading follows the chunk size, not
the file size (a 2 GB file must not be read into memory)."""

from __future__ import annotations

import csv
import io
import random
import re
import tracemalloc
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pytest

from models.ingest import reader
from models.ingest.errors import IngestError
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


def test_chunks_are_indexed_by_line(tmp_path):
    facts = _csv(tmp_path / "invoice_lines.csv", 25_000)
    chunks = list(read_chunks(facts, replace(IngestConfig(), chunk_rows=10_000)))
    assert sum(len(c) for c in chunks) == 25_000
    assert chunks[0].index[0] == 2  # the header is line 1
    assert [c.index[0] for c in chunks[1:]] == [
        2 + sum(len(c) for c in chunks[:i]) for i in range(1, len(chunks))
    ]
    assert all(isinstance(c.index, pd.RangeIndex) for c in chunks)  # no breaks: no count
    assert chunks[-1].iloc[-1]["invoice_id"] == f"INV-{24_999 // 4:09d}"


@pytest.mark.parametrize(
    ("rows", "sizes"),
    [
        (10_000, [10_000]),
        (10_625, [10_625]),  # a tail of 1/16 of a chunk joins it
        (10_626, [10_000, 626]),
        (25_000, [10_000, 10_000, 5_000]),
        (20_600, [10_000, 10_600]),
    ],
)
def test_a_short_tail_joins_the_last_chunk(tmp_path, monkeypatch, rows, sizes):
    """No chunk of a few rows pays a chunk's own costs: a tail of at most
    chunk_rows / TAIL_PARTS rows is read into the chunk before it."""
    monkeypatch.setattr(reader, "READ_BLOCK", 64 * 2**10)
    facts = _csv(tmp_path / "invoice_lines.csv", rows)
    chunks = list(read_chunks(facts, replace(IngestConfig(), chunk_rows=10_000)))
    assert [len(c) for c in chunks] == sizes
    assert [c.index[0] for c in chunks] == [2 + sum(sizes[:i]) for i in range(len(sizes))]


def _multiline_csv(path, rows: int, ragged: int | None = None) -> tuple[FileFacts, bytes]:
    """Breaks (LF, CRLF, several in one value, in two columns of a row) in many rows;
    row ``ragged`` (if given) has a field too many."""
    rng = random.Random(5)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(rows):
        note = rng.choice(["", "", "", "a\nb", "x\r\ny\nz", "\n"])
        row = [f"INV-{i:09d}", note, f"C-{i % 97:06d}" + rng.choice(["", "\n!"]), "1"]
        writer.writerow([*row, "surplus"] if i == ragged else row)
    text = out.getvalue().encode()
    path.write_bytes(text)
    return FileFacts(path, path.name, len(text), "-", "csv", HEADER, text.count(b"\n") - 1), text


def _start_lines(text: bytes) -> dict[str, int]:
    """Each row's invoice id -> the line it starts on, counted in the bytes."""
    return {
        m.group(1).decode(): text[: m.start() + 1].count(b"\n") + 1
        for m in re.finditer(rb"\n(INV-\d{9}),", text)
    }


def test_rows_after_line_breaks_in_quoted_values_are_indexed_where_they_start(
    tmp_path, monkeypatch
):
    """In every chunk and across Arrow's blocks, each row's label is the line its first
    field is on."""
    facts, text = _multiline_csv(tmp_path / "invoice_lines.csv", 2_000)
    monkeypatch.setattr(reader, "READ_BLOCK", 4096)
    chunks = list(read_chunks(facts, replace(IngestConfig(), chunk_rows=300)))
    frame = pd.concat(chunks)
    assert len(frame) == 2_000
    assert dict(zip(frame["invoice_id"], frame.index, strict=True)) == _start_lines(text)


@pytest.mark.parametrize("ragged", [0, 299, 300, 1_777])
def test_a_ragged_row_after_line_breaks_is_named_by_the_line_it_starts_on(
    tmp_path, monkeypatch, ragged
):
    """The error path counts as the chunks do, whichever chunk and block it falls in."""
    facts, text = _multiline_csv(tmp_path / "invoice_lines.csv", 2_000, ragged=ragged)
    monkeypatch.setattr(reader, "READ_BLOCK", 4096)
    with pytest.raises(IngestError) as err:
        for _chunk in read_chunks(facts, replace(IngestConfig(), chunk_rows=300)):
            pass
    assert err.value.code == "ROW_RAGGED"
    assert err.value.line == _start_lines(text)[f"INV-{ragged:09d}"]
