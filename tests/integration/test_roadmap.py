"""The recompute matches the roadmap against the initiatives and stores it with its
snapshot; planners' decisions survive recomputes; the export contract; on both databases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select

from models.access import Identity, PermissionDenied
from models.config import load_config
from models.roadmap.store import EXPORT_COLUMNS, decide, open_suggestions, roadmap_export
from models.schema import (
    AuditEvent,
    Initiative,
    InitiativeCoverage,
    RoadmapDecision,
    RoadmapItem,
    RoadmapMatch,
    Role,
)
from models.value.recompute import recompute
from tests.plan_builders import ACCOUNT, OTHER_ACCOUNT, seed_accounts
from tests.value_builders import batch, invoice

AS_OF = date(2026, 9, 30)


def _book(engine) -> None:
    """C-1 invoiced 900 in the last 12 months and plans three initiatives; C-2 one.

    - I-EDGE (C-1, high, edge-analytics, needed 2027-06-30): R-EDGE releases 2027-03-01.
    - I-TWIN (C-1, medium, digital-twin, needed 2027-01-31): R-TWIN releases 2027-04-15,
      3 months late.
    - I-TURB (C-1, low, maintenance-ai): only R-PRED's text agrees (tags differ): a
      suggestion, so a gap until a planner confirms it.
    - I-QNT (C-2, quantum): R-QNT is cancelled: a gap.
    """
    with engine.begin() as conn:
        b = batch(conn, "roadmap_items")
        conn.execute(delete(Initiative))
        items = [
            ("R-EDGE", "Edge analytics gateway", ["edge-analytics"], date(2027, 3, 1), "planned"),
            ("R-TWIN", "Digital twin studio", ["digital-twin"], date(2027, 4, 15), "in_progress"),
            (
                "R-PRED",
                "Predictive maintenance for turbines",
                ["condition-monitoring"],
                date(2026, 11, 1),
                "planned",
            ),
            ("R-QNT", "Quantum-safe crypto", ["quantum"], date(2026, 1, 1), "cancelled"),
        ]
        conn.execute(
            insert(RoadmapItem),
            [
                {
                    "roadmap_item_id": i,
                    "product_line_id": "PL-01",
                    "title": t,
                    "capability_tags": tags,
                    "planned_release_on": d,
                    "status": s,
                    "batch_id": b,
                }
                for i, t, tags, d, s in items
            ],
        )
        needs = [
            (
                "I-EDGE",
                ACCOUNT,
                "Analytics at the edge",
                ["edge-analytics"],
                date(2027, 6, 30),
                "high",
            ),
            (
                "I-TWIN",
                ACCOUNT,
                "Plant digital twin",
                ["digital-twin"],
                date(2027, 1, 31),
                "medium",
            ),
            (
                "I-TURB",
                ACCOUNT,
                "Predictive maintenance of wind turbines",
                ["maintenance-ai"],
                date(2027, 6, 30),
                "low",
            ),
            (
                "I-QNT",
                OTHER_ACCOUNT,
                "Post-quantum security",
                ["quantum"],
                date(2027, 1, 1),
                "high",
            ),
        ]
        conn.execute(
            insert(Initiative),
            [
                {
                    "initiative_id": i,
                    "customer_id": c,
                    "title": t,
                    "capability_tags": tags,
                    "needed_by": d,
                    "priority": p,
                    "status": "planned",
                    "batch_id": b,
                }
                for i, c, t, tags, d, p in needs
            ],
        )
        b = batch(conn)
        invoice(conn, "I-1", ACCOUNT, date(2026, 3, 1), None, [("PL-01", "900.00", None)], b)


@pytest.fixture
def people(engine):
    people = seed_accounts(engine)
    _book(engine)
    return people


def _stored(engine, snapshot_id):
    with engine.connect() as conn:
        cover = {
            r.initiative_id: r
            for r in conn.execute(
                select(InitiativeCoverage).where(InitiativeCoverage.snapshot_id == snapshot_id)
            )
        }
        pairs = {
            (r.initiative_id, r.roadmap_item_id): r
            for r in conn.execute(
                select(RoadmapMatch).where(RoadmapMatch.snapshot_id == snapshot_id)
            )
        }
    return cover, pairs


def test_the_recompute_stores_matches_coverage_and_value_at_stake(engine, people):
    sid = recompute(engine, load_config(), as_of=AS_OF).snapshot_id
    cover, pairs = _stored(engine, sid)
    timing = {i: (c.timing.value, c.months_late) for i, c in cover.items()}
    assert timing == {
        "I-EDGE": ("in_time", 0),
        "I-TWIN": ("late", 3),
        "I-TURB": ("gap", 0),
        "I-QNT": ("gap", 0),
    }
    # 900 shared high 3 : medium 2 : low 1 -> 450, 300, 150. C-2 has no revenue measure.
    values = {i: c.value_at_stake for i, c in cover.items()}
    assert values["I-EDGE"] == Decimal("450.00")
    assert values["I-TWIN"] == Decimal("300.00")
    assert values["I-TURB"] == Decimal("150.00")
    assert {k: p.via.value for k, p in pairs.items()} == {
        ("I-EDGE", "R-EDGE"): "tags",
        ("I-TWIN", "R-TWIN"): "tags",
        ("I-TURB", "R-PRED"): "text",
    }
    [suggestion] = open_suggestions(engine)
    assert (suggestion.initiative_id, suggestion.roadmap_item_id) == ("I-TURB", "R-PRED")


def test_a_confirmation_survives_the_next_recompute_and_is_audited(engine, people):
    recompute(engine, load_config(), as_of=AS_OF)
    decide(engine, people["planner"], "I-TURB", "R-PRED", "confirm")
    assert open_suggestions(engine) == []  # decided: no longer open
    sid = recompute(engine, load_config(), as_of=AS_OF).snapshot_id
    cover, pairs = _stored(engine, sid)
    assert pairs[("I-TURB", "R-PRED")].via.value == "confirmed"
    assert cover["I-TURB"].timing.value == "in_time"  # releases 2026-11-01
    with engine.connect() as conn:
        audit = conn.execute(
            select(
                AuditEvent.actor, AuditEvent.action, AuditEvent.target_id, AuditEvent.detail
            ).where(AuditEvent.action.like("roadmap.%"))
        ).all()
    assert audit == [("planner", "roadmap.confirm", "I-TURB", "R-PRED")]
    # Rejecting it later: never counted, never suggested again.
    decide(engine, people["admin"], "I-TURB", "R-PRED", "reject")
    sid = recompute(engine, load_config(), as_of=AS_OF).snapshot_id
    cover, pairs = _stored(engine, sid)
    assert ("I-TURB", "R-PRED") not in pairs and cover["I-TURB"].timing.value == "gap"
    with engine.connect() as conn:
        [row] = conn.execute(select(RoadmapDecision)).all()
    assert (row.decision.value, row.decided_by) == ("reject", "admin")


@pytest.mark.parametrize("who", ["viewer", "approver", "manager"])
def test_only_planners_and_admins_decide(engine, people, who):
    with pytest.raises(PermissionDenied):
        decide(engine, people[who], "I-TURB", "R-PRED", "confirm")


def test_a_planner_decides_only_for_assigned_accounts(engine, people):
    outsider = Identity("planner", Role.PLANNER)  # assigned C-1 only
    with pytest.raises(PermissionDenied, match="not assigned"):
        decide(engine, outsider, "I-QNT", "R-QNT", "confirm")
    decide(engine, people["planner2"], "I-QNT", "R-QNT", "confirm")  # assigned both


def test_the_export_has_one_row_per_pair_and_a_gap_once(engine, people):
    sid = recompute(engine, load_config(), as_of=AS_OF).snapshot_id
    with engine.connect() as conn:
        frame = roadmap_export(conn, sid)
    assert list(frame.columns) == EXPORT_COLUMNS
    rows = [tuple(r) for r in frame.itertuples(index=False)]
    assert rows == [
        (ACCOUNT, "I-EDGE", "R-EDGE", "in_time", 0, Decimal("450.00"), "tags"),
        (ACCOUNT, "I-TURB", None, "gap", 0, Decimal("150.00"), None),  # a suggestion only
        (ACCOUNT, "I-TWIN", "R-TWIN", "late", 3, Decimal("300.00"), "tags"),
        (OTHER_ACCOUNT, "I-QNT", None, "gap", 0, None, None),
    ]


def test_an_unchanged_roadmap_is_matched_once_and_referred_to(engine, people):
    from sqlalchemy import func, update

    from models.schema import RoadmapMatching

    config = load_config()
    first = recompute(engine, config, as_of=AS_OF).snapshot_id
    second = recompute(engine, config, as_of=AS_OF).snapshot_id  # only the values again
    with engine.connect() as conn:
        own = conn.scalar(
            select(func.count()).select_from(RoadmapMatch).where(RoadmapMatch.snapshot_id == second)
        )
        pairs_in = conn.scalar(
            select(RoadmapMatching.pairs_in).where(RoadmapMatching.snapshot_id == second)
        )
        exported = [roadmap_export(conn, sid) for sid in (first, second)]
    assert (own, pairs_in) == (0, first)
    assert exported[1].equals(exported[0])
    assert _stored(engine, second)[0].keys() == _stored(engine, first)[0].keys()
    [suggestion] = open_suggestions(engine)  # read through the reference
    assert suggestion.roadmap_item_id == "R-PRED"

    # An initiative needed earlier: matched afresh, and now late.
    with engine.begin() as conn:
        conn.execute(
            update(Initiative)
            .where(Initiative.initiative_id == "I-EDGE")
            .values(needed_by=date(2027, 1, 31))
        )
    third = recompute(engine, config, as_of=AS_OF).snapshot_id
    cover, pairs = _stored(engine, third)
    assert (cover["I-EDGE"].timing.value, cover["I-EDGE"].months_late) == ("late", 2)
    assert ("I-EDGE", "R-EDGE") in pairs  # written with the third snapshot itself
