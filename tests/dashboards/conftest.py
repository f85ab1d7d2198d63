"""Dashboard test helpers: a migrated SQLite database and an app signed in as a role.

``signed_in_app(role)`` adds a user of that role to the database and injects its
identity into the session, the same way the sign-in page stores it; pages of later
issues use it for their AppTest smoke tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.access import Identity
from models.db import make_engine, transaction
from models.migrate import upgrade
from models.schema import Role
from models.users import add_user

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py")


def app_test() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A migrated SQLite database the app reads (ACCOUNTOPS_DATABASE_URL), password mode."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", url)
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "password")
    monkeypatch.setenv("ACCOUNTOPS_ENV", "test")
    yield engine
    engine.dispose()


@pytest.fixture
def signed_in_app(app_db) -> Callable[..., AppTest]:
    """``signed_in_app(role, manager_id=None)`` -> an AppTest with that user signed in."""

    def make(role: Role | str, manager_id: str | None = None) -> AppTest:
        role = Role(role)
        name = f"test-{role.value}"
        with transaction(app_db) as session:
            # No password: the identity is injected, never typed (and hashing is slow).
            add_user(session, name, role, None, actor="test")
        at = app_test()
        at.session_state["identity"] = Identity(name, role, manager_id, f"Test {role.value}")
        return at

    return make


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    """Sample CSVs of 40 customers over two years (for both-backend tests)."""
    from datetime import date

    from models.sampledata import generate_sample

    folder = tmp_path_factory.mktemp("small-sample")
    generate_sample(folder, customers=40, years=2, seed=3, end_date=date(2026, 9, 30))
    return folder
