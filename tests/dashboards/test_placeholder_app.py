"""D1 for the placeholder app: it renders with and without a schema, no exceptions."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from models.db import make_engine
from models.migrate import upgrade

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py")


def test_overview_on_empty_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["0", "0"]
    assert any("No data loaded yet" in i.value for i in at.info)


def test_overview_before_init_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("accountops init" in w.value for w in at.warning)
