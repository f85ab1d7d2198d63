"""Scale-out (flows/scaleout.py): the pipeline with its ingest waves and recompute customer
ranges on a local Dask cluster of 2 workers gives every figure the single-process run
gives, on PostgreSQL; on SQLite it is refused in one line before anything runs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from flows.pipeline import pipeline
from flows.recompute import recompute_flow
from flows.scaleout import ScaleOutRefused, scale_out
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import IngestBatch, InvoiceLine, Snapshot
from tests.conftest import PG_ADMIN_URL
from tests.figures import differences, figures

TWO_WORKERS = {"dask_workers": 2}


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """The sample book, and a later file of invoice lines amending the first's: it must
    load after it, as it does in one process, or the amounts would differ."""
    folder = tmp_path_factory.mktemp("scaleout-sample")
    generate_sample(folder, customers=40, years=2, seed=7, end_date=date(2026, 9, 30))
    with (folder / "invoice_lines.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    amended = [{**r, "amount": f"{float(r['amount']) + 1:.2f}"} for r in rows[:25]]
    with (folder / "invoice_lines.z-amended.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(amended)
    return folder


@pytest.fixture
def new_pg_url(pg_admin) -> Iterator[Callable[[], str]]:
    """Fresh PostgreSQL databases, migrated, as many as the test asks for; dropped after."""
    names: list[str] = []

    def new() -> str:
        name = f"accountops_t_{uuid.uuid4().hex[:12]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        return url

    yield new
    with pg_admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.slow
@pytest.mark.postgres
def test_two_dask_workers_give_every_figure_of_one_process(book, new_pg_url):
    one, two = new_pg_url(), new_pg_url()
    single = pipeline(paths=[str(book)], database_url=one, return_state=True)
    assert single.is_completed(), single.message
    scaled = pipeline(paths=[str(book)], database_url=two, **TWO_WORKERS, return_state=True)
    assert scaled.is_completed(), scaled.message

    a, b = make_engine(one), make_engine(two)
    try:
        steps = [(s["step"], s["outcome"]) for s in scaled.result()["steps"]]
        assert steps == [("ingest", "ok"), ("recompute", "ok"), ("refresh", "ok")]
        loaded = [(r["file"], r["outcome"], r["rows_loaded"]) for r in scaled.result()["batches"]]
        assert loaded == [
            (r["file"], r["outcome"], r["rows_loaded"]) for r in single.result()["batches"]
        ]
        held = figures(b)
        assert len(held["customer_tier"]) == 40 and len(held["dashboard_customer"]) == 40
        assert held["invoice_line"] and held["customer_clv"] and held["funnel_deal"]
        # The amending file loaded after the file it amends: its amounts stand.
        with (book / "invoice_lines.z-amended.csv").open(newline="") as fh:
            later = {(r["invoice_id"], int(r["line_no"])): r["amount"] for r in csv.DictReader(fh)}
        with b.connect() as conn:
            line = InvoiceLine.__table__
            stored = {
                (r.invoice_id, r.line_no): f"{r.amount:.2f}"
                for r in conn.execute(select(line.c.invoice_id, line.c.line_no, line.c.amount))
            }
        assert later and all(stored[k] == v for k, v in later.items())
        assert differences(a, b) == []
        # A second snapshot in each, nothing new: one process (whose window tables now
        # hold the window) and a cluster given by its address, in 8 ranges of customers.
        from distributed import LocalCluster

        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            dashboard_address=None,
        ) as cluster:
            address = cluster.scheduler_address
            assert address.startswith("tcp://")
            again = recompute_flow(database_url=two, dask_address=address, return_state=True)
        assert again.is_completed(), again.message
        assert recompute_flow(database_url=one, return_state=True).is_completed()
        with b.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Snapshot)) == 2
        assert differences(a, b) == []
    finally:
        a.dispose()
        b.dispose()


def test_on_sqlite_scale_out_is_refused_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(ScaleOutRefused) as refused:
        scale_out(url, workers=2)
    line = str(refused.value)
    assert line.startswith("[SCALE_OUT_REFUSED] scale-out needs a database every worker")
    assert "\n" not in line and "PostgreSQL" in line
    assert scale_out(url) is None  # nothing asked for: one process, as always


def test_on_sqlite_the_flows_refuse_before_anything_runs(tmp_path, book):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = make_engine(url)
    upgrade(engine)
    state = pipeline(paths=[str(book)], database_url=url, **TWO_WORKERS, return_state=True)
    assert state.is_failed()
    assert state.result(raise_on_failure=False)["error_code"] == "SCALE_OUT_REFUSED"
    state = recompute_flow(database_url=url, dask_address="tcp://127.0.0.1:8786", return_state=True)
    assert state.is_failed() and "SCALE_OUT_REFUSED" in state.message
    with engine.connect() as conn:  # nothing was loaded or computed
        assert conn.scalar(select(func.count()).select_from(IngestBatch)) == 0
        assert conn.scalar(select(func.count()).select_from(Snapshot)) == 0
    engine.dispose()


def test_the_command_refuses_scale_out_on_sqlite_in_one_line(tmp_path, book):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    env["ACCOUNTOPS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'a.db'}"
    env["ACCOUNTOPS_DASK_WORKERS"] = "2"  # the setting, as a deployment's environment sets it
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "pipeline", str(book)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and lines[0].startswith("accountops: [SCALE_OUT_REFUSED]"), lines
