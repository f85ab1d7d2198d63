"""Funnel and forecast speed: states, probabilities, forecast and backtest at scale.

    python benchmarks/funnel.py [--opportunities 200000] [--moves 1000000]
        [--db sqlite|postgresql] [--url URL] [--seed 1]
        [--recompute-keep DIR]   # also time a recompute of the kept 50,000-customer book

1. Draws a synthetic book of opportunities (owners, product lines, amounts, expected
   close dates over five years) and their stage changes: forward moves one stage at a
   time, some regressions, won, lost and stalled deals.
2. Times, in memory, each part of :func:`models.funnel.compute.compute_funnel`: the
   history arrays, the period states (current period and the ones kept), conversion /
   time in stage / shape, the learned probabilities (replaying every closed period),
   the forecast, the backtest; and the whole of it.
3. Loads the book into a fresh database (PostgreSQL: a new database on the server at
   ACCOUNTOPS_TEST_PG_URL or --url; SQLite: a temporary file) and times what a recompute
   pays: :func:`models.funnel.store.store_funnel` (read, compute, write).
4. With ``--recompute-keep DIR`` (a book kept by ``benchmarks/recompute.py --keep DIR``,
   50,000 customers and 10M lines), runs that recompute in the same process and reports
   the funnel's share of it (the aim: under 10%).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import progress, report, stopwatch
from models.config import load_config
from models.funnel import forecast as fc
from models.funnel import states as st
from models.funnel.compute import compute_funnel
from models.funnel.history import History, day_number
from models.funnel.rules import FUNNEL, funnel_rules

AS_OF = date(2026, 9, 30)
STAGES = (*(s.value for s in FUNNEL), "won")


def draw_book(n: int, moves: int, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` opportunities with about ``moves`` stage changes in all."""
    end = day_number(AS_OF)
    per = max(1.0, moves / n)
    fate = rng.choice(4, n, p=(0.25, 0.1, 0.35, 0.3))  # open, stalled, won, lost
    reached = np.where(fate == 2, 6, rng.integers(1, 6, n))
    count = np.clip(np.round(rng.normal(per, 1.0, n)).astype(int), 1, 9)
    count = np.where(fate == 2, np.maximum(count, 7), count)
    created = end - rng.integers(30, 5 * 365, n)
    deal = np.repeat(np.arange(n), count)
    pos = np.arange(len(deal)) - np.repeat(np.cumsum(count) - count, count)
    last = pos == np.repeat(count - 1, count)
    stage = np.minimum(pos, np.repeat(reached, count))
    stage = np.where(last & np.repeat(fate == 2, count), 6, stage)
    back = (pos > 2) & ~last & (rng.random(len(deal)) < 0.05)
    stage = np.where(back, np.maximum(stage - 1, 0), stage)
    names = np.array([*STAGES, "lost"], dtype=object)
    code = np.where(last & np.repeat(fate == 3, count), 7, stage)
    gap = np.where(pos == 0, 0, rng.integers(3, 40, len(deal)))
    entered = np.repeat(created, count) + (
        np.cumsum(gap) - np.repeat(np.cumsum(gap)[np.cumsum(count) - count], count)
    )
    entered = np.minimum(entered, end)
    action = np.where((pos > 0) & (rng.random(len(deal)) > 0.05), "agreed to a demo", None)
    ids = np.char.add("OPP-", np.char.zfill(np.arange(n).astype(str), 7))
    epoch = np.datetime64("1970-01-01")
    deals = pd.DataFrame(
        {
            "opportunity_id": ids,
            "customer_id": np.char.add("C-", rng.integers(0, 50_000, n).astype(str)),
            "product_line_id": np.char.add("PL-", rng.integers(1, 9, n).astype(str)),
            "owner": np.char.add("AM-", rng.integers(1, 201, n).astype(str)),
            "amount": np.round(rng.lognormal(9, 1.2, n), 2),
            "created_on": (epoch + created.astype("timedelta64[D]")).astype(object),
            "expected_close_on": (
                epoch + (created + rng.integers(60, 400, n)).astype("timedelta64[D]")
            ).astype(object),
            "tier": rng.choice(["diamond", "gold", "strategic", "general"], n),
            "stage": names[code[np.cumsum(count) - 1]],
        }
    )
    book = pd.DataFrame(
        {
            "opportunity_id": ids[deal],
            "seq": pos + 1,
            "stage": names[code],
            "entered_on": (epoch + entered.astype("timedelta64[D]")).astype(object),
            "customer_action": action,
        }
    )
    return deals, book


def time_parts(deals: pd.DataFrame, moves: pd.DataFrame, rules) -> dict[str, float]:
    """Seconds of each part of the computation, then of the whole of it."""
    t: dict[str, float] = {}
    with stopwatch() as w:
        history = History.build(deals, moves)
    t["history_seconds"] = w()
    today = day_number(AS_OF)
    with stopwatch() as w:
        current = st.period_start(AS_OF, rules.period)
        _, view = st.period_states(history, current, AS_OF, rules)
        for back in range(1, rules.history_periods):
            start = st.shift_period(current, rules.period, -back)
            st.period_states(history, start, st.period_end(start, rules.period), rules)
    t["states_seconds"] = w()
    with stopwatch() as w:
        st.shape(history, view, rules), st.conversion(view), st.time_in_stage(history, today)
    t["shape_conversion_time_seconds"] = w()
    codes, names = fc.segments(history, rules)
    with stopwatch() as w:
        out = fc.outcomes(history, AS_OF, rules)
        probs = fc.learn(out, today, codes, names, rules)
    t["probabilities_seconds"] = w()
    with stopwatch() as w:
        fc.forecast(history, view, probs, codes, rules)
    t["forecast_seconds"] = w()
    with stopwatch() as w:
        fc.backtest(history, out, codes, names, AS_OF, rules)
    t["backtest_seconds"] = w()
    with stopwatch() as w:
        compute_funnel(deals, moves, rules, AS_OF)
    t["compute_seconds"] = w()
    return {k: round(v, 3) for k, v in t.items()}


def time_store(deals: pd.DataFrame, moves: pd.DataFrame, rules, db: str, url: str | None):
    """Seconds of store_funnel (read, compute, write) on a fresh database holding the book."""
    from sqlalchemy import create_engine, insert, text

    from models.db import make_engine
    from models.funnel.store import store_funnel
    from models.migrate import upgrade
    from models.schema import Customer, IngestBatch, Opportunity, OpportunityStage, Snapshot
    from models.value.store import bulk_insert

    with tempfile.TemporaryDirectory(prefix="accountops-funnel-") as tmp:
        admin = None
        if db == "postgresql":
            import os

            base = url or os.environ.get(
                "ACCOUNTOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
            )
            name = f"accountops_funnel_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            target = base.rsplit("/", 1)[0] + "/" + name
        else:
            target = f"sqlite:///{tmp}/funnel.db"
        engine = make_engine(target)
        try:
            upgrade(engine)
            progress("loading the book")
            with engine.begin() as conn:
                batch = conn.execute(
                    insert(IngestBatch).returning(IngestBatch.batch_id),
                    {
                        "source": "bench",
                        "entity": "opportunities",
                        "content_sha256": uuid.uuid4().hex * 2,
                        "status": "committed",
                    },
                ).scalar_one()
                customers = pd.DataFrame({"customer_id": deals["customer_id"].unique()})
                customers = customers.assign(
                    name=customers["customer_id"],
                    status="active",
                    named_strategic=False,
                    batch_id=batch,
                )
                for frame, model in (
                    (customers, Customer),
                    (
                        deals.drop(columns=["tier"])
                        .rename(columns={"owner": "owner_manager_id"})
                        .assign(
                            owner_manager_id=None,
                            product_line_id=None,
                            name="deal",
                            currency="EUR",
                            status="open",
                            batch_id=batch,
                        ),
                        Opportunity,
                    ),
                    (moves.assign(batch_id=batch), OpportunityStage),
                ):
                    cols = [c.name for c in model.__table__.columns if c.name in frame.columns]
                    bulk_insert(conn, model.__table__, frame[cols])
                sid = conn.execute(
                    insert(Snapshot).returning(Snapshot.snapshot_id),
                    {"as_of": AS_OF, "config_version": "bench", "status": "running"},
                ).scalar_one()
            with engine.begin() as conn, stopwatch() as w:
                store_funnel(conn, sid, AS_OF, rules)
            return round(w(), 3)
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--moves", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--recompute-keep",
        type=Path,
        default=None,
        help="a folder kept by benchmarks/recompute.py --keep: time it too",
    )
    args = parser.parse_args(argv)
    rules = funnel_rules(load_config())
    progress(f"drawing {args.opportunities:,} opportunities")
    deals, moves = draw_book(args.opportunities, args.moves, np.random.default_rng(args.seed))
    progress(f"{len(moves):,} stage changes; timing the computation")
    compute_funnel(
        deals.head(1000),
        moves[moves["opportunity_id"].isin(deals["opportunity_id"].head(1000))],
        rules,
        AS_OF,
    )  # warm-up
    parts = time_parts(deals, moves, rules)
    progress(f"computation: {parts}")
    store = time_store(deals, moves, rules, args.db, args.url)
    progress(f"store_funnel on {args.db}: {store} s")
    extra: dict = {
        "db": args.db,
        "store_funnel_seconds": store,
        "stage_changes": len(moves),
    } | parts
    baseline = baseline_seconds = None
    if args.recompute_keep is not None:
        from benchmarks import recompute as rb

        progress("timing the recompute of the kept book")
        figures = rb.main(
            ["--db", args.db, "--keep", str(args.recompute_keep)]
            + (["--url", args.url] if args.url else [])
        )
        baseline, baseline_seconds = "recompute at 50,000 customers", figures["seconds"]
        extra["share_of_recompute"] = round(store / figures["seconds"], 3)
    return report(
        "funnel",
        args.opportunities,
        store,
        baseline=baseline,
        baseline_seconds=baseline_seconds,
        **extra,
    )


if __name__ == "__main__":
    main()
