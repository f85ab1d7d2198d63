"""`accountops batches` and `accountops quarantine list`: ledger listings, no Prefect import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from models.db import make_engine
from models.migrate import upgrade
from tests.ingest_builders import fixture_batch, read_rows, write_rows

ROOT = Path(__file__).resolve().parents[2]


def test_batches_and_quarantine_list_show_the_ledger(tmp_path):
    from tests.integration.ingest_support import load

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    base = fixture_batch(tmp_path / "in")
    load(engine, base / "product_lines.csv")
    header, rows = read_rows(base / "product_lines.csv")
    rows[0][header.index("name")] = ""
    (tmp_path / "bad").mkdir()
    load(engine, write_rows(tmp_path / "bad" / "product_lines.csv", header, rows))
    code = (
        "import sys; from flows.cli import main; sys.argv=['accountops', *sys.argv[1:]];"
        "\ntry:\n    main()\nfinally:\n    assert 'prefect' not in sys.modules, 'imported prefect'"
    )
    env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": url, "COLUMNS": "200"}
    listing = subprocess.run(
        [sys.executable, "-c", code, "batches"], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert listing.returncode == 0, listing.stderr
    assert "product_lines.csv" in listing.stdout and "committed" in listing.stdout
    assert "ROWS_ABOVE_THRESHOLD" in listing.stdout
    quarantine = subprocess.run(
        [sys.executable, "-c", code, "quarantine", "list", "--batch", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert quarantine.returncode == 0, quarantine.stderr
    assert "REQUIRED_MISSING" in quarantine.stdout and "line 2" in quarantine.stdout
