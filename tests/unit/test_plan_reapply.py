"""Re-applying a planner's edits on top of a version someone else saved meanwhile."""

from __future__ import annotations

from models.plans.diff import reapply

BASE = {
    "title": "Grow",
    "objectives": ["A"],
    "targets": {"2026": {"PL-01": "100.00", "PL-02": "50.00"}, "2027": {"PL-01": "120.00"}},
}


def test_each_side_keeps_the_fields_it_changed():
    mine = {**BASE, "title": "Grow faster"}
    theirs = {**BASE, "objectives": ["A", "B"]}
    assert reapply(BASE, mine, theirs) == {**BASE, "title": "Grow faster", "objectives": ["A", "B"]}


def test_targets_merge_per_year_and_product_line():
    mine = {**BASE, "targets": {"2026": {"PL-01": "110.00", "PL-02": "50.00"}}}  # 2027 removed
    theirs = {
        **BASE,
        "targets": {
            "2026": {"PL-01": "100.00", "PL-02": "55.00"},
            "2027": {"PL-01": "120.00"},
            "2028": {"PL-03": "10.00"},
        },
    }
    merged = reapply(BASE, mine, theirs)
    assert merged["targets"] == {
        "2026": {"PL-01": "110.00", "PL-02": "55.00"},
        "2028": {"PL-03": "10.00"},
    }


def test_where_both_changed_a_field_mine_wins_and_nothing_changed_is_theirs():
    mine = {**BASE, "title": "Mine"}
    theirs = {**BASE, "title": "Theirs", "objectives": ["Z"]}
    assert reapply(BASE, mine, theirs)["title"] == "Mine"
    assert reapply(BASE, BASE, theirs) == theirs
