"""The paths an ingest is given, as the files it loads.

One home for the check both the command line and the ``ingest`` flow (a deployment's
``paths`` parameter) make before anything runs: a path that does not exist is a typo,
refused in one line naming it, and no batch is recorded for it.
"""

from __future__ import annotations

from pathlib import Path

from models.canonical import ENTITIES, LOAD_ORDER

from .errors import IngestError

INPUT_SUFFIXES = {".csv", ".parquet"}


def expand_paths(paths: list[str] | list[Path]) -> list[Path]:
    """Files as given; folders -> their CSV and Parquet files, canonical entities in load
    order (then the rest by name). Raises ``FILE_NOT_FOUND`` naming the first path that
    does not exist, before any is read."""
    for path in map(Path, paths):
        if not path.exists():
            raise IngestError("FILE_NOT_FOUND", str(path), "the path does not exist")
    order = {ENTITIES[e].file_name.split(".")[0]: i for i, e in enumerate(LOAD_ORDER)}
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            try:
                files = [f for f in path.iterdir() if f.suffix.lower() in INPUT_SUFFIXES]
            except OSError as exc:
                raise IngestError(
                    "FILE_NOT_FOUND", str(path), f"the folder cannot be read ({exc.strerror})"
                ) from None
            out += sorted(files, key=lambda f: (order.get(f.stem, 99), f.name))
        else:
            out.append(path)
    return out
