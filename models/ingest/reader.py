"""Reading a batch's rows: chunks of string columns, on bounded memory.

A checked file (file_checks.py) is read in chunks of about ``chunk_rows`` rows:
pyarrow's streaming CSV reader or Parquet row groups. Every cell comes out as
a string ('' for empty); typing is normalise's job. Line numbers are physical
lines (header = line 1) assuming no quoted newlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .errors import IngestError
from .file_checks import FileFacts
from .settings import IngestConfig

# Arrow's streaming CSV reader reads up to 32 blocks ahead on its IO thread (the
# Python bytes it holds are not in Arrow's pool): small blocks bound that to
# 32 MB; they are gathered into chunks of ``ingest.chunk_rows`` rows.
READ_BLOCK = 1 << 20


def read_chunks(
    facts: FileFacts, config: IngestConfig, *, encoding: str = "utf-8", delimiter: str = ","
) -> Iterator[pd.DataFrame]:
    """Chunks of the file as string DataFrames, index = 0-based data row number."""
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
        start, pending = 0, None
        for record_batch in reader:
            if bad:
                _raise_ragged(facts, bad[0], len(facts.header))
            block = pa.Table.from_batches([record_batch])
            pending = block if pending is None else pa.concat_tables([pending, block])
            while pending.num_rows >= config.chunk_rows:
                yield _chunk(facts, config, pending.slice(0, config.chunk_rows), start)
                start += config.chunk_rows
                pending = pending.slice(config.chunk_rows)
        if bad:
            _raise_ragged(facts, bad[0], len(facts.header))
        if pending is not None and pending.num_rows:
            yield _chunk(facts, config, pending, start)


def _chunk(facts: FileFacts, config: IngestConfig, rows, start: int) -> pd.DataFrame:
    """Arrow rows (gathered from several blocks) as one string DataFrame numbered
    from ``start``."""
    end = start + rows.num_rows
    if end > config.max_rows:
        raise IngestError(
            "FILE_TOO_MANY_ROWS", facts.name, f"more than ingest.max_rows={config.max_rows:,}"
        )
    frame = rows.combine_chunks().to_pandas()
    frame.index = pd.RangeIndex(start, end)
    return frame


def _raise_ragged(facts: FileFacts, row, expected: int) -> None:
    text = row.text or ""
    line = _find_line(facts.path, text.split("\n", 1)[0])
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


def _find_line(path: Path, first_line_text: str) -> int | None:
    # Error path only: the reader does not number rows, so find the offending line.
    needle = first_line_text.encode("utf-8", "replace").rstrip(b"\r")
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number > 1 and line.rstrip(b"\r\n") == needle:
                return number
    return None


def _parquet_chunks(facts: FileFacts, config: IngestConfig) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    start = 0
    for batch in pq.ParquetFile(facts.path).iter_batches(batch_size=config.chunk_rows):
        frame = as_strings(batch.to_pandas())
        frame.index = pd.RangeIndex(start, start + len(frame))
        start += len(frame)
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
