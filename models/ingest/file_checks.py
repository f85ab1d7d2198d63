"""Checks on a raw file before any row is read: size, kind (CSV or Parquet, not a
spreadsheet), encoding, header (duplicate, missing, unknown columns, another
delimiter), row count.

The file is hashed and its encoding checked in one streaming pass of bounded
memory; every problem raises :class:`IngestError` with a stable code.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IngestError
from .settings import IngestConfig

BLOCK = 1 << 20
OTHER_DELIMITERS = (";", "\t", "|", ",")
# Magic numbers of files that are not text: zip (xlsx, docx), xls (OLE2), gzip, PDF.
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"%PDF")
PARQUET_MAGIC = b"PAR1"


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
