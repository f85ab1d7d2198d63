"""What every PostgreSQL session the platform opens is set up with (models/db.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models.db import make_engine

pytestmark = pytest.mark.postgres


def test_no_session_of_ours_jit_compiles(pg_url):
    # Compiling our one-off statements cost seconds and saved nothing (PERFORMANCE.md).
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
        with engine.begin() as conn:  # a transaction on a pooled connection: still off
            assert conn.execute(text("SHOW jit")).scalar() == "off"
        engine.dispose()  # and on a new connection
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            # The session is left as the pool expects it: no transaction open.
            assert conn.connection.dbapi_connection.info.transaction_status == 0
    finally:
        engine.dispose()
