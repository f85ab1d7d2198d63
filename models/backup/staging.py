"""Write a backup under a temporary name beside its file and rename it at the end, so
a failed or interrupted backup never leaves half a file under the name asked for."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputNotWritable, refuse_missing_folder
from .checks import BackupRefused


@contextmanager
def staged_file(out: Path, *, force: bool) -> Iterator[Path]:
    """A fresh temporary path beside ``out``; renamed to ``out`` when the block ends
    normally, removed when it raises.

    The file is readable by its owner only (a backup holds password hashes). It is
    flushed to disk before the rename, and the rename is flushed too, so a crash just
    after a backup reported success keeps the file.
    """
    refuse_existing(out, force=force)
    refuse_missing_folder(out)
    try:
        handle, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    except OSError as exc:
        raise OutputNotWritable(f"cannot write to {out.parent}: {exc.strerror or exc}") from None
    os.close(handle)
    staged = Path(name)
    try:
        yield staged
        _flush(staged)
        os.replace(staged, out)
        _flush(out.parent)
    finally:
        staged.unlink(missing_ok=True)


def _flush(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def refuse_existing(out: Path, *, force: bool) -> None:
    """Refuse to write over a folder, or over a file unless ``force``."""
    if out.is_dir():
        raise BackupRefused(f"{out} is a folder: give a file name", code="BACKUP_EXISTS")
    if out.exists() and not force:
        raise BackupRefused(
            f"{out} already exists: choose another name, or pass --force to replace it",
            code="BACKUP_EXISTS",
        )
