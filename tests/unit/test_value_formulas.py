"""C3 and the small formulas of the value engine, on hand-computed cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from models.config import load_config
from models.errors import ConfigError
from models.value.numbers import to_cents
from models.value.receivables import (
    late_invoice_cost,
    months_of_delay_eating_profit,
    sales_to_make_up,
)
from models.value.rules import value_rules
from models.value.sqlfuncs import add_months
from models.value.windows import Windows

# --- C3: DOMAIN.md section 5, verbatim ------------------------------------------------------


def test_c3_bad_debt_500_at_3_percent_needs_16667_of_sales():
    needed = to_cents(sales_to_make_up(Decimal("500"), Decimal("0.03")))
    assert needed == Decimal("16666.67")  # stored and shown to the cent
    assert needed.quantize(Decimal(1)) == Decimal("16667")


def test_c3_bad_debt_500_at_2_percent_needs_25000_of_sales():
    assert to_cents(sales_to_make_up(Decimal("500"), Decimal("0.02"))) == Decimal("25000.00")


def test_the_bad_debt_cover_of_a_column_is_the_same_formula():
    losses = pd.Series([500.0, 0.0, None])
    assert sales_to_make_up(losses, 0.03).round(2).tolist()[:2] == [16666.67, 0.0]


def test_c3_ten_percent_margin_at_five_percent_cost_is_24_months():
    assert months_of_delay_eating_profit(Decimal("0.10"), Decimal("0.05")) == Decimal("24")


def test_c3_two_percent_margin_at_fifteen_percent_cost_is_1_6_months():
    assert months_of_delay_eating_profit(Decimal("0.02"), Decimal("0.15")) == Decimal("1.6")


def test_c3_late_invoice_cost_is_amount_rate_days_over_365():
    # 10,000 at 5% for 73 days: 10,000 x 0.05 x 73 / 365 = 100.00
    assert late_invoice_cost(Decimal("10000"), Decimal("0.05"), 73) == Decimal("100.00")
    # 1,234.56 at 8% for 30 days = 8.1176... -> 8.12
    assert late_invoice_cost(Decimal("1234.56"), Decimal("0.08"), 30) == Decimal("8.12")
    assert late_invoice_cost(Decimal("500"), Decimal("0.05"), 0) == Decimal("0.00")


def test_c3_formulas_refuse_a_zero_rate():
    with pytest.raises(ValueError):
        sales_to_make_up(Decimal("500"), Decimal("0"))
    with pytest.raises(ValueError):
        months_of_delay_eating_profit(Decimal("0.1"), Decimal("0"))


# --- windows ---------------------------------------------------------------------------------


def test_add_months_clips_to_month_end():
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), -12) == date(2023, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_windows_are_calendar_months_ending_with_the_as_of_month():
    w = Windows(date(2026, 9, 30), 12)
    assert w.current_start == date(2025, 10, 1)
    assert w.previous_start == date(2024, 10, 1)
    w = Windows(date(2026, 3, 15), 6)
    assert (w.current_start, w.previous_start, w.as_of_month) == (
        date(2025, 10, 1),
        date(2025, 4, 1),
        date(2026, 3, 1),
    )


# --- rules -----------------------------------------------------------------------------------


def test_default_rules_are_domain_defaults():
    rules = value_rules(load_config())
    assert rules.weights == {
        "revenue": 0.30,
        "gross_margin_pct": 0.20,
        "collection_rate": 0.15,
        "on_time_share": 0.10,
        "growth": 0.15,
        "influence": 0.10,
    }
    assert rules.tiers["problem_collection_rate_below"] == 0.80
    assert rules.tiers["diamond_top_share"] == 0.05
    assert rules.bucket_days == (30, 60, 90)


def test_bad_rule_names_the_key():
    config = load_config()
    config["value"] = dict(config["value"], score_weights={"revenue": "lots"})
    with pytest.raises(ConfigError, match="score_weights"):
        value_rules(config)


def test_a_segment_name_must_be_text():
    config = load_config()
    segments = dict(config["value"]["segments"])
    segments["matrix"] = {k: dict(v) for k, v in segments["matrix"].items()}
    segments["matrix"]["high"]["low"] = True  # YAML's `yes`
    config["value"] = dict(config["value"], segments=segments)
    with pytest.raises(ConfigError, match=r"matrix\.high\.low: True is not a segment name"):
        value_rules(config)
