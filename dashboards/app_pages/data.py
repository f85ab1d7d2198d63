"""Shared access for pages: one engine per database URL, cached reads keyed on it."""

from __future__ import annotations

import streamlit as st

from models.db import make_engine
from models.health import DatabaseStatus, database_status
from models.settings import Settings


def database_url() -> str:
    return Settings().database_url


@st.cache_resource(max_entries=4)
def engine(url: str):
    return make_engine(url)


@st.cache_data(ttl=30, max_entries=4)
def status(url: str) -> DatabaseStatus:
    return database_status(engine(url))
