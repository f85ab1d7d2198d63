"""Reading a batch: checks on the raw file, then chunks of string columns.

Everything here works on bounded memory: the file is hashed and its encoding
checked in one streaming pass, then read in chunks (pyarrow's streaming CSV
reader, Parquet row groups or a SQL cursor) of about ``chunk_rows`` rows.
Every cell comes out as a string ('' for empty); typing is normalise's job.
Line numbers are physical lines (header = line 1) assuming no quoted newlines.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import IngestError
from .settings import IngestConfig

BLOCK = 1 << 20
OTHER_DELIMITERS = (";", "\t", "|", ",")
# Magic numbers of files that are not text: zip (xlsx, docx), xls (OLE2), gzip, PDF.
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"%PDF")
PARQUET_MAGIC = b"PAR1"
# Arrow's streaming CSV reader reads up to 32 blocks ahead on its IO thread (the
# Python bytes it holds are not in Arrow's pool): small blocks bound that to
# 32 MB; they are gathered into chunks of ``ingest.chunk_rows`` rows.
READ_BLOCK = 1 << 20


@dataclass
class FileFacts:
    """What the streaming first pass learnt about a file."""

    path: Path
    name: str
    size: int
    sha256: str
    kind: str  # csv | parquet
    header: list[str] = field(default_factory=list)
    data_lines: int = 0
    bom: bool = False
    warnings: list[str] = field(default_factory=list)


def _first_pass(path: Path, name: str, encoding: str) -> tuple[str, int, bool]:
    """sha256 of the bytes, number of lines, BOM; raises on invalid encoding."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 0
    last = b""
    bom = False
    with path.open("rb") as fh:
        first = True
        while block := fh.read(BLOCK):
            if first:
                bom = block.startswith(codecs.BOM_UTF8)
                first = False
            digest.update(block)
            lines += block.count(b"\n")
            last = block[-1:]
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                _raise_encoding(path, name, encoding)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _raise_encoding(path, name, encoding)
    if last and last != b"\n":
        lines += 1  # a last line without a newline still counts
    return digest.hexdigest(), lines, bom


def _raise_encoding(path: Path, name: str, encoding: str) -> None:
    # Error path only: find the first line that does not decode, for the message.
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    "ENCODING_INVALID",
                    name,
                    f"byte {line[exc.start : exc.start + 1]!r} at position {exc.start + 1} is "
                    f"not valid {encoding}: save the file as UTF-8 or set `encoding:` in a mapping",
                    line=number,
                    raw=line,
                ) from None
    raise IngestError("ENCODING_INVALID", name, f"the file ends inside a {encoding} character")


def inspect_file(
    path: Path,
    *,
    config: IngestConfig,
    expected: list[str],
    required: list[str],
    encoding: str = "utf-8",
    delimiter: str = ",",
    name: str | None = None,
) -> FileFacts:
    """Check a file before reading rows; raise :class:`IngestError` with a stable code."""
    name = name or path.name
    if not path.exists() or not path.is_file():
        raise IngestError("FILE_NOT_FOUND", name, "no such file: check the path")
    size = path.stat().st_size
    if size == 0:
        raise IngestError("FILE_EMPTY", name, "the file is empty (0 bytes)", line=1, raw=b"")
    if size > config.max_file_bytes:
        raise IngestError(
            "FILE_TOO_LARGE",
            name,
            f"{size:,} bytes is above ingest.max_file_bytes={config.max_file_bytes:,}: "
            "split the file or raise the limit",
        )
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(PARQUET_MAGIC) or path.suffix.lower() == ".parquet":
        return _inspect_parquet(path, name, size, config, expected, required)
    if head.startswith(BINARY_MAGIC) or b"\x00" in head:
        raise IngestError(
            "FILE_BINARY",
            name,
            "binary content (a spreadsheet or archive?), not CSV text: export it as CSV",
            line=1,
            raw=head.split(b"\n", 1)[0][:200],
        )
    codec = (
        "utf-8"
        if encoding.lower().replace("_", "-") in {"utf-8", "utf8", "utf-8-sig"}
        else encoding
    )
    sha, lines, bom = _first_pass(path, name, codec)
    with path.open("r", encoding="utf-8-sig" if codec == "utf-8" else codec, newline="") as fh:
        header_line = fh.readline()
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    facts = FileFacts(path, name, size, sha, "csv", header, max(lines - 1, 0), bom)
    check_header(facts, expected, required, config, delimiter=delimiter, header_line=header_line)
    if facts.data_lines == 0:
        raise IngestError(
            "FILE_HEADER_ONLY", name, "the file has a header but no data rows", line=2, raw=b""
        )
    if facts.data_lines > config.max_rows:
        raise IngestError(
            "FILE_TOO_MANY_ROWS",
            name,
            f"{facts.data_lines:,} rows is above ingest.max_rows={config.max_rows:,}",
        )
    return facts


def check_header(
    facts: FileFacts,
    expected: list[str],
    required: list[str],
    config: IngestConfig,
    *,
    delimiter: str = ",",
    header_line: str = "",
) -> None:
    """Duplicate, missing (or mis-delimited) and unknown columns of the header."""
    header, name = facts.header, facts.name
    raw = header_line.encode("utf-8", "replace") if header_line else None
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise IngestError(
                "COLUMN_DUPLICATE",
                name,
                f"column {col!r} appears twice in the header",
                line=1,
                column=col,
                raw=raw,
            )
        seen.add(col)
    missing = [c for c in required if c not in seen]
    if missing:
        for other in OTHER_DELIMITERS:
            if other == delimiter or not header_line:
                continue
            split = {c.strip() for c in next(csv.reader([header_line], delimiter=other), [])}
            if all(c in split for c in required):
                raise IngestError(
                    "WRONG_DELIMITER",
                    name,
                    f"the header is separated by {other!r}, expected {delimiter!r}: "
                    "re-export with commas or set `delimiter:` in a mapping",
                    line=1,
                    raw=raw,
                )
        raise IngestError(
            "COLUMN_MISSING",
            name,
            f"required column(s) {', '.join(missing)} missing from the header",
            line=1,
            column=missing[0],
            raw=raw,
        )
    unknown = [c for c in header if c not in expected]
    if unknown:
        if config.unknown_columns == "reject":
            raise IngestError(
                "COLUMN_UNKNOWN",
                name,
                f"unknown column(s) {', '.join(unknown)} (ingest.unknown_columns=reject)",
                line=1,
                column=unknown[0],
                raw=raw,
            )
        facts.warnings.append(f"{name}: unknown column(s) {', '.join(unknown)} ignored")


def _inspect_parquet(path, name, size, config, expected, required) -> FileFacts:
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    try:
        meta = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise IngestError("FILE_BINARY", name, f"not a readable Parquet file ({exc})") from None
    facts = FileFacts(
        path, name, size, digest.hexdigest(), "parquet", list(meta.schema_arrow.names)
    )
    facts.data_lines = meta.metadata.num_rows
    check_header(facts, expected, required, config)
    if facts.data_lines == 0:
        raise IngestError("FILE_HEADER_ONLY", name, "the Parquet file has no rows")
    if facts.data_lines > config.max_rows:
        raise IngestError(
            "FILE_TOO_MANY_ROWS", name, f"{facts.data_lines:,} rows > ingest.max_rows"
        )
    return facts


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


@dataclass
class QuerySource:
    """A SQL query against another database: one batch = one query result."""

    url: str
    query: str
    entity: str

    @property
    def name(self) -> str:
        """The source as shown in messages: masked URL and the query's start."""
        from models.db import display_url

        return f"{display_url(self.url)} :: {self.query[:80]}"

    def frames(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The result in chunks of strings; raises SOURCE_QUERY_FAILED."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        from models.db import make_engine

        try:
            engine = make_engine(self.url)
            with engine.connect() as conn:
                start = 0
                for frame in pd.read_sql_query(text(self.query), conn, chunksize=chunk_rows):
                    out = as_strings(frame)
                    out.index = pd.RangeIndex(start, start + len(out))
                    start += len(out)
                    yield out
            engine.dispose()
        except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
            cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else exc
            reason = str(getattr(cause, "orig", None) or cause or exc).strip().splitlines()[0]
            raise IngestError("SOURCE_QUERY_FAILED", self.name, reason) from None

    @contextmanager
    def spooled(self, chunk_rows: int, folder: Path | None = None) -> Iterator[Spool]:
        """Run the query once: its result is hashed while it is written to a temporary
        Parquet file, which the load then reads. One query, and the rows loaded are
        the rows hashed even if the source changes meanwhile; memory stays bounded."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        digest, rows, columns, writer = hashlib.sha256(), 0, None, None
        with tempfile.TemporaryDirectory(prefix="accountops-query-", dir=folder) as tmp:
            path = Path(tmp) / "result.parquet"
            try:
                for frame in self.frames(chunk_rows):
                    if columns is None:
                        columns = list(frame.columns)
                        digest.update(",".join(columns).encode())
                        schema = pa.schema([(c, pa.string()) for c in columns])
                        writer = pq.ParquetWriter(path, schema)
                    digest.update(frame.to_csv(header=False, index=False).encode())
                    rows += len(frame)
                    writer.write_table(
                        pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
                    )
            finally:
                if writer is not None:
                    writer.close()
            yield Spool(digest.hexdigest(), rows, columns or [], path if rows else None)


@dataclass
class Spool:
    """A query result on disk: its hash, row count, columns and Parquet file."""

    sha256: str
    rows: int
    columns: list[str]
    path: Path | None

    def chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The spooled rows as string DataFrames, index = 0-based row number."""
        import pyarrow.parquet as pq

        if self.path is None:
            return
        start = 0
        for record_batch in pq.ParquetFile(self.path).iter_batches(batch_size=chunk_rows):
            frame = record_batch.to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
