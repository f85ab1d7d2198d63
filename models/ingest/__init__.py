"""Ingest: read, type, validate (through an injected suite runner) and load batches.

The pure parts (file_checks, reader, mapping, normalise) never touch the
database; the service is the only place that opens ingest transactions (the
load's, in run.py, and the read-only one beside it that checks chunks against
the book as committed, in committed.py). Great Expectations lives in
expectations/ and is passed in as a validator.
"""

from .errors import CODES, IngestError
from .mapping import Mapping, load_mapping
from .paths import expand_paths
from .query_source import QuerySource
from .service import BatchResult, ingest_file, ingest_query
from .settings import IngestConfig, ingest_config
from .sweep import sweep_stale_batches

__all__ = [
    "CODES",
    "BatchResult",
    "IngestConfig",
    "IngestError",
    "Mapping",
    "QuerySource",
    "expand_paths",
    "ingest_config",
    "ingest_file",
    "ingest_query",
    "load_mapping",
    "sweep_stale_batches",
]
