"""A database filled the way production fills it, for the page tests and the e2e app.

Sample CSVs from the generator -> the ingest service (real GX validation, one batch per
file, one payments row broken on purpose so it is quarantined) -> two recomputes (a
historical as-of, then the latest) -> the dashboard refresh of both snapshots.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from models.canonical import LOAD_ORDER
from models.config import load_config
from models.dashboard import refresh_dashboard
from models.db import make_engine
from models.ingest import ingest_config, ingest_file
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.value.recompute import recompute

AS_OF = date(2026, 10, 1)
END = date(2026, 9, 30)
FIRST_AS_OF = date(2026, 3, 31)
BAD_PAYMENT = "PAY-BROKEN,INV-0000001,C-000006,2026-01-05,not-a-number,EUR\n"


def load_sample(engine, folder: Path) -> list:
    """Ingest every canonical file of ``folder`` through the service; the batch results."""
    from expectations.runner import SuiteRunner

    config = ingest_config(load_config())
    runner = SuiteRunner(config, AS_OF)
    results = []
    for name in LOAD_ORDER:
        path = folder / f"{name}.csv"
        if path.exists():
            results.append(ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF))
    return results


def build_sample_database(
    db_file: Path,
    folder: Path,
    customers: int = 80,
    seed: int = 7,
    before_recompute: Callable[[Engine, Path], None] | None = None,
):
    """Fill ``db_file`` (SQLite) and return (engine, [snapshot ids], batch results).

    ``before_recompute(engine, folder)`` runs after the ingest (e.g. to set up users and
    import the sample plans, as ``accountops demo`` does), so the snapshots review them.
    """
    generate_sample(folder, customers=customers, years=2, seed=seed, end_date=END)
    with (folder / "payments.csv").open("a", encoding="utf-8") as fh:
        fh.write(BAD_PAYMENT)
    engine = make_engine(f"sqlite:///{db_file}")
    upgrade(engine)
    batches = load_sample(engine, folder)
    if before_recompute is not None:
        before_recompute(engine, folder)
    config = load_config()
    first = recompute(engine, config, as_of=FIRST_AS_OF)
    refresh_dashboard(engine, first.snapshot_id, config)
    second = recompute(engine, config)
    refresh_dashboard(engine, second.snapshot_id, config)
    return engine, [first.snapshot_id, second.snapshot_id], batches


@contextmanager
def private_copy(db_file: Path, folder: Path, monkeypatch) -> Iterator[Engine]:
    """A copy of ``db_file`` in ``folder`` that the app reads (password sign-in): its own
    URL, so no cached read of another test is reused."""
    db = folder / "app.db"
    shutil.copy(db_file, db)
    url = f"sqlite:///{db}"
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", url)
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "password")
    monkeypatch.setenv("ACCOUNTOPS_ENV", "test")
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def busiest_manager(session) -> str:
    """The manager of the most customers: the demo's first manager holds none of a small
    sample, so tests of an account manager's book give them this one's."""
    from sqlalchemy import func, select

    from models.schema import Customer

    return session.execute(
        select(Customer.manager_id)
        .where(Customer.manager_id.is_not(None))
        .group_by(Customer.manager_id)
        .order_by(func.count().desc(), Customer.manager_id)
        .limit(1)
    ).scalar_one()


def open_page(page_file: str, role: str = "viewer"):
    """The app signed in as the demo user of ``role``, on ``page_file``; no exception."""
    from models.access import Identity
    from models.schema import Role
    from tests.dashboards.conftest import app_test

    at = app_test()
    at.session_state["identity"] = Identity(role, Role(role))
    at.switch_page(page_file).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame(at, column: str, without: str = "") -> pd.DataFrame:
    """The table on the page that has ``column`` (and not ``without``)."""
    found = [d.value for d in at.dataframe if column in d.value.columns and without not in d.value]
    assert len(found) == 1, column
    return found[0]


# A raw value on screen: pandas' and Python's words for "missing" (the English "None of"
# in a sentence is not one).
RAW_VALUE = re.compile(r"\b(?:nan|NaN|NaT|<NA>)\b|\bNone\b(?! of\b)")
