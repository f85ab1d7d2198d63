"""Roadmap matching, value at stake and the rankings, on hand-made cases worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.config import load_config
from models.errors import ConfigError
from models.roadmap.matching import (
    Decision,
    Need,
    Offer,
    Timing,
    Via,
    match,
    months_late,
)
from models.roadmap.rules import RoadmapRules, roadmap_rules
from models.roadmap.value import (
    account_coverage,
    initiative_values,
    items_by_value_served,
    timing_misses,
    unserved_needs,
)

RULES = RoadmapRules()


@pytest.mark.parametrize(
    ("needed_by", "release_on", "months"),
    [
        (date(2027, 6, 30), date(2027, 6, 30), 0),  # released on the needed-by day: in time
        (date(2027, 6, 30), date(2027, 3, 1), 0),
        (date(2027, 6, 30), date(2027, 7, 1), 1),  # a day late is a month late
        (date(2026, 11, 15), date(2027, 1, 15), 2),  # across the year end, to the day
        (date(2026, 11, 15), date(2027, 1, 20), 3),  # five days into a third month
        (date(2027, 1, 31), date(2027, 2, 28), 1),  # February ends on the 28th
        (date(2026, 12, 31), date(2028, 1, 1), 13),
    ],
)
def test_months_late(needed_by, release_on, months):
    assert months_late(needed_by, release_on) == months


def need(iid, tags, needed_by, title="", customer="C-1", priority="medium", status="planned"):
    return Need(
        iid, customer, title or f"initiative {iid}", tuple(tags), needed_by, priority, status
    )


def offer(oid, tags, release_on, title="", status="planned", line="PL-01"):
    return Offer(oid, line, title or f"item {oid}", tuple(tags), release_on, status)


NEEDS = [
    need("A", ["analytics"], date(2027, 6, 30), priority="high"),
    need("B", ["edge"], date(2027, 1, 31), priority="medium"),
    need("C", ["quantum"], date(2027, 1, 1), priority="low"),
    need("D", ["analytics"], date(2026, 1, 1), customer="C-2", status="done"),  # closed
]
OFFERS = [
    offer("X", ["analytics"], date(2027, 3, 1)),
    offer("Y", ["edge"], date(2027, 4, 15)),
    offer("Z", ["quantum"], date(2026, 6, 1), status="cancelled"),  # serves nothing
    offer("S", ["edge"], date(2027, 9, 1), status="released"),  # shipped later still
]


def test_each_class_in_time_late_and_gap():
    result = match(NEEDS, OFFERS, RULES)
    cover = result.coverage
    assert cover["A"].timing == Timing.IN_TIME and cover["A"].served_by == ("X",)
    # Y releases 2027-04-15: from 31 January, 31 March is 2 months, 30 April 3.
    assert (cover["B"].timing, cover["B"].months_late, cover["B"].served_by) == (
        Timing.LATE,
        3,
        ("S", "Y"),  # S is later still (8 months): the fewest months count
    )
    assert cover["C"].timing == Timing.GAP  # the only quantum item is cancelled
    assert "D" not in cover  # a done initiative is nobody's need
    assert {(p.initiative_id, p.roadmap_item_id, p.via) for p in result.pairs} == {
        ("A", "X", Via.TAGS),
        ("B", "Y", Via.TAGS),
        ("B", "S", Via.TAGS),
    }
    assert result.suggestions == []


def test_tag_share_against_the_threshold():
    """Score = 0.7 x tag share + 0.3 x text similarity; titles share no word here."""
    needs = [need("N", ["a", "b", "c", "d"], date(2027, 1, 1), title="alpha")]
    offers = [
        offer("ONE", ["a"], date(2026, 1, 1), title="bravo"),  # 0.7 x 0.25 = 0.175
        offer("TWO", ["a", "b"], date(2026, 1, 1), title="charlie"),  # 0.7 x 0.5 = 0.35
    ]
    result = match(needs, offers, RULES)
    [pair] = result.pairs
    assert (pair.roadmap_item_id, pair.tag_share, pair.score) == ("TWO", 0.5, 0.35)
    assert result.suggestions == []


TURBINE = need(
    "T", ["maintenance-ai"], date(2027, 6, 30), title="Predictive maintenance of wind turbines"
)
MONITOR = offer(
    "M", ["condition-monitoring"], date(2027, 9, 1), title="Predictive maintenance for turbines"
)
FALSE_FRIEND = offer("F", ["maintenance-ai"], date(2027, 1, 1), title="Ticketing for field crews")


def test_text_only_is_a_suggestion_a_confirmation_counts_and_a_rejection_sticks():
    result = match([TURBINE], [MONITOR, FALSE_FRIEND], RULES)
    # F shares the tag (score 0.7 >= 0.35): it serves. M shares no tag but its text agrees.
    assert [(p.roadmap_item_id, p.via) for p in result.pairs] == [("F", Via.TAGS)]
    [suggestion] = result.suggestions
    assert (suggestion.roadmap_item_id, suggestion.via) == ("M", Via.TEXT)
    assert suggestion.text_similarity >= RULES.suggest_text_at_least
    assert suggestion.tag_share == 0

    confirmed = match([TURBINE], [MONITOR, FALSE_FRIEND], RULES, {("T", "M"): Decision.CONFIRM})
    assert {(p.roadmap_item_id, p.via) for p in confirmed.pairs} == {
        ("F", Via.TAGS),
        ("M", Via.CONFIRMED),
    }
    assert confirmed.suggestions == []
    # M is 3 months late (1 Sep against 30 Jun), F in time: the initiative is in time.
    assert confirmed.coverage["T"].timing == Timing.IN_TIME

    rejected = match(
        [TURBINE],
        [MONITOR, FALSE_FRIEND],
        RULES,
        {("T", "M"): Decision.REJECT, ("T", "F"): Decision.REJECT},
    )
    assert rejected.pairs == [] and rejected.suggestions == []
    assert rejected.coverage["T"].timing == Timing.GAP


def test_a_confirmation_counts_whatever_the_score():
    unrelated = offer("U", ["billing"], date(2027, 1, 1), title="Invoice archive")
    result = match([TURBINE], [unrelated], RULES, {("T", "U"): Decision.CONFIRM})
    assert [(p.roadmap_item_id, p.via, p.score) for p in result.pairs] == [
        ("U", Via.CONFIRMED, 0.0)
    ]


def test_value_at_stake_shares_the_revenue_by_priority_weight():
    needs = NEEDS + [need("E", ["edge"], date(2027, 1, 1), customer="C-3")]
    revenue = {"C-1": Decimal("600.00"), "C-3": None}
    values = initiative_values(needs, revenue, RULES)
    # C-1: high 3, medium 2, low 1 of 600 -> 300, 200, 100. C-3's revenue is unknown.
    assert values == {
        "A": Decimal("300.00"),
        "B": Decimal("200.00"),
        "C": Decimal("100.00"),
        "E": None,
    }
    thirds = initiative_values(
        [need(i, [], date(2027, 1, 1)) for i in "PQR"], {"C-1": Decimal("100")}, RULES
    )
    assert set(thirds.values()) == {Decimal("33.33")}


def test_account_coverage_and_every_ranking_by_hand():
    result = match(NEEDS, OFFERS, RULES)
    values = initiative_values(NEEDS, {"C-1": Decimal("600.00")}, RULES)
    cov = account_coverage("C-1", NEEDS, result.coverage, values)
    # In time A 300, late B 200, gap C 100 of 600.
    assert (cov.value, cov.in_time, cov.late, cov.gap) == (
        Decimal("600.00"),
        Decimal("0.5000"),
        Decimal("0.3333"),
        Decimal("0.1667"),
    )
    assert account_coverage("C-9", NEEDS, result.coverage, values).value is None

    items = items_by_value_served(result, NEEDS, values)
    assert [(r.roadmap_item_id, r.accounts, r.value) for r in items] == [
        ("X", 1, Decimal("300.00")),
        ("S", 1, Decimal("200.00")),  # S and Y serve B (200): by id
        ("Y", 1, Decimal("200.00")),
    ]
    gaps = unserved_needs(NEEDS, result.coverage, values)
    assert [(g.capability, g.initiatives, g.value) for g in gaps] == [
        ("quantum", 1, Decimal("100.00"))
    ]
    misses = timing_misses(NEEDS, result.coverage, values)
    assert [(m.initiative_id, m.months_late, m.weight) for m in misses] == [
        ("B", 3, Decimal("600.00"))  # 3 months x 200
    ]


def test_roadmap_rules_come_from_the_rules_file_and_are_checked():
    assert roadmap_rules(load_config()) == RoadmapRules()
    assert roadmap_rules({"roadmap": {"tag_weight": 0.5}}).tag_weight == 0.5
    with pytest.raises(ConfigError, match="roadmap.tag_weight"):
        roadmap_rules({"roadmap": {"tag_weight": 1.5}})
    with pytest.raises(ConfigError, match="unknown key 'weights'"):
        roadmap_rules({"roadmap": {"weights": {}}})
    with pytest.raises(ConfigError, match="priority_weights"):
        roadmap_rules({"roadmap": {"priority_weights": {"high": 2}}})


@given(
    st.lists(
        st.tuples(
            st.dates(date(2020, 1, 1), date(2032, 12, 31)),
            st.dates(date(2020, 1, 1), date(2032, 12, 31)),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_months_late_over_arrays_equals_the_rule_per_pair(pairs):
    import numpy as np

    from models.roadmap.matching import months_late_arrays

    needed = np.array([a for a, _ in pairs], dtype="datetime64[D]")
    release = np.array([b for _, b in pairs], dtype="datetime64[D]")
    assert months_late_arrays(needed, release).tolist() == [months_late(a, b) for a, b in pairs]
