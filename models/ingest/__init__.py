"""Ingest: read, type, validate (through an injected suite runner) and load batches.

The pure parts (file_checks, reader, mapping, normalise) never touch the
database; the service is the only place that opens ingest transactions (the
load's, in run.py, and the read-only one beside it that checks chunks against
the book as committed, in committed.py). Great Expectations lives in
expectations/ and is passed in as a validator.

The names below are imported when first used: a command that only checks its paths
(``paths.py``, ``errors.py``) refuses a typo without loading pandas and SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import CODES, IngestError
    from .mapping import Mapping, load_mapping
    from .paths import expand_paths
    from .query_source import QuerySource
    from .service import BatchResult, ingest_file, ingest_query
    from .settings import IngestConfig, ingest_config
    from .sweep import sweep_stale_batches

# name -> the module of this package that defines it
_HOMES = {
    "CODES": "errors",
    "IngestError": "errors",
    "Mapping": "mapping",
    "load_mapping": "mapping",
    "expand_paths": "paths",
    "QuerySource": "query_source",
    "BatchResult": "service",
    "ingest_file": "service",
    "ingest_query": "service",
    "IngestConfig": "settings",
    "ingest_config": "settings",
    "sweep_stale_batches": "sweep",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # once
    return value
