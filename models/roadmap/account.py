"""One account's roadmap matching as the plan page shows it: each open initiative's
coverage in the latest snapshot, the items serving it, and the open suggestions."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, select

from models.schema import Initiative, InitiativeCoverage, RoadmapItem, RoadmapMatch

from .matching import Via
from .store import latest_snapshot, pairs_snapshot, read_decisions


@dataclass(frozen=True)
class AccountMatching:
    snapshot_id: int | None
    coverage: pd.DataFrame  # initiative_id, initiative, needed_by, match, months_late, served_by
    suggestions: pd.DataFrame  # initiative_id, roadmap_item_id, item, release_on, similarity
    decided: dict  # (initiative_id, roadmap_item_id) -> decision, made since or before


def account_matching(engine: Engine, customer_id: str) -> AccountMatching:
    with engine.connect() as conn:
        sid = latest_snapshot(conn)
        decided = {k: v.value for k, v in read_decisions(conn).items()}
        if sid is None:
            empty = pd.DataFrame()
            return AccountMatching(None, empty, empty, decided)
        cover = conn.execute(
            select(
                InitiativeCoverage.initiative_id,
                Initiative.title,
                Initiative.needed_by,
                InitiativeCoverage.timing,
                InitiativeCoverage.months_late,
                InitiativeCoverage.served_by,
                InitiativeCoverage.value_at_stake,
            )
            .join(Initiative, Initiative.initiative_id == InitiativeCoverage.initiative_id)
            .where(
                InitiativeCoverage.snapshot_id == sid,
                InitiativeCoverage.customer_id == customer_id,
            )
            .order_by(Initiative.needed_by, InitiativeCoverage.initiative_id)
        ).all()
        titles = dict(
            conn.execute(select(RoadmapItem.roadmap_item_id, RoadmapItem.title)).tuples().all()
        )
        suggested = conn.execute(
            select(
                RoadmapMatch.initiative_id,
                RoadmapMatch.roadmap_item_id,
                RoadmapItem.title,
                RoadmapItem.planned_release_on,
                RoadmapMatch.text_similarity,
            )
            .join(RoadmapItem, RoadmapItem.roadmap_item_id == RoadmapMatch.roadmap_item_id)
            .join(Initiative, Initiative.initiative_id == RoadmapMatch.initiative_id)
            .where(
                RoadmapMatch.snapshot_id == pairs_snapshot(conn, sid),
                RoadmapMatch.via == Via.TEXT,
                Initiative.customer_id == customer_id,
            )
            .order_by(RoadmapMatch.initiative_id, RoadmapMatch.text_similarity.desc())
        ).all()
    coverage = pd.DataFrame(
        [
            {
                "initiative_id": r.initiative_id,
                "initiative": r.title,
                "needed_by": r.needed_by,
                "match": getattr(r.timing, "value", r.timing),
                "months_late": r.months_late,
                "served_by": ", ".join(f"{i} {titles.get(i, '')}".strip() for i in r.served_by),
                "value_at_stake": r.value_at_stake,
            }
            for r in cover
        ]
    )
    suggestions = pd.DataFrame(
        [
            {
                "initiative_id": s.initiative_id,
                "roadmap_item_id": s.roadmap_item_id,
                "item": s.title,
                "release_on": s.planned_release_on,
                "similarity": round(float(s.text_similarity), 2),
            }
            for s in suggested
        ]
    )
    return AccountMatching(sid, coverage, suggestions, decided)
