"""The paths an ingest is given, as the files it loads.

One home for the check both the command line and the ``ingest`` flow (a deployment's
``paths`` parameter) make before anything runs: a path that does not exist is a typo,
refused in one line naming it, and no batch is recorded for it. The command line also
refuses, before Prefect starts, a file no entity or mapping matches
(:func:`files_to_ingest`).
"""

from __future__ import annotations

from pathlib import Path

from models.canonical import LOAD_ORDER, entity_for_file

from .errors import IngestError
from .result import NOT_LOADED, REFUSED

INPUT_SUFFIXES = {".csv", ".parquet"}


def expand_paths(paths: list[str] | list[Path]) -> list[Path]:
    """Files as given; folders -> their CSV and Parquet files, canonical entities in load
    order (then the rest by name). Raises ``FILE_NOT_FOUND`` naming the first path that
    does not exist, before any is read."""
    for path in map(Path, paths):
        if not path.exists():
            raise IngestError("FILE_NOT_FOUND", str(path), "the path does not exist")
    order = {entity: i for i, entity in enumerate(LOAD_ORDER)}

    def load_order(f: Path) -> tuple[int, str]:
        """An entity's files (``invoice_lines.csv``, ``invoice_lines.2026-11.csv``) after
        the entities they refer to, then by name; unknown names last."""
        spec = entity_for_file(f.name)
        return (order.get(spec.entity, 99) if spec else 99, f.name)

    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            try:
                files = [f for f in path.iterdir() if f.suffix.lower() in INPUT_SUFFIXES]
            except OSError as exc:
                raise IngestError(
                    "FILE_NOT_FOUND", str(path), f"the folder cannot be read ({exc.strerror})"
                ) from None
            out += sorted(files, key=load_order)
        else:
            out.append(path)
    # Across the paths too: a file given by hand loads after the entities it refers to.
    return sorted(out, key=lambda f: load_order(f)[0])


def unknown_entity(name: str) -> IngestError:
    """``FILE_UNKNOWN_ENTITY`` for a file whose name is no canonical entity."""
    return IngestError(
        "FILE_UNKNOWN_ENTITY",
        name,
        "the file name is not a canonical entity (e.g. invoice_lines.csv): "
        "rename it or pass --mapping",
    )


def files_to_ingest(paths: list[str] | list[Path], *, mapped: bool = False) -> list[Path]:
    """The files an ingest given ``paths`` by hand would load (:func:`expand_paths`),
    refusing at once what it could only record as refused: a path that does not exist,
    a folder that holds no CSV or Parquet file, or (unless ``mapped``: a mapping names
    every file's entity) a file whose name is no canonical entity. The error names the
    path as given. A landing folder is not checked this way: its unknown files are
    refused batches, filed away for someone to see."""
    files = expand_paths(paths)
    for path in map(Path, paths):
        if path.is_dir() and not expand_paths([path]):
            raise IngestError(
                "FILE_NOT_FOUND", str(path), "the folder holds no .csv or .parquet file"
            )
    unknown = [f for f in files if not mapped and entity_for_file(f.name) is None]
    if unknown:
        more = f" (and {len(unknown) - 1} more file(s) like it)" if len(unknown) > 1 else ""
        error = unknown_entity(str(unknown[0]))
        raise IngestError(error.code, error.file, error.problem + more)
    return files


def load_waves(files: list[Path], entity: str | None = None) -> list[list[list[Path]]]:
    """``files`` (in load order, as :func:`expand_paths` gives them) as waves of chains,
    for loading side by side: the chains of a wave may load at once, each chain's files
    one after the other; a wave loads after the waves before it.

    A chain is one entity's files in their order: two files of an entity may hold the
    same rows, and the later must win. An entity's wave comes after the waves of every
    entity it refers to (:func:`~models.ingest.entities.foreign_keys`), so each batch is
    checked against what it refers to, loaded, as in one file after the other. Files of
    no known entity (refused by name) are one chain of a last wave. ``entity``, a
    mapping's, is every file's entity.
    """
    from .entities import foreign_keys, targets

    owner = {t.table.name: e for e in LOAD_ORDER for t in targets(e)}
    level: dict[str, int] = {}
    for name in LOAD_ORDER:  # referenced entities first: their levels are known
        refs = {owner[table] for table, _ in foreign_keys(name).values()} - {name}
        level[name] = 1 + max((level[r] for r in refs), default=-1)
    last = max(level.values()) + 1
    chains: dict[tuple[int, str], list[Path]] = {}
    for f in files:
        spec = entity_for_file(f.name)
        of = entity or (spec.entity if spec else None)
        key = (level[of], of) if of is not None and of in level else (last, "")
        chains.setdefault(key, []).append(f)
    waves: dict[int, list[list[Path]]] = {}
    for (wave, _), chain in sorted(chains.items()):
        waves.setdefault(wave, []).append(chain)
    return [waves[w] for w in sorted(waves)]


def file_away(landing: Path, batches: list[tuple[Path, str, int | None]]) -> list[str]:
    """Move each file the landing folder delivered out of it once its batch is decided:
    ``(path, outcome, batch id)`` -> ``loaded/batch-N/`` or ``refused/batch-N/``, so the
    next scheduled run reads only what is new and a refused file waits, apart, to be
    fixed. A batch that failed on the way (or is still running elsewhere) stays, to be
    tried again. Returns one line per file that could not be moved (it stays too: the
    next run finds it loaded and moves it then)."""
    problems = []
    for path, outcome, batch_id in batches:
        if batch_id is None or path.parent.resolve() != landing.resolve():
            continue
        if outcome in NOT_LOADED - REFUSED or outcome == "IN_PROGRESS":
            continue
        target = landing / ("refused" if outcome in REFUSED else "loaded") / f"batch-{batch_id}"
        try:
            target.mkdir(parents=True, exist_ok=True)
            path.replace(target / path.name)
        except OSError as exc:
            problems.append(f"could not move {path} to {target}: {exc.strerror}")
    return problems
