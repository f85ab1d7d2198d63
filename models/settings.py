"""One settings object for the whole platform, read from the environment.

Only the entry points (CLI, flows, dashboard) build a :class:`Settings`; the
domain code receives it (or the values it needs) as arguments and never reads
the environment itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "accountops"


def user_data_dir() -> Path:
    """The per-user data folder, the same from whatever folder a command starts in:
    ``$XDG_DATA_HOME/accountops`` (else ``~/.local/share/accountops``) on Linux,
    ``~/Library/Application Support/accountops`` on macOS, ``%LOCALAPPDATA%\\accountops``
    on Windows."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_NAME


class Settings(BaseSettings):
    """Platform settings; every field can be set as ``ACCOUNTOPS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ACCOUNTOPS_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty: the embedded SQLite file <data_dir>/accountops.db.",
    )
    data_dir: Path = Field(
        default_factory=user_data_dir,
        description=(
            "Where embedded files live (the SQLite database, the landing folder, Data Docs, "
            "the demo data): default the per-user data folder (user_data_dir); a relative "
            "path is taken from the folder the command starts in, once."
        ),
    )
    inbox: Path | None = Field(
        default=None,
        description=(
            "The landing folder the scheduled ingest and nightly pipeline read "
            "(default: <data_dir>/inbox)."
        ),
    )
    auth_mode: Literal["dev", "password", "oidc"] = "password"
    config_file: Path | None = Field(
        default=None,
        description="Rules file overriding models/defaults.yaml (thresholds, weights).",
    )

    run_lock_wait_seconds: float = Field(
        default=900.0,
        ge=0,
        description=(
            "How long a pipeline, ingest or recompute waits for another run on the same "
            "database to finish before it stops (one run writes at a time)."
        ),
    )
    run_lock_lease_seconds: float = Field(
        default=600.0,
        ge=120,
        description=(
            "SQLite: how long the run lock of a run on another host (a container "
            "replaced, its database file kept) holds without being renewed; a running "
            "run renews it every third of this, and a write transaction holds renewals "
            "back while it runs, so keep it well above the longest one."
        ),
    )

    # Sign-in throttling and lockout (models/signin.py; docs/OPERATIONS.md, "Sign-in").
    signin_delay_after: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed sign-ins (per user name, and per client address) after which each next "
            "attempt must wait: 1 s, then twice as long after each further failure."
        ),
    )
    signin_lock_after: int = Field(
        default=10,
        ge=1,
        description="Failed sign-ins of one user name after which the account is locked.",
    )
    signin_lock_minutes: float = Field(
        default=15.0, gt=0, description="How long a locked account stays locked."
    )
    signin_window_minutes: float = Field(
        default=60.0,
        gt=0,
        description="Failed sign-ins older than this no longer count.",
    )
    signin_max_delay_seconds: float = Field(
        default=300.0, gt=0, description="The longest wait between two attempts."
    )
    signin_per_client: bool = Field(
        default=True,
        description=(
            "Also count failed sign-ins per client address. Turn off where every client "
            "reaches the dashboard with one address (a reverse proxy on another machine): "
            "one person's failures would then slow everyone down."
        ),
    )

    # Dashboard sessions (models/sessions.py; docs/OPERATIONS.md, "Sign-in").
    session_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description=(
            "The key that signs dashboard session cookies (at least 32 characters). "
            "Required in production, the same for every dashboard replica; elsewhere a "
            "random key is kept in <data_dir>/session-secret. Changing it signs everybody out."
        ),
    )
    session_idle_minutes: float = Field(
        default=30.0,
        gt=0,
        description="A signed-in session with no activity for this long ends.",
    )
    session_lifetime_hours: float = Field(
        default=12.0,
        gt=0,
        description="A session ends this long after sign-in, active or not.",
    )
    session_cookie_secure: bool = Field(
        default=False,
        description=(
            "Send the session cookie over HTTPS only. Set it when a TLS proxy serves the "
            "dashboard (a request that arrives over HTTPS gets it anyway)."
        ),
    )

    # Scale-out (flows/scaleout.py; docs/SCALING.md). Unset: one process.
    dask_address: str | None = Field(
        default=None,
        description=(
            "Address of a Dask scheduler (tcp://host:8786) whose workers run the ingest's "
            "batches and the recompute's customer ranges; PostgreSQL only."
        ),
    )
    dask_workers: int | None = Field(
        default=None,
        ge=1,
        description="Without dask_address: a local Dask cluster of this many workers.",
    )

    notify_block: str | None = Field(
        default=None,
        description=(
            "Prefect block that receives run notifications (failed runs, quarantined rows), "
            "as '<block type slug>/<block name>', e.g. 'custom-webhook/accountops-alerts'; "
            "unset: none are sent."
        ),
    )

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> Settings:
        # Absolute from here on: a child process or a later chdir sees the same folder.
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'accountops.db'}"
        if self.env == "prod" and self.auth_mode == "dev":
            raise ValueError("auth_mode 'dev' (no sign-in) is not allowed when env is 'prod'")
        return self

    @property
    def landing_folder(self) -> Path:
        """The inbox the scheduled runs ingest: ``inbox``, else ``<data_dir>/inbox``."""
        return self.inbox if self.inbox is not None else self.data_dir / "inbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
