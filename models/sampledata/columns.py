"""Turn numpy arrays into CSV-ready Arrow columns and stream them to the canonical files.

Money travels as integer cents and dates as days since 1970-01-01 right up to
the writer, so no float is ever formatted: Arrow prints ``decimal128(18, 2)`` as
``-12.50`` and ``date32`` as ``2026-09-30`` the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from models.canonical import ENTITIES, LOAD_ORDER

MONEY = pa.decimal128(18, 2)
_OPTIONS = pacsv.WriteOptions(
    include_header=True, eol="\n", quoting_style="none", quoting_header="none"
)


def _validity(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None:
        return None
    return pa.py_buffer(np.packbits(valid.astype(bool), bitorder="little"))


def money(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A decimal(18, 2) column from integer cents; ``valid`` False marks unknown cells."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    # decimal128 stores the unscaled value as a little-endian 128-bit integer:
    # the low word is the cents, the high word their sign extension.
    words = np.empty(2 * len(cents), dtype=np.int64)
    words[0::2] = cents
    words[1::2] = cents >> 63
    return pa.Array.from_buffers(MONEY, len(cents), [_validity(valid), pa.py_buffer(words)])


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A date column from days since 1970-01-01; ``valid`` False marks unknown cells."""
    days = np.ascontiguousarray(days, dtype=np.int32)
    return pa.Array.from_buffers(pa.date32(), len(days), [_validity(valid), pa.py_buffer(days)])


def integers(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An integer column; ``valid`` False marks unknown cells."""
    mask = None if valid is None else ~valid.astype(bool)
    return pa.array(np.asarray(values, dtype=np.int64), type=pa.int64(), mask=mask)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers like ``INV-0000001``: prefix plus the number zero-padded to ``width``."""
    digits = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width, "0"), "")


def labels(
    vocabulary: tuple[str, ...], codes: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
    """A text column from integer codes into a fixed vocabulary."""
    mask = None if valid is None else ~valid.astype(bool)
    indices = pa.array(np.asarray(codes, dtype=np.int64), pa.int64(), mask=mask)
    return pa.array(list(vocabulary), pa.string()).take(indices)


def constant(value: str, length: int) -> pa.Array:
    """A text column holding the same value on every row (currency codes)."""
    return pa.array([value], pa.string()).take(pa.array(np.zeros(length, dtype=np.int64)))


class CsvFiles(AbstractContextManager["CsvFiles"]):
    """The ten canonical files, open for appending chunk after chunk.

    Each file gets its header from ``ENTITIES`` on open, so even an entity with no
    rows is a valid file. ``write`` checks the columns against the contract.
    """

    def __init__(self, out_dir: Path, progress: Callable[[str, int], None] | None = None):
        out_dir.mkdir(parents=True, exist_ok=True)
        self._progress = progress
        self.rows: dict[str, int] = {}
        self._writers: dict[str, pacsv.CSVWriter] = {}
        self._sinks: list[pa.NativeFile] = []
        try:
            for entity in LOAD_ORDER:
                spec = ENTITIES[entity]
                schema = pa.schema([(name, pa.string()) for name in spec.column_names])
                sink = pa.OSFile(str(out_dir / spec.file_name), "wb")
                self._sinks.append(sink)
                self._writers[entity] = pacsv.CSVWriter(sink, schema, write_options=_OPTIONS)
                self.rows[spec.file_name] = 0
        except BaseException:
            self.close()
            raise

    def write(self, entity: str, columns: Mapping[str, pa.Array]) -> None:
        """Append rows to an entity's file; ``columns`` must name exactly its canonical columns."""
        spec = ENTITIES[entity]
        if list(columns) != spec.column_names:
            raise ValueError(f"{entity}: columns {list(columns)} != {spec.column_names}")
        # The writer's schema is all text, so every column is cast to its printed form
        # here; Arrow's casts of decimals, dates, ints and booleans are exact.
        table = pa.table({name: pc.cast(col, pa.string()) for name, col in columns.items()})
        if table.num_rows:
            self._writers[entity].write_table(table)
            self.rows[spec.file_name] += table.num_rows

    def report(self, *entities: str) -> None:
        """Tell the progress callback how many rows each of these files holds so far."""
        if self._progress is not None:
            for entity in entities:
                name = ENTITIES[entity].file_name
                self._progress(name, self.rows[name])

    def close(self) -> None:
        """Finish every file (idempotent)."""
        for writer in self._writers.values():
            writer.close()
        for sink in self._sinks:
            if not sink.closed:
                sink.close()
        self._writers = {}
        self._sinks = []

    def __exit__(self, *exc_info) -> None:
        self.close()
