"""D1 for the overview page: it renders with and without a schema, no exceptions."""

from __future__ import annotations

from tests.dashboards.conftest import app_test


def test_overview_on_empty_database(signed_in_app):
    at = signed_in_app("viewer").run()
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["0", "0"]
    assert any("No data loaded yet" in i.value for i in at.info)


def test_overview_before_init_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "dev")  # no users table to sign in against
    at = app_test().run()
    assert not at.exception
    assert any("accountops init" in w.value for w in at.warning)
