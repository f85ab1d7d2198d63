"""Settings (A5) and the user store's password handling."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import make_engine, transaction
from models.migrate import upgrade
from models.schema import AppUser, AuditEvent, Role
from models.settings import Settings
from models.users import UserError, add_user, normalise_username, verify_password


def test_default_database_is_embedded_sqlite_in_the_user_data_folder(monkeypatch, tmp_path):
    """Not under the folder the command happens to start in: the same file from anywhere."""
    for name in ("ACCOUNTOPS_DATABASE_URL", "ACCOUNTOPS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    first = Settings()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert Settings().database_url == first.database_url
    assert first.database_url == f"sqlite:///{tmp_path / 'xdg' / 'accountops' / 'accountops.db'}"
    assert first.data_dir == tmp_path / "xdg" / "accountops"


def test_a_relative_data_dir_is_made_absolute_once(monkeypatch, tmp_path):
    monkeypatch.delenv("ACCOUNTOPS_DATABASE_URL", raising=False)
    monkeypatch.setenv("ACCOUNTOPS_DATA_DIR", "here")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == tmp_path / "here"
    assert settings.database_url == f"sqlite:///{tmp_path / 'here' / 'accountops.db'}"


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().database_url == "postgresql+psycopg://u@h/db"


def test_a5_prod_refuses_dev_auth_mode():
    with pytest.raises(ValidationError, match="not allowed"):
        Settings(env="prod", auth_mode="dev")


def test_usernames_are_normalised():
    assert normalise_username("  Alice@Example.COM ") == "alice@example.com"


def test_passwords_are_hashed_and_verified(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'u.db'}")
    upgrade(engine)
    with transaction(engine) as session:
        add_user(session, "Ana", Role.APPROVER, "s3cret-pass", actor="test")
    with Session(engine) as session:
        user = session.scalar(select(AppUser))
        assert user.username == "ana"
        assert "s3cret-pass" not in user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password("s3cret-pass", user.password_hash)
        assert not verify_password("wrong", user.password_hash)
        assert session.scalar(select(AuditEvent.action)) == "user.add"


def test_short_password_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'u.db'}")
    upgrade(engine)
    with pytest.raises(UserError, match="shorter than 8"), transaction(engine) as session:
        add_user(session, "ana", Role.VIEWER, "short", actor="test")
