"""A SQL query on another database as one batch: run once, spooled to Parquet.

The result is hashed while it is written to a temporary Parquet file, which the
load then reads in chunks: one query, the rows loaded are the rows hashed, and
memory stays bounded.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.errors import AccountopsError

from .errors import IngestError
from .reader import FIRST_LINE, as_strings


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
        try:
            spool = tempfile.TemporaryDirectory(prefix="accountops-query-", dir=folder)
        except OSError as exc:
            raise self._not_spooled(exc, folder) from None
        with spool as tmp:
            path = Path(tmp) / "result.parquet"
            try:
                try:
                    for frame in self.frames(chunk_rows):
                        if writer is None:
                            columns = list(frame.columns)
                            digest.update(",".join(columns).encode())
                            schema = pa.schema([(c, pa.string()) for c in columns])
                            writer = pq.ParquetWriter(path, schema)
                        digest.update(frame.to_csv(header=False, index=False).encode())
                        rows += len(frame)
                        writer.write_table(
                            pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
                        )
                except BaseException:
                    if writer is not None:  # the error on its way out is the one to tell
                        with contextlib.suppress(OSError):
                            writer.close()
                    raise
                if writer is not None:
                    writer.close()
            except OSError as exc:  # a full disk, a temporary folder we may not write
                raise self._not_spooled(exc, folder) from None
            yield Spool(digest.hexdigest(), rows, columns or [], path if rows else None)

    def _not_spooled(self, exc: OSError, folder: Path | None) -> AccountopsError:
        where = folder or tempfile.gettempdir()
        return AccountopsError(
            f"cannot write the result of {self.name} to a temporary file in {where}: "
            f"{exc.strerror or exc}; free space there or point TMPDIR at another folder",
            code="QUERY_NOT_SPOOLED",
        )


@dataclass
class Spool:
    """A query result on disk: its hash, row count, columns and Parquet file."""

    sha256: str
    rows: int
    columns: list[str]
    path: Path | None

    def chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The spooled rows as string DataFrames, indexed as the lines of a CSV of the
        result with a header line (row n is line n + 1; see reader.py)."""
        import pyarrow.parquet as pq

        if self.path is None:
            return
        line = FIRST_LINE
        for record_batch in pq.ParquetFile(self.path).iter_batches(batch_size=chunk_rows):
            frame = record_batch.to_pandas()
            frame.index = pd.RangeIndex(line, line + len(frame))
            line += len(frame)
            yield frame
