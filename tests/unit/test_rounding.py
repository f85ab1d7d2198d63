"""One rounding rule: half up (away from zero) at the stated precision, for every figure
an export, a reason or a page prints, whatever float noise the database's sums carry
(SQLite sums money as floats, PostgreSQL exactly)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from dashboards.formatting import days, money, percent
from models.value.numbers import half_up, labels, round_cents, round_half_up
from models.value.reasons import fmt_value


def exact(cents: list[int], digits: int = 0) -> float:
    """The exact sum of ``cents`` rounded half up, by Decimal: what the rule means."""
    total = Decimal(sum(cents)) / 100
    return float(total.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


@given(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=200), st.integers(0, 2))
def test_a_float_sum_rounds_as_the_exact_sum(cents, digits):
    noisy = sum(c / 100 for c in cents)  # as SQLite adds REAL cents
    assert half_up(noisy, digits) == exact(cents, digits)
    assert round_half_up(pd.Series([noisy]), digits)[0] == exact(cents, digits)


def test_halfway_goes_up_and_away_from_zero():
    values = pd.Series([31039.5, 31039.499999999996, 31040.5, 0.5, 1.5, 2.5, -2.5, -0.4, None])
    assert round_half_up(values).tolist()[:-1] == [31040, 31040, 31041, 1, 2, 3, -3, 0]
    assert str(half_up(-0.4)) == "0.0"  # never "-0"
    assert round_cents(pd.Series([1.005, 2.675, -1.005])).tolist() == [1.01, 2.68, -1.01]


def test_reasons_and_pages_print_the_same_figure_for_either_database():
    pg, sqlite = 31039.5, 31039.499999999996  # one revenue, as each database returns it
    assert fmt_value("revenue", pd.Series([pg, sqlite])).tolist() == ["31,040", "31,040"]
    assert fmt_value("on_time_share", pd.Series([0.125, 0.12499999999999999])).tolist() == [
        "13%",
        "13%",
    ]
    assert fmt_value("mean_days_late", pd.Series([2.25])).tolist() == ["2.3 days"]
    assert money(pg, "EUR") == money(sqlite, "EUR") == "€31,040"
    assert money(1_250_000, "EUR", compact=True) == "€1.3M"
    assert percent(0.1245) == "12.5%" and percent(-0.0004, signed=True) == "+0.0%"
    assert days(12.5) == "13 days"


@given(st.lists(st.one_of(st.none(), st.floats(-1e9, 1e9), st.sampled_from([0.125, 2.5, -2.5]))))
def test_shown_formats_each_figure_as_the_rule_rounds_it(values):
    """Each value rounded half up, then formatted: repeats, NaN and all (distinct
    figures are formatted once, each in its place)."""
    from models.value.numbers import shown

    series = pd.Series(values, dtype=float, index=range(10, 10 + len(values)), name="x")
    out = shown(series, "{:,.1f}%", digits=1, scale=100)
    assert out.index.equals(series.index) and out.name == "x"
    want = ["nan%" if pd.isna(v) else f"{half_up(v * 100, 1):,.1f}%" for v in series]
    assert out.tolist() == want


def test_as_float_reads_decimals_none_text_and_na():
    from models.value.numbers import as_float

    decimals = pd.Series([Decimal("1.10"), None, Decimal("-2.5")], dtype=object)
    assert as_float(decimals).tolist()[::2] == [1.1, -2.5] and pd.isna(as_float(decimals)[1])
    mixed = pd.Series(["3.5", "not a number", pd.NA, 4], dtype=object)
    got = as_float(mixed)
    assert got.dtype == float and got[0] == 3.5 and got[3] == 4.0
    assert got[[1, 2]].isna().all()
    assert as_float(pd.Series([True, False])).tolist() == [1.0, 0.0]


def test_labels_are_the_names_of_their_codes_as_a_string_column():
    index = pd.Index(["C1", "C2", "C3", "C4"])
    got = labels(np.array([1, 0, 1, 2]), ["high", "low", "high"], index)
    expected = pd.Series(["low", "high", "low", "high"], index=index, dtype="str")
    pd.testing.assert_series_equal(got, expected)
    assert labels(np.array([], dtype=int), ["x"], pd.RangeIndex(0)).empty
