"""A second empty database to restore into, of the same kind as the test's own."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI


def require_pg_client() -> None:
    """Skip (fail under CI) where pg_dump or pg_restore is not installed."""
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            reason = f"{tool} is not installed (postgresql-client)"
            if IN_CI:
                pytest.fail(f"{reason}: CI must run the PostgreSQL backup tests")
            pytest.skip(reason)


@contextmanager
def second_database(db_url: str, tmp_path: Path, request) -> Iterator[str]:
    """The URL of a new, empty database beside ``db_url`` (a SQLite file not yet made,
    or a PostgreSQL database dropped afterwards)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'accountops.db'}"
        return
    require_pg_client()
    admin = request.getfixturevalue("pg_admin")
    name = f"accountops_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
