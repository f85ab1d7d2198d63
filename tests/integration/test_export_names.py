"""Exports people can read (issue 21 item 5): names beside ids in every ``accountops
export`` kind and in the dashboard's downloads, under the columns docs/OPERATIONS.md lists,
spreadsheet-safe (names are user data)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from flows.cli import app
from flows.cli_export import EXPORT_KINDS
from models.config import load_config
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import AccountManager, Customer, ProductLine
from models.value.export_names import NAME_COLUMNS, download_frame
from models.value.exports import render
from models.value.recompute import recompute
from tests import value_builders as vb

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = {  # one of each reference, named as a spreadsheet would run it
    Customer: '=HYPERLINK("http://x")',
    AccountManager: "+cmd|' /C calc'!A0",
    ProductLine: "@SUM(1+1)",
}


def documented_columns() -> dict[str, list[str]]:
    """kind -> columns, from the table of docs/OPERATIONS.md, "Export columns"."""
    text = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    section = text.split("### Export columns", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|$", section, flags=re.M)
    return {kind: [c.strip() for c in columns.split(",")] for kind, columns in rows}


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, customers=25, years=2, seed=5, end_date=date(2026, 9, 30))
    return out


@pytest.fixture
def book(db_url, sample_dir):
    """A snapshot of the sample; then the first customer, manager and product line get
    names a spreadsheet would run (names are read when exporting, not stored with it)."""
    engine = make_engine(db_url)
    upgrade(engine)
    vb.load_sample(engine, sample_dir)
    recompute(engine, load_config())
    firsts = {"C-000001": Customer, "AM-0001": AccountManager, "PL-01": ProductLine}
    with engine.begin() as conn:
        for key, table in firsts.items():
            pk = next(iter(table.__table__.primary_key.columns))
            conn.execute(update(table).where(pk == key).values(name=HOSTILE[table]))
    yield engine
    engine.dispose()


def test_every_export_has_the_documented_columns_and_readable_names(book, db_url, tmp_path):
    documented = documented_columns()
    assert sorted(documented) == sorted(EXPORT_KINDS)  # every kind, and no other
    runner = CliRunner()
    env = {"ACCOUNTOPS_DATABASE_URL": db_url}
    for kind in EXPORT_KINDS:
        out = tmp_path / f"{kind}.csv"
        result = runner.invoke(app, ["export", kind, "--out", str(out)], env=env)
        assert result.exit_code == 0, (kind, result.output)
        text = out.read_text(encoding="utf-8")
        header = next(csv.reader(io.StringIO(text)))
        assert header == documented[kind], kind
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows or kind == "roadmap", kind  # the builders load no initiatives
        for id_column, (name_column, *_) in NAME_COLUMNS.items():
            if id_column not in header:
                continue
            assert header.index(name_column) == header.index(id_column) + 1
            for row in rows:
                if row[id_column] in ("", "TOTAL"):  # no id, no name (unknown stays empty)
                    assert row[name_column] == "", (kind, row)
                else:
                    assert row[name_column] != "", (kind, id_column, row[id_column])
                # A hostile name stays text: the formula start gets a leading apostrophe.
                assert not row[name_column].startswith(("=", "+", "@")), (kind, row)
        named = {v for row in rows for k, v in row.items() if k.endswith("_name")}
        if kind in {"tiers", "receivables", "funnel"}:
            assert "'" + HOSTILE[Customer] in named, kind
        if kind in {"managers", "funnel", "forecast"}:
            assert "'" + HOSTILE[AccountManager] in named, kind
        if kind == "segments":
            assert "'" + HOSTILE[ProductLine] in named
    json_out = tmp_path / "tiers.json"
    result = runner.invoke(
        app, ["export", "tiers", "--format", "json", "--out", str(json_out)], env=env
    )
    assert result.exit_code == 0, result.output
    records = json.loads(json_out.read_text(encoding="utf-8"))
    assert list(records[0]) == documented["tiers"]  # the same keys, in the same order


def test_dashboard_downloads_name_the_same_columns(book):
    """The pages' tables (``customer_id, name, ...``) download with the export's column
    names, and ids without a name column get one."""
    page = pd.DataFrame(
        {
            "customer_id": ["C-000001", "C-000002", "C-UNKNOWN"],
            "name": ['=HYPERLINK("http://x")', "Beta", "?"],
            "manager_id": ["AM-0001", None, "AM-0001"],
        }
    )
    with book.connect() as conn:
        named = download_frame(conn, page)
        managers = download_frame(
            conn, pd.DataFrame({"manager_id": ["AM-0001"], "name": ["Ann"], "customers": [3]})
        )
    assert list(named.columns) == ["customer_id", "customer_name", "manager_id", "manager_name"]
    assert list(named["manager_name"]) == [HOSTILE[AccountManager], None, HOSTILE[AccountManager]]
    assert list(managers.columns) == ["manager_id", "manager_name", "customers"]
    rows = list(csv.reader(io.StringIO(render(named, "csv"))))
    assert rows[1] == [
        "C-000001",
        "'" + HOSTILE[Customer],
        "AM-0001",
        "'" + HOSTILE[AccountManager],
    ]
    assert rows[2][3] == ""  # no manager: no name, not a made-up one
