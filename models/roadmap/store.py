"""Roadmap matching on the database: what the recompute stores per snapshot, the
planners' decisions, the open suggestions and the export.

The recompute calls :func:`store_roadmap` in the transaction that writes its snapshot
(after the measures, whose 12-month revenue gives the value at stake), so the stored
matching is always the snapshot's and a decision made since counts at the next one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import orjson
import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select

from models.access import Action, Identity, require, require_customer
from models.db import transaction
from models.errors import AccountopsError
from models.plans.assignments import account_facts, may_act_on_account
from models.schema import (
    AuditEvent,
    CustomerMeasure,
    Initiative,
    InitiativeCoverage,
    MatchDecision,
    RoadmapDecision,
    RoadmapItem,
    RoadmapMatch,
    RoadmapMatching,
    Snapshot,
    SnapshotStatus,
)
from models.value.numbers import stored_money
from models.value.store import bulk_insert, prepare

from .matching import Need, Offer, Via, match
from .rules import RoadmapRules
from .value import initiative_values


def read_needs(conn: Connection) -> list[Need]:
    rows = conn.execute(
        select(
            Initiative.initiative_id,
            Initiative.customer_id,
            Initiative.title,
            Initiative.capability_tags,
            Initiative.needed_by,
            Initiative.priority,
            Initiative.status,
            Initiative.description,
        ).order_by(Initiative.initiative_id)
    )
    return [
        Need(i, c, t, tuple(tags or ()), d, _text(p), _text(s), text or "")
        for i, c, t, tags, d, p, s, text in rows
    ]


def _text(value) -> str:
    return str(getattr(value, "value", value))


def read_offers(conn: Connection) -> list[Offer]:
    rows = conn.execute(
        select(
            RoadmapItem.roadmap_item_id,
            RoadmapItem.product_line_id,
            RoadmapItem.title,
            RoadmapItem.capability_tags,
            RoadmapItem.planned_release_on,
            RoadmapItem.status,
            RoadmapItem.description,
        ).order_by(RoadmapItem.roadmap_item_id)
    )
    return [
        Offer(i, pl, t, tuple(tags or ()), d, _text(s), text or "")
        for i, pl, t, tags, d, s, text in rows
    ]


def read_decisions(conn: Connection) -> dict[tuple[str, str], MatchDecision]:
    rows = conn.execute(
        select(
            RoadmapDecision.initiative_id, RoadmapDecision.roadmap_item_id, RoadmapDecision.decision
        )
    )
    return {(i, r): MatchDecision(d) for i, r, d in rows}


def store_roadmap(conn: Connection, snapshot_id: int, rules: RoadmapRules) -> int:
    """Match every open initiative, value it on the snapshot's 12-month revenue, and store
    pairs, suggestions and coverage with snapshot ``snapshot_id``; the initiatives matched.

    When nothing matched has changed since the previous snapshot (same open initiatives,
    roadmap items, decisions and rules: the usual recompute after an invoice batch), its
    pairs and timings stand: the snapshot refers to them (``roadmap_matching.pairs_in``)
    and only the values at stake are computed again.
    """
    needs, offers, decisions = read_needs(conn), read_offers(conn), read_decisions(conn)
    mark = fingerprint(needs, offers, decisions, rules)
    previous = conn.execute(
        select(RoadmapMatching.snapshot_id, RoadmapMatching.fingerprint, RoadmapMatching.pairs_in)
        .where(RoadmapMatching.snapshot_id < snapshot_id)
        .order_by(RoadmapMatching.snapshot_id.desc())
        .limit(1)
    ).first()
    if previous is not None and previous.fingerprint == mark:
        pairs_in, coverage = previous.pairs_in, _stored_coverage(conn, previous.snapshot_id)
    else:
        result = match(needs, offers, rules, decisions)
        pairs_in, coverage = snapshot_id, _coverage_frame(needs, result)
        _write(
            conn, RoadmapMatch.__table__, result.table.copy(), snapshot_id, ints=("months_late",)
        )
    conn.execute(
        insert(RoadmapMatching),
        {"snapshot_id": snapshot_id, "fingerprint": mark, "pairs_in": pairs_in},
    )
    if coverage.empty:
        return 0
    revenue = dict(
        conn.execute(
            select(CustomerMeasure.customer_id, CustomerMeasure.revenue).where(
                CustomerMeasure.snapshot_id == snapshot_id
            )
        )
        .tuples()
        .all()
    )
    revenue = {c: stored_money(v) for c, v in revenue.items()}
    values = initiative_values(needs, revenue, rules)
    coverage["value_at_stake"] = coverage["initiative_id"].map(values)
    _write(
        conn,
        InitiativeCoverage.__table__,
        coverage,
        snapshot_id,
        ints=("months_late",),
        money=("value_at_stake",),
        json_cols=("served_by",),
    )
    return len(coverage)


# Bump when matching changes meaning, so no snapshot reuses pairs matched the old way.
MATCHING_VERSION = 1


def fingerprint(needs, offers, decisions, rules: RoadmapRules) -> str:
    """A digest of everything matching reads (the revenue is not: values are redone)."""
    digest = hashlib.sha256(f"v{MATCHING_VERSION}".encode())
    for part in (
        sorted(map(repr, needs)),
        sorted(map(repr, offers)),
        sorted(f"{k}={v.value}" for k, v in decisions.items()),
        [repr(rules)],
    ):
        digest.update(orjson.dumps(part))
    return digest.hexdigest()


def _coverage_frame(needs: list[Need], result) -> pd.DataFrame:
    customer = {n.initiative_id: n.customer_id for n in needs}
    return pd.DataFrame(
        [
            {
                "initiative_id": ini,
                "customer_id": customer[ini],
                "timing": cover.timing.value,
                "months_late": cover.months_late,
                "served_by": list(cover.served_by),
            }
            for ini, cover in result.coverage.items()
        ],
        columns=["initiative_id", "customer_id", "timing", "months_late", "served_by"],
    )


def _stored_coverage(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    c = InitiativeCoverage
    rows = conn.execute(
        select(c.initiative_id, c.customer_id, c.timing, c.months_late, c.served_by).where(
            c.snapshot_id == snapshot_id
        )
    ).all()
    return pd.DataFrame(
        [(i, cid, _text(t), m, list(s)) for i, cid, t, m, s in rows],
        columns=["initiative_id", "customer_id", "timing", "months_late", "served_by"],
    )


def _write(conn: Connection, table, frame: pd.DataFrame, snapshot_id: int, **how) -> None:
    frame.insert(0, "snapshot_id", snapshot_id)
    bulk_insert(conn, table, prepare(frame, list(frame.columns), **how))


def pairs_snapshot(conn: Connection, snapshot_id: int) -> int:
    """The snapshot whose ``roadmap_match`` rows hold ``snapshot_id``'s pairs."""
    found = conn.scalar(
        select(RoadmapMatching.pairs_in).where(RoadmapMatching.snapshot_id == snapshot_id)
    )
    return snapshot_id if found is None else found


def latest_snapshot(conn: Connection) -> int | None:
    return conn.scalar(
        select(Snapshot.snapshot_id)
        .where(Snapshot.status == SnapshotStatus.COMPLETE)
        .order_by(Snapshot.snapshot_id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Suggestion:
    initiative_id: str
    customer_id: str
    initiative: str
    roadmap_item_id: str
    item: str
    text_similarity: float
    months_late: int


def open_suggestions(engine: Engine) -> list[Suggestion]:
    """The latest snapshot's text-only suggestions nobody has decided on since."""
    with engine.connect() as conn:
        sid = latest_snapshot(conn)
        if sid is None:
            return []
        decided = set(read_decisions(conn))
        rows = conn.execute(
            select(
                RoadmapMatch.initiative_id,
                Initiative.customer_id,
                Initiative.title,
                RoadmapMatch.roadmap_item_id,
                RoadmapItem.title,
                RoadmapMatch.text_similarity,
                RoadmapMatch.months_late,
            )
            .join(Initiative, Initiative.initiative_id == RoadmapMatch.initiative_id)
            .join(RoadmapItem, RoadmapItem.roadmap_item_id == RoadmapMatch.roadmap_item_id)
            .where(
                RoadmapMatch.snapshot_id == pairs_snapshot(conn, sid),
                RoadmapMatch.via == Via.TEXT,
            )
            .order_by(RoadmapMatch.text_similarity.desc(), RoadmapMatch.initiative_id)
        ).all()
    return [Suggestion(*r) for r in rows if (r[0], r[3]) not in decided]


class UnknownPair(AccountopsError):
    code = "UNKNOWN_PAIR"


def may_decide(engine: Engine, identity: Identity, customer_id: str) -> bool:
    """Whether ``identity`` may decide on the suggested matches of ``customer_id``'s
    initiatives (what the plan page asks; :func:`decide` checks again)."""
    return may_act_on_account(engine, identity, Action.DECIDE_ROADMAP, customer_id)


def decide(
    engine: Engine,
    identity: Identity,
    initiative_id: str,
    roadmap_item_id: str,
    decision: MatchDecision | str,
) -> datetime:
    """Record a planner's (or an admin's) decision on a pair; the latest decision stands.

    A planner decides only for the accounts assigned to them, as for plans. The decision
    and who made it go to the audit log; it counts from the next recompute on.
    """
    decision = MatchDecision(decision)
    require(
        identity,
        Action.DECIDE_ROADMAP,
        engine=engine,
        target_type="initiative",
        target_id=initiative_id,
    )
    with engine.connect() as conn:
        customer_id = conn.scalar(
            select(Initiative.customer_id).where(Initiative.initiative_id == initiative_id)
        )
        item = conn.scalar(
            select(RoadmapItem.roadmap_item_id).where(
                RoadmapItem.roadmap_item_id == roadmap_item_id
            )
        )
    if customer_id is None:
        raise UnknownPair(f"unknown initiative {initiative_id!r}")
    if item is None:
        raise UnknownPair(f"unknown roadmap item {roadmap_item_id!r}")
    manager_id, assigned = account_facts(engine, identity.username, customer_id)
    require_customer(
        identity,
        Action.DECIDE_ROADMAP,
        customer_id=customer_id,
        customer_manager_id=manager_id,
        engine=engine,
        assigned=assigned,
    )
    with transaction(engine) as session:
        session.execute(
            delete(RoadmapDecision).where(
                RoadmapDecision.initiative_id == initiative_id,
                RoadmapDecision.roadmap_item_id == roadmap_item_id,
            )
        )
        row = RoadmapDecision(
            initiative_id=initiative_id,
            roadmap_item_id=roadmap_item_id,
            decision=decision,
            decided_by=identity.username,
        )
        session.add(row)
        session.add(
            AuditEvent(
                actor=identity.username,
                action=f"roadmap.{decision.value}",
                target_type="initiative",
                target_id=initiative_id,
                detail=roadmap_item_id,
            )
        )
        session.flush()
        return row.decided_at


EXPORT_COLUMNS = [
    "customer_id",
    "initiative_id",
    "roadmap_item_id",
    "match",
    "months_late",
    "value_at_stake",
    "decided_by",
]


def roadmap_export(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """One row per initiative and item serving it (a gap once, with no item), as stored
    with snapshot ``snapshot_id``: the ``accountops export roadmap`` contract."""
    cover = conn.execute(
        select(
            InitiativeCoverage.customer_id,
            InitiativeCoverage.initiative_id,
            InitiativeCoverage.value_at_stake,
        ).where(InitiativeCoverage.snapshot_id == snapshot_id)
    ).all()
    pairs = conn.execute(
        select(
            RoadmapMatch.initiative_id,
            RoadmapMatch.roadmap_item_id,
            RoadmapMatch.timing,
            RoadmapMatch.months_late,
            RoadmapMatch.via,
        ).where(
            RoadmapMatch.snapshot_id == pairs_snapshot(conn, snapshot_id),
            RoadmapMatch.via != Via.TEXT,
        )
    ).all()
    serving: dict[str, list] = {}
    for p in pairs:
        serving.setdefault(p.initiative_id, []).append(p)
    rows = []
    for customer_id, ini, value in sorted(cover, key=lambda r: (r[0], r[1])):
        value = stored_money(value)
        for p in sorted(serving.get(ini, []), key=lambda p: p.roadmap_item_id):
            rows.append(
                [customer_id, ini, p.roadmap_item_id, _text(p.timing), p.months_late, value]
                + [_text(p.via)]
            )
        if ini not in serving:
            rows.append([customer_id, ini, None, "gap", 0, value, None])
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS, dtype=object)
