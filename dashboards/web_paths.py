"""The addresses the dashboard's server adds to Streamlit's (``dashboards/server.py``), and
the rule for where a redirect may go. Shared by the server and the pages; importing it
starts nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

HANDOFF = "_accountops/session"
SIGNOUT = "_accountops/signout"


def base_path() -> str:
    """The dashboard's root path ("/", or "/<server.baseUrlPath>/")."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def safe_next(value: str | None) -> str:
    """``value`` if it is a path of this dashboard, else its root: a redirect never leaves
    the site (no scheme, no ``//host``, no backslash tricks)."""
    base = base_path()
    if not value or not value.startswith(base) or value.startswith("//") or "\\" in value:
        return base
    return value


def address(path: str, **query: str) -> str:
    """The dashboard's address ``path`` (one of the constants above) with ``query``."""
    return f"{base_path()}{path}?{urlencode(query)}"
