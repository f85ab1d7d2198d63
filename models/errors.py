"""Errors a user can cause, each with a stable code and a one-line message.

The CLI and the dashboard print ``str(error)`` and exit non-zero; they never
show a traceback for these.
"""

from __future__ import annotations

from pathlib import Path


class AccountopsError(Exception):
    """Base for every error the user can fix: carries a stable ``code``."""

    code = "ACCOUNTOPS_ERROR"
    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0]}"


class ConfigError(AccountopsError):
    """A setting or configuration file is invalid."""

    code = "CONFIG_INVALID"


class DatabaseUnavailable(AccountopsError):
    """The database URL cannot be reached or opened."""

    code = "DB_UNREACHABLE"


class OutputNotWritable(AccountopsError):
    """A folder or file we were asked to write cannot be written."""

    code = "OUTPUT_NOT_WRITABLE"


def refuse_missing_folder(out: Path) -> None:
    """Raise :class:`OutputNotWritable` unless the folder ``out`` goes into exists: an
    ``--out`` never creates folders (a mistyped path would otherwise write somewhere new,
    and nobody would find the file)."""
    folder = out.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputNotWritable(f"cannot write {out}: the folder {folder} {what}; create it first")
