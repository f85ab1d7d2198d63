"""Shared access for pages: settings, one engine per database URL, cached reads keyed on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from models.access import Identity
from models.auth import current_identity as _current_identity
from models.config import load_config
from models.db import make_engine
from models.db_status import DatabaseStatus, database_status
from models.plans.rules import PlanRules, plan_rules
from models.roadmap.rules import RoadmapRules, roadmap_rules
from models.settings import Settings
from models.value.rules import ValueRules, value_rules


def settings() -> Settings:
    """The platform settings (read from the environment at every run: cheap, never stale)."""
    return Settings()


def settings_problem() -> str | None:
    """One line naming the bad ACCOUNTOPS_ variable, or None when the settings are valid
    (and, for password sign-in, the session key can be had)."""
    from pydantic import ValidationError

    from models.errors import ConfigError
    from models.sessions import session_secret

    try:
        cfg = Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "ACCOUNTOPS_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        return f"{field}: {err['msg'].removeprefix('Value error, ')}"
    if cfg.auth_mode == "password":
        try:
            session_secret(cfg)
        except ConfigError as exc:  # unset in prod
            return str(exc.args[0])
        except OSError as exc:  # the data folder cannot hold the key
            return f"session secret: {exc}"
    return None


def database_url() -> str:
    return settings().database_url


@st.cache_resource(max_entries=4)
def engine(url: str):
    return make_engine(url, create_file=False)  # never an empty file


@st.cache_data(ttl=30, max_entries=4)
def status(url: str) -> DatabaseStatus:
    return database_status(engine(url))


# Re-read on every run (one primary-key lookup), so a deactivation or a role change
# reaches a running session at its next click.
def current_identity(url: str, username: str) -> Identity | None:
    return _current_identity(engine(url), username)


@st.cache_resource(max_entries=4)
def _config_of(config_file: str | None) -> dict[str, Any]:
    return load_config(Path(config_file) if config_file else None)


def config() -> dict[str, Any]:
    """The rules file in force (the defaults plus ACCOUNTOPS_CONFIG_FILE), read once per
    file by the app and passed to the read models, which never read the environment."""
    file = settings().config_file
    return _config_of(str(file) if file else None)


def value_rules_in_force() -> ValueRules:
    """The value engine's rules of the rules file in force (what the recompute used)."""
    return value_rules(config())


def plan_rules_in_force() -> PlanRules:
    """The plan checks' thresholds of the rules file in force (what the recompute used)."""
    return plan_rules(config())


def roadmap_rules_in_force() -> RoadmapRules:
    """The roadmap matching's rules of the rules file in force."""
    return roadmap_rules(config())
