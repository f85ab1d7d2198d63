"""Flow tests run real Prefect flows against one temporary Prefect server per session.

Unit-test task and flow logic through ``.fn`` (no engine) and keep real flow
runs to a handful: each costs 1-3 s, and the server ~18 s once per session.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(autouse=True, scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Each flow test's own data folder: the ingest writes its Data Docs there, not into
    the developer's ./var (whose batch pages the test's batches would replace)."""
    monkeypatch.setenv("ACCOUNTOPS_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The canonical sample files (tests/ingest_builders.py), made once per test module."""
    from tests.ingest_builders import fixture_batch

    return fixture_batch(tmp_path_factory.mktemp("fixture"))


@pytest.fixture
def url(tmp_path):
    """An empty migrated SQLite database of the test's own."""
    from models.db import make_engine
    from models.migrate import upgrade

    u = f"sqlite:///{tmp_path / 'flow.db'}"
    upgrade(make_engine(u))
    return u
