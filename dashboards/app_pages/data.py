"""Shared access for pages: settings, one engine per database URL, cached reads keyed on it."""

from __future__ import annotations

import streamlit as st

from models.access import Identity
from models.auth import current_identity as _current_identity
from models.db import make_engine
from models.health import DatabaseStatus, database_status
from models.settings import Settings


def settings() -> Settings:
    """The platform settings (read from the environment at every run: cheap, never stale)."""
    return Settings()


def settings_problem() -> str | None:
    """One line naming the bad ACCOUNTOPS_ variable, or None when the settings are valid."""
    from pydantic import ValidationError

    try:
        Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "ACCOUNTOPS_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        return f"{field}: {err['msg'].removeprefix('Value error, ')}"
    return None


def database_url() -> str:
    return settings().database_url


@st.cache_resource(max_entries=4)
def engine(url: str):
    return make_engine(url)


@st.cache_data(ttl=30, max_entries=4)
def status(url: str) -> DatabaseStatus:
    return database_status(engine(url))


# Re-read on every run (one primary-key lookup), so a deactivation or a role change
# reaches a running session at its next click.
def current_identity(url: str, username: str) -> Identity | None:
    return _current_identity(engine(url), username)


def plan_rules_in_force():
    """The plan checks' thresholds of the rules file in force (what the recompute used)."""
    from models.config import load_config
    from models.plans.rules import plan_rules

    return plan_rules(load_config(settings().config_file))
