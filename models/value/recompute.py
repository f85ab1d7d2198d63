"""The recompute service: one new snapshot of the value engine's results, in steps.

1. Bring the roll-ups up to date (a transaction of its own); meanwhile, on a second
   connection, read what the refresh does not change (models/value/inputs.py).
2. Compute the measures, tiers, receivables and segments at the as-of date
   (:func:`compute`), in the transaction of step 3, which stores the segments as soon
   as they are classified.
3. In one transaction: the snapshot row; each customer's measures, receivables,
   segments, tier with its reasons, and migration since the previous snapshot; the
   account managers' measures; the plans reviewed, the roadmap matched and the sales
   funnel with its forecast (models/funnel/) on this snapshot's data; the customers'
   lifetime value fitted on the summary of their purchase days at the as-of date
   (models/value/clv_store.py), which is done beside steps 2 and 3, in a transaction of
   its own since it also keeps the purchase days per customer (brought up to date
   for those the refresh rebuilt: models/value/purchases.py); then the snapshot marked
   complete. The funnel, which reads only the opportunities, is computed beside steps 2
   and 3 as well (unless it is segmented by tier: then after the tiers).

Computations are functions of (data, rules, as_of): nothing here reads the clock;
the snapshot's timestamps come from the database. What runs beside what is decided
here; how (a worker thread, a second connection) lives in models/value/parallel.py, and
what runs on a connection of its own in models/value/apart.py.
Progress goes to the ``progress`` callable the caller passes, if any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, update

from models.config import config_version
from models.errors import AccountopsError
from models.funnel.rules import funnel_rules
from models.funnel.store import store_funnel
from models.plans.review import store_plan_reviews
from models.plans.rules import plan_rules
from models.roadmap.rules import roadmap_rules
from models.roadmap.store import store_roadmap
from models.schema import Snapshot, SnapshotStatus

from .aggregates import BaseAggregates, base_aggregates
from .apart import Apart, funnel_apart, lifetime_values_apart, windows_apart
from .clv_store import write_clv
from .dbtuning import analyze, tune_for_aggregates
from .facts import (
    Shortcuts,
    choose_sources,
    customer_base,
    default_as_of,
    per_line_sales,
)
from .inputs import Inputs, read_inputs, refresh, refresh_reading_inputs
from .measures import AMOUNTS, MEASURES, derive_measures
from .migrations import explain_migrations
from .parallel import beside_transaction, beside_writes, collector_spared, worker
from .receivables import receivables_table
from .results import (
    RESULT_TABLES,
    TableRows,
    load_tiered,
    previous_snapshot,
    segment_rows,
    store_customer_results,
)
from .rollups import RollupRefresh, applied_batches
from .rules import ValueRules, value_rules
from .segments import classify_segments
from .tiers import place_tiers
from .windows import Windows
from .windows_apart import WindowsApart

__all__ = [
    "STEPS",
    "Inputs",
    "NoDataToRecompute",
    "Progress",
    "RecomputeResult",
    "compute",
    "load_tiered",
    "previous_snapshot",
    "read_inputs",
    "recompute",
    "refresh",
]

# Called as each step starts: (what it does, steps done, steps in all); once more with
# ("snapshot complete", len(STEPS), len(STEPS)) when the snapshot is committed.
Progress = Callable[[str, int, int], None]

STEPS = (
    "refreshing the roll-ups",
    "computing measures, tiers, receivables and segments",
    "writing the customers' results, tier reasons and migrations",
    "reviewing the plans, matching the roadmap and forecasting the funnel",
    "fitting and storing the customers' lifetime value",
)


class NoDataToRecompute(AccountopsError):
    """Nothing to compute from: no invoices and no as-of date."""

    code = "NO_DATA"


@dataclass(frozen=True)
class RecomputeResult:
    """The snapshot a recompute stored: its id and as-of date, customers per tier and
    per kind of migration, and what the roll-up refresh did (None: not refreshed)."""

    snapshot_id: int
    as_of: date
    customers_tiered: int
    tier_counts: dict[str, int]
    migrations: dict[str, int]
    refresh: RollupRefresh | None


def compute(
    conn: Connection,
    rules: ValueRules,
    as_of: date,
    inputs: Inputs,
    refreshed: RollupRefresh | None = None,
    by_parts: BaseAggregates | None = None,
    windows_apart: WindowsApart | None = None,
    segment_rows: Callable[[pd.DataFrame], TableRows] | None = None,
) -> dict[str, Any]:
    """Every result frame for ``as_of``, the tiers' reasons and the migrations since
    ``inputs.previous`` included; writes only the window tables it reads (a new
    window's rows: by ``windows_apart``'s worker if given, see models/value/windows_apart.py).
    ``refreshed``: what the refresh did since ``inputs`` were read (none: nothing).
    ``by_parts``: the fast path's base aggregates read range of customers by range
    (:class:`~models.value.aggregates.PartitionedAggregates`, scale-out) instead of
    through the window tables; the plain implementation, if the rules name it, wins.
    ``segment_rows``, if given, encodes the segments for their table: the worker that
    classifies them does, and this thread writes them as soon as the base aggregates are
    in hand (the recompute stores them so).

    The segments need only the sales per product line and the wallet: a worker thread
    classifies them while this one waits on the database for the invoice aggregates
    (SQLite, too, runs an aggregate without holding the GIL). The measures, tiers and
    receivables are then computed beside the segments' write on PostgreSQL, whose COPY
    (the largest result: one row per customer and product line) waits on the server
    without holding the GIL (see :func:`models.value.parallel.beside_writes`).
    """
    windows = Windows(as_of, rules.window_months)
    buckets = _three(rules.bucket_days)
    plain = rules.base_aggregates == "plain"  # the rules file's value.base_aggregates
    if plain:
        base, per_line = base_aggregates(conn, windows, buckets, "plain")
    elif by_parts is not None:
        base, per_line = by_parts(conn, windows, buckets)
    else:
        src = choose_sources(conn, windows)
        early = {name: rows.after(refreshed) for name, rows in inputs.windows.items()}
        cuts = Shortcuts(True, early, windows_apart, customers=inputs.customers)
        per_line = per_line_sales(conn, src, cuts)
    sales = per_line[["customer_id", "product_line_id", "revenue", "revenue_previous"]].copy()
    with worker("recompute-segments") as pool, beside_writes(conn, "recompute-tiers") as tiers:
        segments = pool.submit(classify_segments, inputs.wallet, sales, rules)
        encoded = None
        if segment_rows is not None:
            encoded = pool.submit(lambda: segment_rows(segments.result()))
        if not plain and by_parts is None:
            base, _ = customer_base(conn, src, buckets, replace(cuts, per_line=per_line))
        tiering = tiers.submit(_measures_and_tiers, base, windows, rules)
        # Worded and explained on the same worker, in order, while this thread writes the
        # segments: pandas and string work that had waited for the result writes (0.6 s).
        wording = tiers.submit(lambda: tiering.result()["placement"].reasons(rules))
        moving = tiers.submit(
            lambda: explain_migrations(inputs.previous, tiering.result()["tiered"].copy(), rules)
        )
        if encoded is not None:
            encoded.result().write(conn)
        return {
            "windows": windows,
            **tiering.result(),
            "reasons": wording.result(),
            "migrations": moving.result(),
            "segments": segments.result(),
        }


def _measures_and_tiers(base: pd.DataFrame, windows: Windows, rules: ValueRules) -> dict[str, Any]:
    """The measures from the base aggregates, the tiers placed on them (alone, and
    ``tiered``: with the measures) and the receivables."""
    measures = derive_measures(base, windows)
    placement = place_tiers(measures, rules)
    tiered = placement.frame.merge(
        measures[["customer_id", "named_strategic", *MEASURES, *AMOUNTS]],
        on="customer_id",
        how="left",
    )
    return {
        "measures": measures,
        "placement": placement,
        "tiers": placement.frame,  # worded apart: placement.reasons(rules)
        "tiered": tiered,
        "receivables": receivables_table(measures, rules, windows.days),
    }


def _three(bounds: tuple[int, ...]) -> tuple[int, int, int]:
    """The three ageing bounds (the rules hold exactly three: models/value/rules.py)."""
    first, second, third = bounds
    return first, second, third


def recompute(
    engine: Engine,
    config: dict[str, Any],
    *,
    as_of: date | None = None,
    flow_run_id: str | None = None,
    refresh_first: bool = True,
    progress: Progress | None = None,
    by_parts: BaseAggregates | None = None,
) -> RecomputeResult:
    """Refresh the roll-ups, then compute and store one complete snapshot (the steps:
    see the module docstring and :data:`STEPS`).

    ``as_of`` defaults to the latest invoice date. ``progress``, if given, is called as
    each step starts (see :data:`Progress`). ``by_parts``: the base aggregates read in
    ranges of customers (see :func:`compute`). Raises :class:`NoDataToRecompute` when
    there is neither an invoice nor an ``as_of``.
    """

    def step(done: int) -> None:
        if progress is not None:
            what = STEPS[done] if done < len(STEPS) else "snapshot complete"
            progress(what, done, len(STEPS))

    rules = value_rules(config)
    if as_of is None:
        with engine.connect() as conn:
            as_of = default_as_of(conn)  # the latest invoice: the refresh changes no invoice
    if as_of is None:
        raise NoDataToRecompute("no invoices loaded: ingest data first, or pass --as-of")
    step(0)
    windows = Windows(as_of, rules.window_months)
    stored = rules.base_aggregates != "plain" and by_parts is None  # window tables read
    early = windows if stored else None
    funnel = funnel_rules(config)
    with (
        collector_spared(),
        beside_transaction(engine, "recompute-apart") as pool,
        beside_transaction(engine, "recompute-funnel") as funnel_pool,
        worker("recompute-windows") as window_pool,
    ):
        # The funnel reads only the opportunities, which the refresh does not change: it
        # is computed (in Python, mostly) while the refresh keeps the database busy, on a
        # worker of its own (unless it is segmented by tier: then after the tiers).
        # Queued behind a night's CLV it had been the last thing waited for.
        funnel_result = None
        if funnel.segment_by != "tier":
            funnel_result = funnel_pool.submit(funnel_apart, engine, as_of, funnel)
        # Window tables holding another window (the month's first recompute) are released
        # before the refresh, which then rebuilds no customer's rows in a window about to
        # be replaced (0.3-0.4 s of the database's time at 10M lines).
        new_windows = windows_apart(engine, window_pool, windows) if stored else None
        refreshed, inputs = refresh_reading_inputs(engine, as_of, early, refresh_first)
        # The CLV needs the refreshed roll-up and nothing computed below: it is fitted
        # while the measures, tiers and results are (1.5 s of 7.5 at 10M lines).
        clv = pool.submit(lifetime_values_apart, engine, as_of, config, refreshed)
        apart = Apart(clv, funnel, funnel_result, new_windows)
        snapshot_id, res, migrations = _compute_and_store(
            engine, config, rules, as_of, inputs, refreshed, flow_run_id, apart, step, by_parts
        )
    step(len(STEPS))
    counts = res["tiers"]["tier"].value_counts().sort_index()
    kinds = migrations["kind"].value_counts().sort_index()
    return RecomputeResult(
        snapshot_id=snapshot_id,
        as_of=as_of,
        customers_tiered=len(res["tiers"]),
        tier_counts={str(k): int(v) for k, v in counts.items()},
        migrations={str(k): int(v) for k, v in kinds.items()},
        refresh=refreshed,
    )


def _compute_and_store(
    engine: Engine,
    config: dict[str, Any],
    rules: ValueRules,
    as_of: date,
    inputs: Inputs | None,
    refreshed: RollupRefresh | None,
    flow_run_id: str | None,
    apart: Apart,
    step: Callable[[int], None],
    by_parts: BaseAggregates | None = None,
) -> tuple[int, dict[str, Any], pd.DataFrame]:
    """Steps 2 to 5 in one transaction: compute, then store the snapshot with its results,
    plan reviews, roadmap, funnel and the CLV computed ``apart``. Returns the snapshot id, the
    computed frames and the migrations."""
    with engine.begin() as conn:
        tune_for_aggregates(conn)
        inputs = inputs or read_inputs(conn, as_of)
        step(1)
        snapshot_id = _open_snapshot(conn, as_of, config, flow_run_id)
        prev_id = previous_snapshot(conn, snapshot_id)
        if prev_id != inputs.previous_id:  # another recompute completed meanwhile
            prev = load_tiered(conn, prev_id) if prev_id is not None else None
            inputs = replace(inputs, previous_id=prev_id, previous=prev)
        segments = partial(segment_rows, snapshot_id, dialect=conn.dialect.name)
        res = compute(conn, rules, as_of, inputs, refreshed, by_parts, apart.windows, segments)
        step(2)
        store_customer_results(conn, snapshot_id, prev_id, res, rules)
        migrations = res["migrations"]
        step(3)
        # Plans measured on this snapshot's data, stored with it (models/plans/review.py),
        # the roadmap matched against the customers' initiatives (models/roadmap/), and the
        # sales funnel with its forecast (models/funnel/).
        store_plan_reviews(conn, snapshot_id, as_of, plan_rules(config))
        store_roadmap(conn, snapshot_id, roadmap_rules(config))
        funnel = apart.funnel.result() if apart.funnel is not None else None
        store_funnel(conn, snapshot_id, as_of, apart.funnel_rules, funnel, res["tiers"])
        step(4)
        write_clv(conn, snapshot_id, apart.clv.result())
        if apart.windows is not None:
            apart.windows.name_stored(conn)  # the new window's rows, stored meanwhile
        _complete_snapshot(conn, snapshot_id, first=prev_id is None)
    return snapshot_id, res, migrations


def _open_snapshot(
    conn: Connection, as_of: date, config: dict[str, Any], flow_run_id: str | None
) -> int:
    """A new snapshot row, running, with the rules' version and the batches it reads."""
    return conn.execute(
        insert(Snapshot).returning(Snapshot.snapshot_id),
        {
            "as_of": as_of,
            "config_version": config_version(config),
            "status": SnapshotStatus.RUNNING,
            "flow_run_id": flow_run_id,
            "batch_ids": applied_batches(conn),
        },
    ).scalar_one()


def _complete_snapshot(conn: Connection, snapshot_id: int, *, first: bool) -> None:
    """Mark the snapshot complete and refresh the result tables' statistics.

    Each snapshot appends rows whose snapshot_id the statistics do not know yet; the
    other columns are distributed alike in every snapshot, so after the first one only
    snapshot_id is sampled again (0.15 s instead of 0.8 s at 50,000 customers).
    """
    conn.execute(
        update(Snapshot)
        .where(Snapshot.snapshot_id == snapshot_id)
        .values(status=SnapshotStatus.COMPLETE, finished_at=func.current_timestamp())
    )
    analyze(conn, RESULT_TABLES, () if first else ("snapshot_id",))
