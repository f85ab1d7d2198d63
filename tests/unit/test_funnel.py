"""The funnel on hand-made histories: each state and its boundaries, conversion, time in
stage, the bulge, learned probabilities with and without thin groups, the forecast sum,
no look-ahead and the backtest, each checked against figures worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.errors import ConfigError
from models.funnel.compute import compute_funnel
from models.funnel.forecast import backtest, learn, outcomes, percentage_error, segments
from models.funnel.history import History, day_number
from models.funnel.rules import FunnelRules, funnel_rules
from models.funnel.states import period_states, shift_period, state_names

RULES = FunnelRules(prior_deals=4, min_group_deals=3, backtest_periods=4)
ACTION = "agreed to a demo"


class Book:
    """Deals and their stage changes, written as (stage, date[, action]) paths."""

    def __init__(self) -> None:
        self.deals: list[dict] = []
        self.moves: list[dict] = []

    def deal(self, oid, path, *, amount=1000, owner="AM-1", close=None, line="PL-1", backed=True):
        first = path[0][1]
        self.deals.append(
            {
                "opportunity_id": oid,
                "customer_id": "C-1",
                "product_line_id": line,
                "owner": owner,
                "amount": amount,
                "created_on": first,
                "expected_close_on": close,
                "tier": "gold",
                "stage": path[-1][0],
            }
        )
        for seq, (stage, on) in enumerate(path, start=1):
            action = ACTION if backed and seq > 1 and stage != "lost" else None
            self.moves.append(
                {
                    "opportunity_id": oid,
                    "seq": seq,
                    "stage": stage,
                    "entered_on": on,
                    "customer_action": action,
                }
            )
        return self

    def frames(self):
        return pd.DataFrame(self.deals), pd.DataFrame(
            self.moves, columns=["opportunity_id", "seq", "stage", "entered_on", "customer_action"]
        )

    def history(self):
        return History.build(*self.frames())


D = date


def states_in(book, start, end, rules=RULES):
    state, _ = period_states(book.history(), start, end, rules)
    ids = book.history().deals["opportunity_id"]
    return dict(zip(ids, state_names(state), strict=True))


def test_each_state_in_a_quarter():
    book = Book()
    book.deal("new", [("target_account", D(2026, 7, 2))])
    book.deal("adv", [("target_account", D(2026, 5, 1)), ("build_trust", D(2026, 8, 1))])
    book.deal(
        "reg",
        [
            ("target_account", D(2026, 4, 1)),
            ("present_value", D(2026, 5, 1)),
            ("discover_needs", D(2026, 8, 1)),
        ],
    )
    book.deal("stall", [("target_account", D(2026, 1, 1)), ("build_trust", D(2026, 6, 2))])
    book.deal(
        "hold",
        [
            ("target_account", D(2026, 1, 1)),
            ("build_trust", D(2026, 6, 15)),
            ("discover_needs", D(2026, 8, 1)),
            ("build_trust", D(2026, 8, 2)),
        ],
    )
    book.deal("won", [("win_commitment", D(2026, 5, 1)), ("won", D(2026, 9, 30))])
    book.deal("lost", [("present_value", D(2026, 5, 1)), ("lost", D(2026, 7, 1))])
    book.deal("gone", [("present_value", D(2026, 1, 1)), ("lost", D(2026, 6, 30))])
    book.deal("later", [("target_account", D(2026, 10, 1))])
    got = states_in(book, D(2026, 7, 1), D(2026, 9, 30))
    assert got == {
        "adv": "advanced",
        "gone": None,
        "hold": "holding",
        "later": None,
        "lost": "lost",
        "new": "new",
        "reg": "regressed",
        "stall": "stalled",
        "won": "won",
    }


def test_stalled_boundary_is_the_configured_number_of_days():
    end = D(2026, 9, 30)
    rules = replace(RULES, stalled_after_days=100)
    book = Book()
    book.deal("at", [("target_account", D(2026, 1, 1)), ("build_trust", end - timedelta(100))])
    book.deal("short", [("target_account", D(2026, 1, 1)), ("build_trust", end - timedelta(99))])
    got = states_in(book, D(2026, 7, 1), end, rules)
    assert got == {"at": "stalled", "short": "holding"}
    # one day earlier neither has waited 100 days
    assert states_in(book, D(2026, 7, 1), end - timedelta(1), rules) == {
        "at": "holding",
        "short": "holding",
    }
    # a move inside the period outranks stalling: it advanced
    assert states_in(book, D(2026, 6, 1), end, rules)["short"] == "advanced"


def test_a_deal_created_on_the_last_day_before_the_period_is_not_new():
    book = Book()
    book.deal("eve", [("target_account", D(2026, 6, 30))])
    book.deal("day1", [("target_account", D(2026, 7, 1))])
    got = states_in(book, D(2026, 7, 1), D(2026, 7, 31), replace(RULES, period="month"))
    assert got == {"eve": "holding", "day1": "new"}


def test_an_advance_with_no_customer_action_is_flagged():
    book = Book()
    book.deal(
        "words",
        [
            ("target_account", D(2026, 1, 1)),
            ("build_trust", D(2026, 2, 1)),
            ("present_value", D(2026, 3, 1)),
        ],
        backed=False,
    )
    book.deal("acts", [("target_account", D(2026, 1, 1)), ("build_trust", D(2026, 2, 1))])
    book.deal("back", [("target_account", D(2026, 1, 1)), ("lost", D(2026, 2, 1))], backed=False)
    result = compute_funnel(*book.frames(), RULES, D(2026, 3, 31))
    flagged = dict(zip(result.deals["opportunity_id"], result.deals["unbacked_moves"], strict=True))
    assert flagged == {"acts": 0, "back": 0, "words": 2}


def conversion_book():
    book = Book()
    # 4 deals reach build_trust: 2 go on to discover_needs, 1 is lost there, 1 is still open.
    for i, fate in enumerate(["on", "on", "lost", "open"]):
        path = [
            ("target_account", D(2026, 1, 1)),
            ("customer_analysis", D(2026, 1, 11)),
            ("build_trust", D(2026, 1, 21 + i)),
        ]
        if fate == "on":
            path.append(("discover_needs", D(2026, 2, 10)))
        if fate == "lost":
            path.append(("lost", D(2026, 2, 10)))
        book.deal(f"d{i}", path)
    return book


def test_conversion_leaves_undecided_deals_out():
    result = compute_funnel(*conversion_book().frames(), RULES, D(2026, 3, 31))
    st = result.stages.set_index("stage")
    assert st.loc["target_account", "reached"] == 4
    assert st.loc["target_account", "conversion"] == 1.0
    assert st.loc["build_trust", "reached"] == 4
    assert st.loc["build_trust", "decided"] == 3
    assert st.loc["build_trust", "conversion"] == pytest.approx(2 / 3)
    assert st.loc["discover_needs", "reached"] == 2
    assert pd.isna(st.loc["discover_needs", "conversion"])  # both still open there


def test_time_in_stage_median_and_quartiles():
    result = compute_funnel(*conversion_book().frames(), RULES, D(2026, 3, 31))
    st = result.stages.set_index("stage")
    assert st.loc["customer_analysis", "stays"] == 4
    # 10, 11, 12, 13 days: median 11.5, quartiles 10.75 and 12.25
    assert st.loc["customer_analysis", "median_days"] == 11.5
    assert st.loc["customer_analysis", "p25_days"] == 10.75
    assert st.loc["customer_analysis", "p75_days"] == 12.25
    # build_trust: left after 20, 19, 18 days; the open deal's stay is not complete
    assert st.loc["build_trust", "stays"] == 3
    assert st.loc["build_trust", "median_days"] == 19
    assert pd.isna(st.loc["present_value", "median_days"])
    days = result.deals.set_index("opportunity_id")["days_in_stage"]
    assert days["d3"] == (D(2026, 3, 31) - D(2026, 1, 24)).days


def test_bulge_when_middle_stages_hold_more_than_the_rules_allow():
    book = Book()
    for i in range(3):
        book.deal(f"m{i}", [("discover_needs", D(2026, 1, 1))])
    book.deal("b", [("build_trust", D(2026, 1, 1))])
    book.deal("t", [("target_account", D(2026, 1, 1))])
    book.deal("w", [("win_commitment", D(2026, 1, 1))])
    rules = replace(RULES, bulge_share_above=0.6)
    result = compute_funnel(*book.frames(), rules, D(2026, 3, 31))
    assert result.summary.middle_share == pytest.approx(4 / 6)
    assert result.summary.bulge_stage == "discover_needs"
    shape = result.stages.set_index("stage")["open_deals"]
    assert shape.to_dict()["discover_needs"] == 3
    relaxed = compute_funnel(*book.frames(), replace(rules, bulge_share_above=0.7), D(2026, 3, 31))
    assert relaxed.summary.bulge_stage is None


def probability_book():
    """Q1 2025 replayed on its eve (31 Dec 2024): the deals its forecast counted."""
    book = Book()
    eve_stage = D(2024, 12, 1)
    # AM-1: 6 deals at win_commitment expected in Q1, 5 won in it. AM-2: 2, both lost (thin).
    for i in range(6):
        end = "won" if i < 5 else "lost"
        book.deal(
            f"a{i}",
            [("win_commitment", eve_stage), (end, D(2025, 2, 1))],
            owner="AM-1",
            close=D(2025, 2, 1),
        )
    for i in range(2):
        book.deal(
            f"b{i}",
            [("win_commitment", eve_stage), ("lost", D(2025, 2, 1))],
            owner="AM-2",
            close=D(2025, 2, 1),
        )
    # AM-1 at present_value, expected in March, still open at the end of Q1: not won in it.
    book.deal("c", [("present_value", eve_stage)], owner="AM-1", close=D(2025, 3, 1))
    # Stalled at build_trust since June (over 90 days on the eve), expected in January.
    book.deal("z", [("build_trust", D(2024, 6, 1))], owner="AM-1", close=D(2025, 1, 15))
    return book


K = 4
P_WC = (5 + K * 0.8) / (8 + K)
P_PV = (0 + K * 0.5) / (1 + K)
P_BT = (0 + K * 0.2) / (1 + K)


def test_learned_probabilities_shrink_and_thin_groups_get_the_stage_rate():
    history = probability_book().history()
    rules = replace(RULES, prior_deals=K, min_group_deals=3)
    codes, names = segments(history, rules)
    out = outcomes(history, D(2025, 4, 15), rules)
    probs = learn(out, day_number(D(2025, 4, 15)), codes, names, rules)
    t = probs.table.set_index(["segment", "stage"])
    # win_commitment: 8 deals counted in Q1, 5 won in it; naive 0.8 with 4 deals' weight
    assert t.loc[("", "win_commitment"), "deals"] == 8
    assert t.loc[("", "win_commitment"), "probability"] == pytest.approx(P_WC)
    # present_value: the one deal counted was not won in the quarter (it slipped)
    assert t.loc[("", "present_value"), "probability"] == pytest.approx(P_PV)
    # AM-1 at win_commitment: 6 deals, 5 won, shrunk toward the stage's rate
    assert t.loc[("AM-1", "win_commitment"), "probability"] == pytest.approx((5 + K * P_WC) / 10)
    # AM-2 has only 2 deals there: the stage's own rate, not 0 %
    assert t.loc[("AM-2", "win_commitment"), "deals"] == 2
    assert t.loc[("AM-2", "win_commitment"), "probability"] == pytest.approx(P_WC)
    # a stage with no history keeps its naive probability
    assert t.loc[("", "target_account"), "probability"] == pytest.approx(0.05)
    # the stalled deal: build_trust's stalled rate, shrunk toward build_trust's rate
    st = probs.stalled_table.set_index("stage")
    assert st.loc["build_trust", "stalled_deals"] == 1
    assert st.loc["build_trust", "stalled_probability"] == pytest.approx(K * P_BT / (1 + K))
    # periods closed after the learning day teach nothing: on 31 March Q1 is not closed
    early = learn(out, day_number(D(2025, 3, 30)), codes, names, rules)
    assert early.table["deals"].sum() == 0
    flat_rules = replace(rules, segment_by="none")
    flat = learn(out, day_number(D(2025, 4, 15)), *segments(history, flat_rules), flat_rules)
    assert set(flat.table["segment"]) == {""}


def test_forecast_sums_amount_times_probability_per_period_and_owner():
    book = probability_book()
    as_of = D(2025, 4, 15)
    book.deal(
        "o1", [("win_commitment", D(2025, 4, 1))], amount=10_000, owner="AM-1", close=D(2025, 6, 30)
    )
    book.deal(
        "o2", [("present_value", D(2025, 4, 1))], amount=2_000, owner="AM-2", close=D(2025, 8, 15)
    )
    book.deal("far", [("present_value", D(2025, 4, 1))], amount=5_000, close=D(2027, 1, 1))
    book.deal("nodate", [("present_value", D(2025, 4, 1))], amount=7_000)
    rules = replace(RULES, prior_deals=K, min_group_deals=3)
    result = compute_funnel(*book.frames(), rules, as_of)
    am1_wc = (5 + K * P_WC) / 10
    f = result.forecast.set_index(["period_start", "owner"])
    q2, q3 = D(2025, 4, 1), D(2025, 7, 1)
    # Q2, AM-1: o1, plus c (slipped, 1000 at present_value) and z (slipped, stalled)
    z = K * P_BT / (1 + K)
    assert f.loc[(q2, "AM-1"), "deals"] == 3
    assert f.loc[(q2, "AM-1"), "learned"] == pytest.approx(
        round(10_000 * am1_wc + 1_000 * P_PV + 1_000 * z, 2)
    )
    assert f.loc[(q2, "AM-1"), "naive"] == pytest.approx(8_000 + 500 + 200)
    assert f.loc[(q3, "AM-2"), "learned"] == pytest.approx(round(2_000 * P_PV, 2))
    assert f["deals"].sum() == 4  # "far" is beyond the 4 quarters, "nodate" has no date
    assert result.summary.no_close_date == 1
    deals = result.deals.set_index("opportunity_id")
    assert deals.loc["far", "probability"] == pytest.approx(P_PV)
    # each deal says which period it counts in: a slipped one in the current period
    assert deals.loc["c", "forecast_period"] == q2 and deals.loc["o2", "forecast_period"] == q3
    assert deals.loc["c", "naive_amount"] == pytest.approx(500)
    assert pd.isna(deals.loc["nodate", "forecast_period"])
    assert "a0" not in deals.index  # closed before the period: not a live deal
    # what was won in Q1 is not in the forecast of Q2 ("won" so far in Q2 is 0)
    assert f["won"].sum() == 0


def test_a_later_stage_change_does_not_alter_an_earlier_forecast():
    as_of = D(2026, 6, 30)
    base = Book()
    for i in range(30):
        won = i % 3 != 0
        month = 1 + i % 9
        base.deal(
            f"h{i}",
            [
                ("target_account", D(2025, month, 1)),
                ("present_value", D(2025, month, 20)),
                ("won" if won else "lost", D(2025, month + 3, 5)),
            ],
            owner=f"AM-{i % 2}",
            close=D(2025, month + 3, 1),
            amount=1000 + i,
        )
    base.deal("x", [("target_account", D(2025, 12, 1))], close=D(2026, 2, 1), amount=5000)
    base.deal("y", [("target_account", D(2026, 3, 1))], close=D(2026, 5, 1), amount=800)
    later = Book()
    later.deals, later.moves = list(base.deals), list(base.moves)
    later.moves.append(
        {
            "opportunity_id": "x",
            "seq": 2,
            "stage": "won",
            "entered_on": D(2026, 2, 2),
            "customer_action": ACTION,
        }
    )
    rules = replace(RULES, backtest_periods=4)
    before = compute_funnel(*base.frames(), rules, as_of).backtest
    after = compute_funnel(*later.frames(), rules, as_of).backtest
    # The forecasts made on the eve of each quarter up to Q1 2026 (x was won on 2 Feb)
    # are the same; only the won amount of Q1 2026 differs. Q2's eve knew of the win.
    early = before["period_start"] <= D(2026, 1, 1)
    cols = ["period_start", "deals", "learned", "naive"]
    pd.testing.assert_frame_equal(before.loc[early, cols], after.loc[early, cols])
    assert (after["won"] - before["won"]).tolist() == [0, 0, 5000.0, 0]
    q2 = before["period_start"] == D(2026, 4, 1)
    assert after.loc[q2, "learned"].item() != before.loc[q2, "learned"].item()


def test_backtest_by_hand():
    book = Book()
    # Q4 2025, replayed on 30 Sep: 4 deals at present_value expected in it, 3 won in it.
    for i, end in enumerate(["won", "won", "won", "lost"]):
        book.deal(
            f"h{i}",
            [("present_value", D(2025, 9, 1)), (end, D(2025, 11, 1))],
            amount=100,
            close=D(2025, 11, 1),
        )
    # Open on the eve of Q1 2026, expected in Q1: 1000 (won in Q1) and 3000 (lost in Q1).
    book.deal(
        "q1a",
        [("present_value", D(2025, 12, 1)), ("won", D(2026, 2, 1))],
        amount=1000,
        close=D(2026, 2, 1),
    )
    book.deal(
        "q1b",
        [("present_value", D(2025, 12, 1)), ("lost", D(2026, 2, 1))],
        amount=3000,
        close=D(2026, 3, 1),
    )
    # Open on the eve, expected in December (slipped): the replay counts it in Q1 as the
    # live forecast would; it is neither won nor lost in Q1.
    book.deal("late", [("present_value", D(2025, 11, 1))], amount=500, close=D(2025, 12, 15))
    rules = replace(RULES, prior_deals=2, segment_by="none", backtest_periods=1)
    history = book.history()
    codes, names = segments(history, rules)
    table = backtest(
        history, outcomes(history, D(2026, 3, 31), rules), codes, names, D(2026, 3, 31), rules
    )
    # learned from Q4 2025, replayed on 30 Sep: 4 deals at present_value, 3 won, prior 0.5
    # ("late" was created in November: Q4's eve did not know it)
    p = (3 + 2 * 0.5) / (4 + 2)
    row = table.iloc[0]
    assert row["period_start"] == D(2026, 1, 1)
    assert row["deals"] == 3
    assert row["learned"] == pytest.approx(4500 * p)
    assert row["naive"] == pytest.approx(4500 * 0.5)
    assert row["won"] == 1000
    assert percentage_error(table, "learned") == pytest.approx(abs(4500 * p - 1000) / 1000)
    assert percentage_error(table, "naive") == pytest.approx(1.25)
    assert percentage_error(table.assign(won=0.0), "learned") is None


def test_period_states_are_counted_for_past_periods():
    result = compute_funnel(
        *conversion_book().frames(),
        replace(RULES, period="month", history_periods=3),
        D(2026, 3, 31),
    )
    counts = result.periods
    jan = counts[counts["period_start"] == D(2026, 1, 1)].set_index("state")["deals"]
    assert jan.to_dict() == {"new": 4}
    feb = counts[counts["period_start"] == D(2026, 2, 1)].set_index("state")["deals"]
    assert feb.to_dict() == {"advanced": 2, "holding": 1, "lost": 1}
    assert shift_period(D(2026, 1, 1), "quarter", -1) == D(2025, 10, 1)


def test_rules_are_checked():
    assert funnel_rules({}).period == "quarter"
    assert funnel_rules({"funnel": {"period": "month", "segment_by": "tier"}}).segment_by == "tier"
    with pytest.raises(ConfigError, match="funnel.period"):
        funnel_rules({"funnel": {"period": "week"}})
    with pytest.raises(ConfigError, match="unknown key 'stall'"):
        funnel_rules({"funnel": {"stall": 3}})
    with pytest.raises(ConfigError, match="naive_probabilities"):
        funnel_rules({"funnel": {"naive_probabilities": {"won": 1}}})
    with pytest.raises(ConfigError, match="middle_stages"):
        funnel_rules({"funnel": {"middle_stages": ["won"]}})


def test_period_starts_agree_with_period_start():
    from models.funnel.forecast import period_starts
    from models.funnel.states import period_start

    days = [D(1969, 11, 30) + timedelta(d) for d in range(0, 3000, 7)]
    numbers = [day_number(d) for d in days]
    for kind in ("month", "quarter"):
        got = period_starts(np.array(numbers), kind)
        assert list(got) == [day_number(period_start(d, kind)) for d in days]


def test_recorded_actions_may_come_as_text_or_as_flags():
    """The database read fetches whether an action was recorded, not its text."""
    book = Book()
    book.deal("a", [("target_account", D(2026, 1, 1)), ("build_trust", D(2026, 2, 1))])
    book.deal(
        "b", [("target_account", D(2026, 1, 1)), ("build_trust", D(2026, 2, 1))], backed=False
    )
    deals, moves = book.frames()
    moves.loc[moves["opportunity_id"] == "b", "customer_action"] = "   "  # blank is none
    flags = moves.assign(customer_action=moves["customer_action"].fillna("").str.strip() != "")
    as_text, as_flags = History.build(deals, moves), History.build(deals, flags)
    assert as_text.unbacked.tolist() == as_flags.unbacked.tolist() == [False, False, False, True]


def test_on_a_periods_last_day_the_forecast_starts_with_the_next_period():
    book = probability_book()
    book.deal(
        "slip", [("present_value", D(2025, 5, 1))], amount=1_000, owner="AM-2", close=D(2025, 6, 1)
    )
    book.deal(
        "won", [("present_value", D(2025, 5, 1)), ("won", D(2025, 6, 10))], close=D(2025, 6, 10)
    )
    rules = replace(RULES, prior_deals=K, min_group_deals=3)
    last_day = compute_funnel(*book.frames(), rules, D(2025, 6, 30))
    assert last_day.summary.period_start == D(2025, 4, 1)  # the states: Q2, now over
    assert last_day.summary.forecast_start == D(2025, 7, 1)
    deals = last_day.deals.set_index("opportunity_id")
    assert deals.loc["slip", "forecast_period"] == D(2025, 7, 1)  # slipped into Q3
    assert set(last_day.forecast["period_start"]) >= {D(2025, 7, 1)}
    assert last_day.forecast["won"].sum() == 0  # nothing won in Q3 yet
    mid = compute_funnel(*book.frames(), rules, D(2025, 6, 29))
    assert mid.summary.forecast_start == D(2025, 4, 1)
    assert mid.forecast.set_index(["period_start", "owner"])["won"].sum() == 1000
