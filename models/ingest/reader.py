"""Reading a batch's rows: chunks of string columns, on bounded memory.

A checked file (file_checks.py) is read in chunks of about ``chunk_rows`` rows:
pyarrow's streaming CSV reader (a short tail joins the last chunk) or Parquet row
groups. Every cell comes out as a string ('' for empty); typing is normalise's job.

A chunk's index is the line each row starts on in the file (header = line 1),
which every message and quarantine record names. Arrow numbers rows, not lines:
the line breaks inside a row's quoted values are counted here (a look at each
column's bytes, then a count only in the columns that hold one), so the rows
after a multi-line value are numbered where they really start. Parquet and
query rows have no lines: they are numbered as the same rows written to a CSV
with a header line (row n is line n + 1).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .errors import IngestError
from .file_checks import FileFacts
from .settings import IngestConfig

# Arrow's streaming CSV reader reads up to 32 blocks ahead on its IO thread (the
# Python bytes it holds are not in Arrow's pool): small blocks bound that to
# 32 MB; they are gathered into chunks of ``ingest.chunk_rows`` rows.
READ_BLOCK = 1 << 20
# A last chunk of at most 1/TAIL_PARTS of ``chunk_rows`` joins the chunk before it: each
# chunk has costs of its own whatever its size (a validation, the lookups, a write),
# which a tail of a few thousand rows would pay for the few (a 203,885-row payments
# file: one chunk, not 200,000 + 3,885). A chunk holds at most 1 + 1/TAIL_PARTS chunks.
TAIL_PARTS = 16
FIRST_LINE = 2  # the first data row's line: the header is line 1


def read_chunks(
    facts: FileFacts, config: IngestConfig, *, encoding: str = "utf-8", delimiter: str = ","
) -> Iterator[pd.DataFrame]:
    """Chunks of the file as string DataFrames, index = the line each row starts on."""
    if facts.kind == "parquet":
        yield from _parquet_chunks(facts, config)
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bad: list[object] = []

    def on_invalid(row) -> str:
        """Keep the first bad row for the message; skip it (the batch is refused)."""
        bad.append(row)
        return "skip"

    codec = (
        "utf8" if encoding.lower().replace("_", "-") in {"utf-8", "utf8", "utf-8-sig"} else encoding
    )
    # Arrow reads ahead up to 32 blocks on its IO thread, whether given a path or
    # a file object: with the 30 MB blocks this once used, a 10M-line file was held
    # whole. READ_BLOCK bounds it (tests/unit/test_ingest_reader.py).
    with facts.path.open("rb") as fh:
        reader = pacsv.open_csv(
            fh,
            read_options=pacsv.ReadOptions(
                column_names=facts.header,
                skip_rows=1,
                encoding=codec,
                block_size=READ_BLOCK,
                # One block at a time (with threads Arrow parses a block ahead: twice
                # the memory, and no faster here).
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in facts.header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        # Rows yielded so far, and the line the first pending row starts on.
        done, line = 0, FIRST_LINE
        # A chunk is cut only with more than a tail's rows after it (read a block on).
        tail = config.chunk_rows // TAIL_PARTS
        pending = pa.table({c: pa.array([], pa.string()) for c in facts.header})
        for record_batch in reader:
            pending = pa.concat_tables([pending, pa.Table.from_batches([record_batch])])
            if bad:
                # Arrow parses a block ahead of the rows it hands out: read on to the
                # bad row, so the rows before it (and their line breaks) are all here.
                number = getattr(bad[0], "number", None)
                if number is None or number - FIRST_LINE - done <= pending.num_rows:
                    _raise_ragged(facts, bad[0], len(facts.header), pending, done, line)
                continue
            while pending.num_rows > config.chunk_rows + tail:
                frame, line = _chunk(facts, config, pending.slice(0, config.chunk_rows), done, line)
                yield frame
                done += config.chunk_rows
                pending = pending.slice(config.chunk_rows)
        if bad:
            _raise_ragged(facts, bad[0], len(facts.header), pending, done, line)
        if pending.num_rows:
            # Held no longer once copied into the chunk (the last chunk is yielded here
            # whenever a tail joined it: ~25 MB of peak memory for 200,000 lines).
            frame = _chunk(facts, config, pending, done, line)[0]
            del pending
            yield frame


def _chunk(
    facts: FileFacts, config: IngestConfig, rows, done: int, line: int
) -> tuple[pd.DataFrame, int]:
    """Arrow rows (gathered from several blocks) as one string DataFrame, indexed by the
    line each row starts on (the first on ``line``); and the line after its last row."""
    if done + rows.num_rows > config.max_rows:
        raise IngestError(
            "FILE_TOO_MANY_ROWS", facts.name, f"more than ingest.max_rows={config.max_rows:,}"
        )
    rows = rows.combine_chunks()
    frame = rows.to_pandas()
    breaks = _line_breaks(rows)
    if breaks is None:
        frame.index = pd.RangeIndex(line, line + len(frame))
        return frame, line + len(frame)
    # A row starts after the lines of the rows before it: one each, plus their breaks.
    frame.index = pd.Index(line + np.arange(len(frame)) + np.cumsum(breaks) - breaks)
    return frame, line + len(frame) + int(breaks.sum())


def _line_breaks(rows) -> np.ndarray | None:
    """How many line breaks each row's values hold (inside quotes), or None when no
    value holds one. Each column's bytes are looked at first (one vectorised pass,
    negligible beside the parse); only a column that holds a break is counted per row."""
    import pyarrow.compute as pc

    counts: np.ndarray | None = None
    for column in rows.columns:
        if not any(_holds_newline(chunk) for chunk in column.chunks):
            continue
        found = pc.count_substring(column, "\n").to_numpy().astype(np.int64)
        counts = found if counts is None else counts + found
    return counts if counts is not None and counts.any() else None


def _holds_newline(array) -> bool:
    # A sliced array's data buffer may run past the slice: a break found there only
    # costs a count that finds none.
    data = array.buffers()[2]
    return data is not None and bool((np.frombuffer(data, dtype=np.uint8) == 10).any())


def _raise_ragged(facts: FileFacts, row, expected: int, pending, done: int, next_line: int) -> None:
    """Refuse the batch for the first row Arrow could not split into the header's fields.

    Its line is counted as the chunks' are: Arrow's row number (header = row 1) says how
    many rows come before it; those not yet yielded are the first of ``pending`` (every
    row before the first bad one is good), starting on ``next_line``, and their line
    breaks count."""
    text = row.text or ""
    line: int | None = None
    if row.number is not None:
        before = min(max(row.number - FIRST_LINE - done, 0), pending.num_rows)
        breaks = _line_breaks(pending.slice(0, before))
        line = next_line + before + (int(breaks.sum()) if breaks is not None else 0)
    truncated = "\n" in text or (line is not None and line >= facts.data_lines + 1)
    if truncated and (text.count('"') % 2 == 1):
        code, problem = (
            "ROW_TRUNCATED",
            "unterminated quote: the file is cut off or a quote is missing",
        )
    elif truncated and line == facts.data_lines + 1 and row.actual_columns < expected:
        code, problem = (
            "ROW_TRUNCATED",
            f"the last line is truncated ({row.actual_columns} of {expected} fields)",
        )
    else:
        code, problem = (
            "ROW_RAGGED",
            f"{row.actual_columns} fields where the header has {expected}",
        )
    raise IngestError(code, facts.name, problem, line=line, raw=text)


def _parquet_chunks(facts: FileFacts, config: IngestConfig) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    line = FIRST_LINE
    for batch in pq.ParquetFile(facts.path).iter_batches(batch_size=config.chunk_rows):
        frame = as_strings(batch.to_pandas())
        frame.index = pd.RangeIndex(line, line + len(frame))
        line += len(frame)
        yield frame


def as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed columns (Parquet, SQL) as the strings a CSV would hold; NULL -> ''."""
    out = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(series):
            text = series.map({True: "true", False: "false"})
        else:
            text = series.map(_cell)
        out[str(col)] = text.where(series.notna(), "").astype(object)
    return pd.DataFrame(out, index=frame.index)


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if not hasattr(value, "hour") else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
