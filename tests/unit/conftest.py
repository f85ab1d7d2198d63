"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest

from models.db import make_engine
from models.migrate import upgrade
from tests.plan_builders import seed_accounts


@pytest.fixture
def cli_book(tmp_path):
    """(folder, env, engine): a migrated SQLite database with two accounts and one user
    per role (tests/plan_builders.py), that ``run_cli`` reaches through ``env``."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    eng = make_engine(url)
    upgrade(eng)
    seed_accounts(eng)
    yield tmp_path, {"ACCOUNTOPS_DATABASE_URL": url}, eng
    eng.dispose()
