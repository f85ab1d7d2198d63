"""What every ``accountops`` command shares: the settings, the engine, stderr output and
the parsing of dates given on the command line.

Nothing here imports a heavy library at start-up; pydantic and SQLAlchemy are imported
when a command first asks for the settings or the engine.
"""

from __future__ import annotations

from datetime import date

import typer

from models.errors import ConfigError


def settings():
    """The platform settings, or a one-line error naming the bad variable."""
    from pydantic import ValidationError

    from models.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "ACCOUNTOPS_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(f"{field}: {err['msg'].removeprefix('Value error, ')}") from None


def engine(*, migrated: bool = True, writes: bool = False, creates: bool = False):
    """An engine on the configured database, reachable, (unless told) at the latest schema,
    and (if ``writes``) writable: each a one-line error, before any work starts.

    Only a command that ``creates`` (``init``, ``restore``) may open a SQLite file that is
    not there yet; any other stops first, naming the file, and leaves no empty one behind."""
    from models.db import check_connection, make_engine, require_existing, require_writable
    from models.migrate import require_current_schema

    url = settings().database_url
    if not creates:
        require_existing(url)
    eng = make_engine(url)
    check_connection(eng)
    if migrated:
        require_current_schema(eng)
    if writes:
        require_writable(eng)
    return eng


def rules(config_file) -> None:
    """The rules file (``ACCOUNTOPS_CONFIG_FILE``) read whole, or a one-line
    ``[CONFIG_INVALID]`` error, before a run starts Prefect."""
    from pathlib import Path

    from models.rules_file import check_rules_file

    check_rules_file(Path(config_file) if config_file else None)


def echo(message: str) -> None:
    typer.echo(message, err=True)


def parse_date(value: str, option: str) -> date:
    """``value`` as a date, or a usage error naming ``option``."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None
