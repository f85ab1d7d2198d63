"""The sample book looks like a B2B company's: its receivables, as the dashboard shows them
(read models over the refreshed snapshots, the rules' own functions behind them), are
mostly current, with a tail over 90 days of a few percent, a DSO in the usual range and a
bad-debt cover that is a small part of a year's sales; month after month, tiers move.

One seeded sample of 120 customers and two years, with snapshots a quarter apart, as of
the month ends the demo's first and last of four, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from flows.cli_demo import DEMO_END, month_ends
from models.config import load_config
from models.dashboard import read
from models.dashboard.refresh import refresh_dashboard
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.value.recompute import recompute
from models.value.rules import value_rules
from tests import value_builders as vb
from tests.conftest import PG_ADMIN_URL

CONFIG = load_config()
RULES = value_rules(CONFIG)
MONTHS = month_ends(DEMO_END, 4)[::3]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    generate_sample(out, customers=120, years=2, seed=42, end_date=DEMO_END)
    return out


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(request, tmp_path_factory) -> Iterator[Engine]:
    """A migrated database on each backend, one per module: the tests only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'accountops.db'}"
    else:
        admin = request.getfixturevalue("pg_admin")
        name = f"accountops_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()
    if request.param != "sqlite":
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def snapshots(engine, sample_dir) -> dict[date, int]:
    """The sample loaded and a refreshed snapshot per month end, oldest first."""
    vb.load_sample(engine, sample_dir)
    ids = {}
    for day in MONTHS:
        ids[day] = recompute(engine, CONFIG, as_of=day).snapshot_id
        refresh_dashboard(engine, ids[day], CONFIG)
    return ids


def test_month_ends_are_the_last_days_oldest_first():
    assert month_ends(DEMO_END, 4) == [
        date(2026, 6, 30),
        date(2026, 7, 31),
        date(2026, 8, 31),
        DEMO_END,
    ]
    assert month_ends(date(2026, 3, 31), 3) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_receivables_are_mostly_current_with_a_small_tail(engine, snapshots):
    for day, snapshot_id in snapshots.items():
        head = read.headline(engine, snapshot_id)
        revenue, outstanding, over_90 = head["revenue"], head["outstanding"], head["over_90"]
        assert outstanding > 0 and revenue > 0, day
        # A tail over 90 days, a few percent of what is open: not none, not half.
        assert Decimal("0.005") <= over_90 / outstanding <= Decimal("0.08"), (day, over_90)
        assert Decimal(30) <= head["dso_days"] <= Decimal(75), (day, head["dso_days"])
        # What it would take to make up the tail if it were lost: a small part of the
        # year's sales (the rule: loss / net margin, the Receivables page's figure).
        cover = read.credit_cost_of(engine, snapshot_id, RULES)
        assert cover["loss_over_90"] == over_90
        assert cover["sales_to_make_up"] <= Decimal("0.25") * revenue, (day, cover)
        assert head["collection_rate"] >= Decimal("0.9"), day


def test_tiers_move_between_month_ends(engine, snapshots):
    ids = list(snapshots.values())
    assert read.migrations(engine, ids[0])["from_tier"].eq("new").all()  # the first: all new
    for snapshot_id in ids[1:]:
        moves = read.migrations(engine, snapshot_id)
        moved = moves[(moves["from_tier"] != moves["to_tier"]) & (moves["from_tier"] != "new")]
        assert moved["customers"].sum() > 0, snapshot_id
        head = read.headline(engine, snapshot_id)
        assert head["upgrades"] > 0 and head["downgrades"] > 0
        assert head["previous_snapshot_id"] == snapshot_id - 1


def test_a_customer_falls_to_problem_as_it_stops_paying(engine, snapshots):
    """A defaulter (customers.draw_turns): paying well at the first month end, a Problem
    customer by the last, its collection rate below the floor."""
    floor = RULES.tiers["problem_collection_rate_below"]
    first, last = snapshots[MONTHS[0]], snapshots[MONTHS[-1]]
    before = read.customers(engine, first).set_index("customer_id")
    now = read.customers(engine, last).set_index("customer_id")
    fell = now.index[(now["tier"] == "problem") & (now["collection_rate"] < float(floor))]
    fell = [c for c in fell if c in before.index and before.at[c, "tier"] != "problem"]
    assert fell, "no customer fell to Problem for not paying"
    history = read.customer_history(engine, fell[0])
    assert list(history["snapshot_id"]) == list(snapshots.values())
    assert history["tier"].iloc[0] != "problem" and history["tier"].iloc[-1] == "problem"


def test_segment_effort_counts_every_account_and_customer_once(engine, snapshots):
    """The effort table (per manager and segment: accounts, distinct customers, potential
    and revenue) equals the same counts done in pandas from the snapshot's segments."""
    from sqlalchemy import select

    from models.dashboard.tables import UNASSIGNED
    from models.schema import Customer, CustomerSegment
    from models.value.frames import frame_of

    snapshot_id = snapshots[MONTHS[-1]]
    s, c = CustomerSegment.__table__, Customer.__table__
    with engine.connect() as conn:
        segments = frame_of(
            conn,
            select(s.c.customer_id, s.c.segment, s.c.potential, s.c.revenue).where(
                s.c.snapshot_id == snapshot_id
            ),
        )
        managers = frame_of(conn, select(c.c.customer_id, c.c.manager_id))
    rows = segments.merge(managers, on="customer_id")
    rows["manager_id"] = rows["manager_id"].fillna(UNASSIGNED)
    rows[["potential", "revenue"]] = rows[["potential", "revenue"]].astype(float)
    expected = rows.groupby(["manager_id", "segment"]).agg(
        accounts=("customer_id", "size"),
        customers=("customer_id", "nunique"),
        potential=("potential", "sum"),
        revenue=("revenue", "sum"),
    )
    effort = read.segment_effort(engine, snapshot_id).set_index(["manager_id", "segment"])
    assert len(effort) == len(expected) > 10
    got = effort.loc[expected.index]
    assert got["accounts"].astype(int).tolist() == expected["accounts"].tolist()
    assert got["customers"].astype(int).tolist() == expected["customers"].tolist()
    for money in ("potential", "revenue"):
        assert (got[money].astype(float) - expected[money]).abs().max() < 0.005, money


def test_every_unenforced_reference_resolves(engine, snapshots):
    """The references no constraint enforces (the result and dashboard tables' snapshot
    ids, the facts' keys) all resolve after the recomputes and refreshes."""
    from models.ingest.load import unresolved_references
    from models.schema import metadata

    with engine.connect() as conn:
        assert unresolved_references(conn, metadata) == []
