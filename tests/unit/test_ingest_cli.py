"""`accountops batches` and `accountops quarantine list`: ledger listings, no Prefect import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import make_engine
from models.migrate import upgrade
from models.schema import IngestBatch
from tests.ingest_builders import fixture_batch, read_rows, write_rows

ROOT = Path(__file__).resolve().parents[2]
# The CLI in a subprocess that fails if anything imported Prefect: no flow was entered and
# no (ephemeral) Prefect server was started.
NO_PREFECT = (
    "import sys; from flows.cli import main; sys.argv=['accountops', *sys.argv[1:]];"
    "\ntry:\n    main()\nfinally:\n    assert 'prefect' not in sys.modules, 'imported prefect'"
)


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
    env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": url, "COLUMNS": "200"}
    listing = subprocess.run(
        [sys.executable, "-c", NO_PREFECT, "batches"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert listing.returncode == 0, listing.stderr
    assert "product_lines.csv" in listing.stdout and "committed" in listing.stdout
    assert "ROWS_ABOVE_THRESHOLD" in listing.stdout
    quarantine = subprocess.run(
        [sys.executable, "-c", NO_PREFECT, "quarantine", "list", "--batch", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert quarantine.returncode == 0, quarantine.stderr
    assert "REQUIRED_MISSING" in quarantine.stdout and "line 2" in quarantine.stdout


@pytest.mark.parametrize("command", ["ingest", "pipeline"])
def test_a_path_that_does_not_exist_is_one_line_before_prefect_and_no_batch(tmp_path, command):
    """Checked before Prefect starts and before any file is read: the good file given
    beside the typo is not loaded either, and the ledger stays empty."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    good = fixture_batch(tmp_path / "in") / "product_lines.csv"
    missing = tmp_path / "no" / "such" / "folder"
    env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": url, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-c", NO_PREFECT, command, str(good), str(missing)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"accountops: [FILE_NOT_FOUND] {missing}: the path does not exist"
    ], result.stderr
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(IngestBatch)) == 0


def _not_loadable(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A path a user might mistype, and the one line the refusal must print."""
    unknown = (
        "the file name is not a canonical entity (e.g. invoice_lines.csv): "
        "rename it or pass --mapping"
    )
    if kind == "not_a_data_file":  # `accountops ingest /etc/hostname`
        path = tmp_path / "etc" / "hostname"
        path.parent.mkdir()
        path.write_text("build-host-7\n", encoding="utf-8")
        return path, f"[FILE_UNKNOWN_ENTITY] {path}: {unknown}"
    if kind == "csv_of_no_entity":
        path = tmp_path / "invoices-2026.csv"
        path.write_text("invoice_id\nINV-1\n", encoding="utf-8")
        return path, f"[FILE_UNKNOWN_ENTITY] {path}: {unknown}"
    if kind == "folder_of_no_entity":  # every CSV of it would be a refused batch
        path = tmp_path / "exports"
        path.mkdir()
        for name in ("notes.csv", "totals.csv"):
            (path / name).write_text("x\n1\n", encoding="utf-8")
        return path, (
            f"[FILE_UNKNOWN_ENTITY] {path / 'notes.csv'}: {unknown} (and 1 more file(s) like it)"
        )
    if kind == "folder_without_data":
        path = tmp_path / "empty"
        path.mkdir()
        (path / "readme.txt").write_text("nothing to load\n", encoding="utf-8")
        return path, f"[FILE_NOT_FOUND] {path}: the folder holds no .csv or .parquet file"
    raise ValueError(kind)


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("ingest", "not_a_data_file"),
        ("ingest", "csv_of_no_entity"),
        ("ingest", "folder_of_no_entity"),
        ("ingest", "folder_without_data"),
        ("pipeline", "not_a_data_file"),  # one check for both (cli_pipeline._check_paths)
    ],
)
def test_a_file_nothing_matches_is_one_line_before_prefect_and_no_batch(tmp_path, command, kind):
    """What could only be recorded as a refused batch is refused at once instead: no
    Prefect import (so no flow entered, no server started), no batch in the ledger, and
    the good file given beside it is not loaded either."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    good = fixture_batch(tmp_path / "in") / "product_lines.csv"
    path, line = _not_loadable(tmp_path, kind)
    env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": url, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-c", NO_PREFECT, command, str(good), str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [f"accountops: {line}"], result.stderr
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(IngestBatch)) == 0


def test_a_mapping_that_cannot_be_read_is_one_line_before_prefect(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(make_engine(url))
    export = tmp_path / "Online Retail.csv"
    export.write_text("InvoiceNo\n1\n", encoding="utf-8")
    mapping = tmp_path / "no-such-mapping.yaml"
    env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": url, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-c", NO_PREFECT, "ingest", "--mapping", str(mapping), str(export)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"accountops: [MAPPING_INVALID] {mapping}: cannot read: No such file or directory"
    ], result.stderr


def test_a_folder_loads_each_entitys_files_after_the_entities_they_refer_to(tmp_path):
    """Files split by month (``invoice_lines.2026-10.csv``) keep their entity's place."""
    from models.ingest.paths import expand_paths

    names = [
        "notes.csv",
        "payments.csv",
        "invoice_lines.2026-11.csv",
        "invoice_lines.2026-10.csv",
        "customers.csv",
        "readme.txt",
    ]
    for name in names:
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    assert [p.name for p in expand_paths([tmp_path])] == [
        "customers.csv",
        "invoice_lines.2026-10.csv",
        "invoice_lines.2026-11.csv",
        "payments.csv",
        "notes.csv",
    ]


def test_files_given_one_by_one_load_in_entity_order_too(tmp_path):
    from models.ingest.paths import expand_paths

    for name in ("payments.csv", "customers.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    given = [tmp_path / "payments.csv", tmp_path / "customers.csv"]
    assert [p.name for p in expand_paths(given)] == ["customers.csv", "payments.csv"]


def test_decided_files_are_filed_away_and_the_rest_stay(tmp_path):
    from models.ingest.paths import file_away

    elsewhere = tmp_path / "by-hand.csv"
    for p in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (tmp_path / p).write_text("x\n", encoding="utf-8")
    elsewhere.write_text("x\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "e.csv").write_text("x\n", encoding="utf-8")
    problems = file_away(
        tmp_path,
        [
            (tmp_path / "a.csv", "LOADED", 1),
            (tmp_path / "b.csv", "DUPLICATE", 1),
            (tmp_path / "c.csv", "REJECTED", 2),
            (tmp_path / "d.csv", "FAILED", None),
            (sub / "e.csv", "LOADED", 3),  # not delivered by the landing folder
        ],
    )
    assert problems == []
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv")) == [
        "by-hand.csv",
        "d.csv",
        "loaded/batch-1/a.csv",
        "loaded/batch-1/b.csv",
        "refused/batch-2/c.csv",
        "sub/e.csv",
    ]
