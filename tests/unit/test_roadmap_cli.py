"""``accountops roadmap ...`` and ``export roadmap`` as a user meets them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from models.config import load_config
from models.roadmap.store import EXPORT_COLUMNS
from models.value.recompute import recompute
from tests.integration.test_roadmap import _book

from .test_cli import assert_one_line_error, run_cli


@pytest.fixture
def book(cli_book):
    """The command-line book with the roadmap book of the integration tests, recomputed."""
    _book(cli_book[2])
    recompute(cli_book[2], load_config(), as_of=date(2026, 9, 30))
    return cli_book


def test_suggestions_decide_and_export(book):
    folder, env, eng = book

    def cli(*args):
        return run_cli(*args, cwd=folder, env=env)

    listed = cli("roadmap", "suggestions")
    assert listed.returncode == 0, listed.stderr
    row = listed.stdout.splitlines()[1].split()
    assert row[:2] == ["I-TURB", "C-1"] and "R-PRED" in row
    done = cli("roadmap", "decide", "I-TURB", "R-PRED", "confirm", "--user", "planner")
    assert done.returncode == 0, done.stderr
    assert "confirmed by planner" in done.stdout
    assert "no open suggestions" in cli("roadmap", "suggestions").stdout

    exported = cli("export", "roadmap", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert list(rows[0]) == ["customer_id", "customer_name", *EXPORT_COLUMNS[1:]]  # names too
    assert {(r["initiative_id"], r["match"], r["roadmap_item_id"]) for r in rows} == {
        ("I-EDGE", "in_time", "R-EDGE"),
        ("I-TWIN", "late", "R-TWIN"),
        ("I-TURB", "gap", ""),  # the confirmation counts from the next recompute
        ("I-QNT", "gap", ""),
    }
    as_json = json.loads(cli("export", "roadmap", "--format", "json").stdout)
    assert len(as_json) == 4


def test_a_decision_by_a_viewer_is_refused_on_one_line(book):
    folder, env, _ = book
    result = run_cli(
        "roadmap", "decide", "I-TURB", "R-PRED", "confirm", "--user", "viewer", cwd=folder, env=env
    )
    assert_one_line_error(result, "PERMISSION_DENIED")
    bad = run_cli(
        "roadmap", "decide", "I-TURB", "R-PRED", "maybe", "--user", "planner", cwd=folder, env=env
    )
    assert bad.returncode == 2 and "confirm or reject" in bad.stderr
