"""Customer lifetime value (issue 5 item 7): RFM summary, BG/NBD and Gamma-Gamma fits, CLV.

Reference data: tests/data/cdnow (see its README): the CDNOW calibration
summary of Fader, Hardie and Lee (2005) and its raw transactions. Reference
numbers marked "lifetimes 0.11.3" were computed once with that library in a
throwaway folder (it is not a dependency of this project) and are hard-coded.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from models.config import load_config, section
from models.errors import ConfigError
from models.value.clv import (
    CLV_COLUMNS,
    CLV_DEFAULTS,
    clv_settings,
    clv_table,
    discounted_value,
    fit_bgnbd,
    fit_gamma_gamma,
    rfm_summary,
)
from models.value.clv_fit import (
    BgNbdFit,
    GammaGammaFit,
    _f_large_a,
    bgnbd_expected_purchases,
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    gamma_gamma_expected_spend,
)

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow"
CALIBRATION_END = date(1997, 9, 30)  # 39 weeks after 1997-01-01: FHL 2005's calibration period


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    """FHL 2005's calibration summary in weeks (x, t_x, T) with zbar, the mean repeat spend."""
    df = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    return df.rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value", "ID": "customer_id"}
    )


@pytest.fixture(scope="module")
def cdnow_lines() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_sample_calibration.csv", parse_dates=["invoice_date"])


def _lines(rows: list[tuple[str, date, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(c, d, None if a is None else Decimal(a)) for c, d, a in rows],
        columns=["customer_id", "invoice_date", "amount"],
    )


HAND = _lines(
    [
        ("A", date(2026, 1, 10), "100.00"),
        ("A", date(2026, 1, 10), "50.00"),  # same day: one purchase day of 150
        ("A", date(2026, 1, 20), "-30.00"),  # credit note: not a purchase
        ("A", date(2026, 2, 1), "80.00"),
        ("A", date(2026, 2, 1), "0.00"),
        ("A", date(2026, 3, 1), "40.00"),
        ("A", date(2026, 4, 5), "999.00"),  # after as_of: cut
        ("B", date(2026, 3, 15), "200.00"),
        ("B", date(2026, 3, 20), "-200.00"),  # a full credit still leaves the purchase day
        ("C", date(2026, 2, 2), "-10.00"),  # only credit notes and zero lines: no row
        ("C", date(2026, 2, 3), "0.00"),
        ("C", date(2026, 2, 4), None),
        ("D", date(2026, 4, 1), "10.00"),  # only after as_of: no row
        ("E", date(2026, 1, 1), "10.00"),
        ("E", date(2026, 1, 2), "20.50"),
        ("E", date(2026, 1, 3), "30.25"),
    ]
)
HAND_AS_OF = date(2026, 3, 31)


def test_rfm_summary_by_hand():
    got = rfm_summary(HAND, HAND_AS_OF)
    assert list(got.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert got["customer_id"].tolist() == ["A", "B", "E"]
    # A: purchase days Jan 10 (150), Feb 1 (80), Mar 1 (40); Jan 10 -> Mar 1 = 22 + 28 days.
    # B: one day, Mar 15 -> Mar 31 = 16. E: Jan 1..3, (20.50 + 30.25) / 2 = 25.375.
    assert got["frequency"].tolist() == [2, 0, 2]
    assert got["recency"].tolist() == [50, 0, 2]
    assert got["T"].tolist() == [80, 16, 89]
    assert got["monetary_value"].tolist() == [60.0, 0.0, 25.375]


def test_rfm_summary_accepts_floats_and_timestamps():
    floats = HAND.assign(
        amount=[np.nan if a is None else float(a) for a in HAND["amount"]],
        invoice_date=pd.to_datetime(HAND["invoice_date"]),
    )
    pd.testing.assert_frame_equal(rfm_summary(floats, HAND_AS_OF), rfm_summary(HAND, HAND_AS_OF))


def test_rfm_summary_as_of_moves_the_cut():
    got = rfm_summary(HAND, date(2026, 4, 5)).set_index("customer_id")
    assert got.loc["A", "frequency"] == 3 and got.loc["A", "monetary_value"] == 373.0
    assert got.loc["D", "T"] == 4
    assert rfm_summary(HAND, date(2025, 12, 31)).empty


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D"]),
            st.integers(0, 60),
            st.sampled_from(["-5.00", "0.00", "0.01", "9.99", "120.00"]),
        ),
        max_size=40,
    ),
    st.integers(0, 70),
)
def test_rfm_summary_invariants(rows, cut):
    lines = _lines([(c, date(2026, 1, 1) + pd.Timedelta(days=d), a) for c, d, a in rows])
    as_of = date(2026, 1, 1) + pd.Timedelta(days=cut)
    got = rfm_summary(lines, as_of).set_index("customer_id")
    kept = [(c, d, Decimal(a)) for c, d, a in rows if Decimal(a) > 0 and d <= cut]
    assert sorted(got.index) == sorted({c for c, _, _ in kept})
    for customer, row in got.iterrows():
        days = sorted({d for c, d, _ in kept if c == customer})
        assert row["frequency"] == len(days) - 1
        assert (row["recency"], row["T"]) == (days[-1] - days[0], cut - days[0])
        assert 0 <= row["frequency"] <= row["recency"] <= row["T"]
        repeat = sum(a for c, d, a in kept if c == customer and d != days[0])
        mean = float(repeat) / row["frequency"] if row["frequency"] else 0.0
        assert row["monetary_value"] == pytest.approx(mean, abs=1e-9)


def test_rfm_summary_reproduces_the_cdnow_calibration_summary(cdnow_lines, cdnow_summary):
    """The daily summary of CDNOW's raw lines, in weeks, is FHL 2005's published summary."""
    got = rfm_summary(cdnow_lines, CALIBRATION_END).set_index("customer_id")
    published = cdnow_summary.set_index("customer_id")
    # Eight customers' only purchase line has amount 0.00: CDNOW counts it, our rule does not.
    zero_only = set(published.index) - set(got.index)
    zero_lines = set(cdnow_lines.loc[cdnow_lines["amount"] <= 0, "customer_id"])
    assert len(zero_only) == 8 and zero_only <= zero_lines
    published = published.loc[got.index]
    assert (got["frequency"] == published["frequency"]).all()
    for column in ("recency", "T"):
        np.testing.assert_allclose(got[column] / 7, published[column], atol=0.0051)
    np.testing.assert_allclose(got["monetary_value"], published["monetary_value"], atol=0.0051)


def test_bgnbd_fit_matches_fader_hardie_lee_2005(cdnow_summary):
    fit = fit_bgnbd(cdnow_summary)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert getattr(fit, name) == pytest.approx(value, rel=2e-3), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)  # FHL 2005, section 5
    # lifetimes 0.11.3 BetaGeoFitter on the same file.
    lifetimes = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}
    for name, value in lifetimes.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-4), name
    assert fit.converged and fit.n_customers == 2357


def test_gamma_gamma_fit_matches_fader_hardie(cdnow_summary):
    fit = fit_gamma_gamma(cdnow_summary)
    assert fit.n_customers == 946  # customers with a repeat purchase
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert getattr(fit, name) == pytest.approx(value, rel=2e-3), name
    # lifetimes 0.11.3 GammaGammaFitter on the same customers.
    for name, value in {"p": 6.248802, "q": 3.744588, "v": 15.447748}.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-4), name
    assert fit.converged and np.isfinite(fit.log_likelihood)


# lifetimes 0.11.3's fitted CDNOW parameters (weeks), to compare formulas exactly.
LT_BG = BgNbdFit(0.24259292827982148, 4.413532265271809, 0.7928859664406578, 2.4257523826257374,
                 np.nan, True, 0, "")  # fmt: skip
LT_GG = GammaGammaFit(6.24880249607099, 3.7445884609237634, 15.447748064943575, np.nan, True, 0, "")


def test_predictions_match_lifetimes_on_cdnow_parameters():
    x, t_x, T = np.array([2, 0, 1, 7.0]), np.array([30.43, 0, 1.71, 29.43]), np.full(4, 38.86)
    # lifetimes 0.11.3: conditional_probability_alive and
    # conditional_expected_number_of_purchases_up_to_time(39 and 10, ...).
    alive = [0.7266091367990596, 1.0, 0.21222738807220765, 0.6418006393519198]
    in_39 = [1.2259104241744068, 0.19478085793947836, 0.20325062425618798, 3.3372396465269594]
    in_10 = [0.3569310086469064, 0.0542100973313467, 0.05820268119914963, 1.0027562948347424]
    np.testing.assert_allclose(bgnbd_p_alive(LT_BG, x, t_x, T), alive, rtol=1e-10)
    np.testing.assert_allclose(bgnbd_expected_purchases(LT_BG, 39, x, t_x, T), in_39, rtol=1e-9)
    np.testing.assert_allclose(bgnbd_expected_purchases(LT_BG, 10, x, t_x, T), in_10, rtol=1e-9)
    spend = gamma_gamma_expected_spend(LT_GG, np.array([2, 0, 6.0]), np.array([22.35, 0, 30.0]))
    # lifetimes 0.11.3 conditional_expected_average_profit; x = 0 gives the population mean.
    expected = [24.65861618923827, 35.17100215250688, 30.352713436424395]
    np.testing.assert_allclose(spend, expected, rtol=1e-12)
    assert LT_GG.population_mean_spend == pytest.approx(expected[1], rel=1e-12)


# Daily-period parameters (close to CDNOW's daily fit) and four customers.
DAY_BG = BgNbdFit(0.2439, 30.96, 0.7925, 2.4229, np.nan, True, 0, "")
DAY_GG = GammaGammaFit(6.2495, 3.7442, 15.4437, np.nan, True, 0, "")
DAY_X, DAY_TX = np.array([2, 0, 6, 40.0]), np.array([213, 0, 200, 260.0])
DAY_T, DAY_M = np.array([272, 272, 250, 270.0]), np.array([22.35, 0, 30.0, 55.0])


def _settings(**overrides):
    return clv_settings({"clv": overrides})


def test_clv_matches_lifetimes_customer_lifetime_value():
    spend = gamma_gamma_expected_spend(DAY_GG, DAY_X, DAY_M)
    clv = discounted_value(DAY_BG, spend, DAY_X, DAY_TX, DAY_T, _settings())
    # lifetimes 0.11.3 GammaGammaFitter.customer_lifetime_value(time=12, discount_rate=0.01, "D").
    ref = [35.87910857235269, 8.285237078211368, 125.29856321991156, 1673.6028910057853]
    np.testing.assert_allclose(clv, ref, rtol=1e-9)
    six = discounted_value(
        DAY_BG, spend, DAY_X, DAY_TX, DAY_T, _settings(horizon_months=6, monthly_discount_rate=0.02)
    )
    ref6 = [19.69059588619028, 4.396841611739692, 70.56388665953756, 953.4940861885236]
    np.testing.assert_allclose(six, ref6, rtol=1e-9)


def _fhl_expected(fit: BgNbdFit, t: float, x: float, t_x: float, T: float) -> float:
    """FHL 2005 eq. 10 exactly as printed (no Euler transformation)."""
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    odds = (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return head * body / (1 + odds)


def test_c3_clv_12m_by_hand_for_one_customer():
    x, t_x, T, m = 6.0, 200.0, 250.0, 30.0
    p, q, v = DAY_GG.p, DAY_GG.q, DAY_GG.v
    spend = (p * v + p * x * m) / (p * x + q - 1)
    by_hand, previous = 0.0, 0.0
    for month in range(1, 13):
        cumulative = _fhl_expected(DAY_BG, 30 * month, x, t_x, T)
        by_hand += (cumulative - previous) * spend / 1.01**month
        previous = cumulative
    one = np.array([x]), np.array([t_x]), np.array([T])
    got = discounted_value(DAY_BG, np.array([spend]), *one, _settings())
    assert got[0] == pytest.approx(by_hand, rel=1e-10)


def test_p_alive_is_one_without_repeat_purchase():
    T = np.array([1.0, 30, 365, 3000])
    assert (bgnbd_p_alive(DAY_BG, np.zeros(4), np.zeros(4), T) == 1.0).all()
    assert (bgnbd_p_alive(LT_BG, np.zeros(4), np.zeros(4), T / 7) == 1.0).all()


def test_expected_purchases_grow_with_the_horizon():
    horizons = [0, 1, 7, 30, 90, 180, 365, 730, 3650]
    curves = np.array([bgnbd_expected_purchases(DAY_BG, t, DAY_X, DAY_TX, DAY_T) for t in horizons])
    assert (curves[0] == 0).all()
    assert (np.diff(curves, axis=0) > 0).all()


def test_frequent_buyers_stay_finite():
    x = np.array([300.0, 1000.0, 2000.0])
    t_x, T = np.array([2500.0, 2900.0, 2999.0]), np.full(3, 3000.0)
    for t in (30, 90, 360):
        got = bgnbd_expected_purchases(DAY_BG, t, x, t_x, T)
        assert np.isfinite(got).all() and (got > 0).all()
        ref = [_fhl_expected(DAY_BG, t, *c) for c in zip(x[:1], t_x[:1], T[:1], strict=True)]
        assert got[0] == pytest.approx(ref[0], rel=1e-8)  # the printed form still works at 300
    alive = bgnbd_p_alive(DAY_BG, x, t_x, T)
    assert ((alive > 0) & (alive <= 1)).all()


def test_clv_table_on_cdnow(cdnow_lines):
    table = clv_table(cdnow_lines, CALIBRATION_END, {})
    assert list(table.columns) == CLV_COLUMNS and len(table) == 2349
    fits = table.attrs["fits"]
    assert fits["bgnbd"].converged and fits["gamma_gamma"].converged
    # Daily periods: alpha scales by 7 from the weekly fit, the others barely move.
    assert fits["bgnbd"].alpha == pytest.approx(4.414 * 7, rel=0.01)
    assert fits["bgnbd"].r == pytest.approx(0.243, rel=0.01)
    one = table.set_index("customer_id").loc[1]  # 3 purchase days: Jan 1, Jan 18, Aug 2
    assert (one["frequency"], one["recency"], one["T"]) == (2, 213, 272)
    assert one["monetary_value"] == Decimal("22.35")
    assert isinstance(one["clv_12m"], Decimal) and one["clv_12m"] == one["clv_12m"].quantize(
        Decimal("0.01")
    )
    assert (table["p_alive"][table["frequency"] == 0] == 1.0).all()
    # Customer 1901 bought on 22 days, the last long ago: almost surely gone, CLV rounds to 0.00.
    assert table["clv_12m"].map(lambda v: v >= 0).all()
    assert table.set_index("customer_id").loc[1901, "clv_12m"] == Decimal("0.00")


def test_c1_clv_table_is_deterministic(cdnow_lines):
    first = clv_table(cdnow_lines, CALIBRATION_END, {})
    again = clv_table(cdnow_lines.copy(), CALIBRATION_END, {})
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs["fits"] == again.attrs["fits"]
    shuffled = clv_table(cdnow_lines.sample(frac=1.0, random_state=7), CALIBRATION_END, {})
    assert shuffled["clv_12m"].tolist() == first["clv_12m"].tolist()


def test_small_data_gives_summary_without_predictions():
    table = clv_table(HAND, HAND_AS_OF, {})
    assert table["customer_id"].tolist() == ["A", "B", "E"]
    assert table["p_alive"].isna().all() and table["expected_purchases_90d"].isna().all()
    assert table["clv_12m"].tolist() == [None, None, None]
    assert table["monetary_value"].tolist() == [Decimal("60.00"), Decimal("0.00"), Decimal("25.38")]
    fits = table.attrs["fits"]
    assert not fits["bgnbd"].fitted and "value.clv.min_customers" in fits["bgnbd"].message
    assert not fits["gamma_gamma"].fitted and "2 customers" in fits["gamma_gamma"].message
    assert clv_table(HAND, date(2025, 1, 1), {}).empty


def test_no_repeat_purchase_is_not_fitted():
    once = _lines([(f"C{i:02d}", date(2026, 1, 1 + i), "10") for i in range(25)])
    table = clv_table(once, HAND_AS_OF, {})
    assert len(table) == 25 and table["p_alive"].isna().all()
    assert "no customer has a repeat purchase" in table.attrs["fits"]["bgnbd"].message


def test_discount_rate_comes_from_config(cdnow_lines):
    cdnow = cdnow_lines[cdnow_lines["customer_id"] <= 400]
    base = clv_table(cdnow, CALIBRATION_END, {})
    steeper = clv_table(cdnow, CALIBRATION_END, {"clv": {"monthly_discount_rate": 0.05}})
    assert (steeper["clv_12m"] <= base["clv_12m"]).all()
    assert (steeper["clv_12m"] < base["clv_12m"]).any()


def test_defaults_equal_the_rules_file():
    assert section(load_config(), "value")["clv"] == CLV_DEFAULTS
    assert clv_settings({}) == clv_settings({"clv": CLV_DEFAULTS})


@pytest.mark.parametrize(
    "bad",
    [
        {"monthly_discount_rate": -0.01},
        {"horizon_months": 0},
        {"prediction_days": 1.5},
        {"penalizer": "high"},
        {"min_customers": True},
        {"discount": 0.01},
    ],
)
def test_bad_clv_rules_name_the_key(bad):
    key = next(iter(bad))
    with pytest.raises(ConfigError, match=rf"value\.clv\.{key}"):
        clv_settings({"clv": bad})


def test_large_a_and_b_use_the_quadrature_where_the_hypergeometric_overflows():
    x, t_x, T = (
        np.array([0, 2, 10, 50.0]),
        np.array([0, 90, 250, 5.0]),
        np.array([365, 100, 300, 5.0]),
    )
    moderate = BgNbdFit(0.6, 57.4, 300.0, 800.0, np.nan, True, 0, "")  # both forms finite
    for t in (30, 360):
        z = t / (moderate.alpha + T + t)
        euler = (1 - z) ** (moderate.a - 1) * hyp2f1(
            moderate.a + moderate.b - 1 - moderate.r,
            moderate.a - 1,
            moderate.a + moderate.b + x - 1,
            z,
        )
        np.testing.assert_allclose(_f_large_a(moderate, t, x, T), euler, rtol=1e-9, atol=1e-14)
    # On the ridge only p = a/(a+b) matters: E = (1 - (1 + p t/(alpha+T))^-(r+x)) / p when alive.
    ridge = BgNbdFit(0.6, 57.4, 2.0e6, 6.0e6, np.nan, True, 0, "")
    got = bgnbd_expected_purchases(ridge, 90, x, t_x, T)
    p = 0.25
    limit = (1 - (1 + p * 90 / (57.4 + T)) ** -(0.6 + x)) / p * bgnbd_p_alive(ridge, x, t_x, T)
    np.testing.assert_allclose(got, limit, rtol=1e-5)


def test_weakly_identified_fit_is_reported_not_fatal():
    # Little evidence of drop-out: a and b run away together along the a/(a+b) ridge.
    x = np.array([0, 1, 2, 0, 3, 1] * 10, dtype=float)
    t_x = np.array([0, 50, 100, 0, 300, 10] * 10, dtype=float)
    summary = pd.DataFrame({"frequency": x, "recency": t_x, "T": np.full(60, 365.0)})
    fit = fit_bgnbd(summary)
    assert fit.fitted and np.isfinite(fit.log_likelihood)
    assert "weakly identified" in fit.message
    expected = bgnbd_expected_purchases(fit, 90, x, t_x, summary["T"].to_numpy())
    assert np.isfinite(expected).all() and (expected > 0).all()


def test_penalizer_follows_the_lifetimes_convention(cdnow_summary):
    # lifetimes 0.11.3 GammaGammaFitter(penalizer_coef=0.001) on the CDNOW repeat customers.
    fit = fit_gamma_gamma(cdnow_summary, penalizer=0.001)
    for name, value in {"p": 7.912025, "q": 2.446819, "v": 7.209564}.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-4), name
    # BetaGeoFitter(penalizer_coef=0.01) stops at r, alpha, a, b below; our fit must do at
    # least as well on the same objective (mean negative log-likelihood + 0.01 * sum(params^2)).
    bg = fit_bgnbd(cdnow_summary, penalizer=0.01)
    x, t_x, T = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))

    def objective(params):
        return -np.mean(bgnbd_log_likelihood(*params, x, t_x, T)) + 0.01 * np.sum(np.square(params))

    lifetimes_stop = (0.242940, 4.432437, 0.285642, 0.658454)
    assert objective((bg.r, bg.alpha, bg.a, bg.b)) <= objective(lifetimes_stop)
    assert bg.a < 0.793 and bg.b < 2.426  # the penalty shrinks the drop-out parameters


def _cents_one_by_one(v: float):
    """The rule, value by value: six decimals first, then half up to the cent."""
    if not math.isfinite(v):
        return None
    return Decimal(f"{v:.6f}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_HALF_CENTS = st.integers(-(10**9), 10**9).map(lambda c: c / 100 + 0.005)


@given(
    st.lists(
        st.one_of(
            st.floats(min_value=-1e12, max_value=1e12),
            st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0]),
            st.floats(min_value=-0.02, max_value=0.02),
            _HALF_CENTS,  # on a half cent, as near as a float gets
            _HALF_CENTS.map(lambda v: v - 4e-7),  # below it, within the six decimals
            _HALF_CENTS.map(lambda v: v + 1e-6),
        ),
        max_size=50,
    )
)
def test_money_to_cents_is_the_rule_value_by_value(values):
    """The vectorised rounding gives, Decimal for Decimal (sign of zero included), what
    the rule gives one value at a time."""
    from models.value.clv import _to_cents

    got = _to_cents(np.array(values, dtype=float))
    expected = [_cents_one_by_one(v) for v in values]
    assert [None if d is None else str(d) for d in got] == [
        None if d is None else str(d) for d in expected
    ]
