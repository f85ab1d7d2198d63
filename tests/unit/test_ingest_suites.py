"""Q2: suite loading is deterministic and follows the rules file; reader/normalise units."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from expectations.suites import suite_expectations
from models.canonical import ENTITIES
from models.config import load_config
from models.errors import ConfigError
from models.ingest import ingest_config
from models.ingest.errors import IngestError
from models.ingest.file_checks import inspect_file
from models.ingest.normalise import normalise, sign_relations

SNAPSHOT = Path(__file__).resolve().parents[2] / "expectations" / "snapshots" / "suites.json"
AS_OF = date(2026, 1, 1)


def snapshot(config) -> dict:
    return {e: suite_expectations(e, config, AS_OF) for e in sorted(ENTITIES)}


def test_q2_suites_match_the_committed_snapshot():
    current = json.loads(json.dumps(snapshot(ingest_config())))
    assert current == json.loads(SNAPSHOT.read_text()), (
        "suites changed: review and regenerate expectations/snapshots/suites.json"
    )
    assert snapshot(ingest_config()) == snapshot(ingest_config())  # deterministic


def test_q2_a_threshold_change_in_config_changes_the_snapshot():
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "max_amount": 5000}
    changed = snapshot(ingest_config(raw))
    assert changed != snapshot(ingest_config())
    amounts = [
        e
        for e in changed["invoice_lines"]
        if e["kwargs"].get("column") == "amount"
        and e["type"] == "expect_column_values_to_be_between"
    ]
    assert amounts[0]["kwargs"]["max_value"] == 5000


def test_normalise_flags_typing_problems_by_row():
    raw = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3"],
            "invoice_id": ["", "", ""],
            "customer_id": ["C1"] * 3,
            "paid_on": ["2026-01-02", "02/01/2026", "2026-02-30"],
            "amount": ["1.50", "£3", "x"],
            "currency": ["EUR"] * 3,
        }
    )
    n = normalise("payments", raw)
    assert {i: sorted(v) for i, v in n.violations.items()} == {
        1: [("DATE_AMBIGUOUS", "paid_on"), ("NUMBER_FORMAT_NOT_ALLOWED", "amount")],
        2: [("DATE_UNPARSEABLE", "paid_on"), ("NUMBER_INVALID", "amount")],
    }
    assert n.load.loc[0, "paid_on"] == "2026-01-02" and pd.isna(n.load.loc[0, "invoice_id"])
    assert n.check.loc[0, "paid_on"] == 20260102


@pytest.mark.parametrize(
    "content,code",
    [(b"", "FILE_EMPTY"), (b"PK\x03\x04zzz", "FILE_BINARY"), (b"a;b\n1;2\n", "WRONG_DELIMITER")],
)
def test_reader_codes(tmp_path, content, code):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(IngestError) as err:
        inspect_file(path, config=ingest_config(), expected=["a", "b"], required=["a", "b"])
    assert err.value.code == code and "x.csv" in str(err.value)


def test_sign_rules_are_switches_of_the_rules_file():
    def rules_of(config) -> set[str]:
        return {e["meta"]["rule"] for e in suite_expectations("invoice_lines", config, AS_OF)}

    rules = rules_of(ingest_config())
    assert {"QUANTITY_AMOUNT_SIGN", "ZERO_QUANTITY_AMOUNT"} <= rules
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "quarantine_zero_quantity_amount": False}
    assert rules - rules_of(ingest_config(raw)) == {"ZERO_QUANTITY_AMOUNT"}
    raw["ingest"]["quarantine_opposite_signs"] = "no"  # YAML's no is False; the string is not
    with pytest.raises(ConfigError, match="quarantine_opposite_signs='no' is invalid"):
        ingest_config(raw)


def test_sign_relations_of_sales_credit_notes_free_goods_and_unknowns():
    quantity = pd.Series([3.0, -3.0, 3.0, -3.0, 0.0, 0.0, 5.0, None, 2.0])
    amount = pd.Series([30.0, -30.0, -30.0, 30.0, 10.0, 0.0, 0.0, 10.0, None])
    opposite, zero = sign_relations(quantity, amount)
    assert opposite.tolist()[:7] == [0, 0, 1, 1, 0, 0, 0]
    assert zero.tolist()[:7] == [0, 0, 0, 0, 1, 0, 0]
    assert opposite[7:].isna().all() and zero[7:].isna().all()  # unknown: REQUIRED_MISSING's
