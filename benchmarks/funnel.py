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
   the forecast, the backtest; and the whole of it (with the result frames). ``seconds``
   is the sum of states, probabilities, forecast and backtest (``core_seconds``).
3. Loads the book into a fresh database (PostgreSQL: a new database on the server at
   ACCOUNTOPS_TEST_PG_URL or --url; SQLite: a temporary file) and times what a recompute
   pays: :func:`models.funnel.store.store_funnel` (read, compute, write), and the read
   (``read_seconds``) and the write (``write_seconds``) alone.
4. With ``--recompute-keep DIR`` (a book kept by ``benchmarks/recompute.py --keep DIR``,
   50,000 customers and 10M lines), runs that recompute in the same process, as kept and
   with the opportunities loaded into its copy (untimed), and reports
   the funnel's shares of it (``core_share_of_recompute``: the aim is under 10%;
   ``compute_share_of_recompute``, ``store_funnel_share_of_recompute``, and what the
   opportunities add to the recompute as it runs, ``added_to_recompute_share_of_recompute``).
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
CORE = ("states_seconds", "probabilities_seconds", "forecast_seconds", "backtest_seconds")
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
    customer = rng.integers(0, 50_000, n)  # the customers of benchmarks/recompute.py's book
    epoch = np.datetime64("1970-01-01")
    deals = pd.DataFrame(
        {
            "opportunity_id": ids,
            "customer_id": np.char.add("C-", np.char.zfill(customer.astype(str), 7)),
            "product_line_id": np.char.add(
                "PL-", np.char.zfill(rng.integers(1, 9, n).astype(str), 2)
            ),
            "owner": np.char.add("AM-", np.char.zfill(rng.integers(0, 200, n).astype(str), 4)),
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


def load_opportunities(engine, deals: pd.DataFrame, moves: pd.DataFrame) -> None:
    """The opportunities and stage changes as one committed batch, with the customers,
    account managers and product lines they name where the database lacks them (a kept
    book of benchmarks/recompute.py has its customers and managers)."""
    from sqlalchemy import insert, select

    from models.schema import (
        AccountManager,
        Customer,
        IngestBatch,
        Opportunity,
        OpportunityStage,
        ProductLine,
    )
    from models.value.store import bulk_insert

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
        missing = {}
        for model, key, column in (
            (Customer, "customer_id", "customer_id"),
            (AccountManager, "manager_id", "owner"),
            (ProductLine, "product_line_id", "product_line_id"),
        ):
            have = set(conn.scalars(select(getattr(model, key))))
            ids = sorted(set(deals[column]) - have)
            missing[model] = pd.DataFrame({key: ids, "name": ids, "batch_id": batch})
        missing[Customer] = missing[Customer].assign(status="active", named_strategic=False)
        opportunities = deals.drop(columns=["tier"]).rename(columns={"owner": "owner_manager_id"})
        opportunities = opportunities.assign(
            name="deal", currency="EUR", status="open", batch_id=batch
        )
        frames = [*missing.items(), (Opportunity, opportunities)]
        frames.append((OpportunityStage, moves.assign(batch_id=batch)))
        for model, frame in frames:
            cols = [c.name for c in model.__table__.columns if c.name in frame.columns]
            bulk_insert(conn, model.__table__, frame[cols])


def time_store(deals: pd.DataFrame, moves: pd.DataFrame, rules, db: str, url: str | None):
    """Seconds of store_funnel (read, compute, write) on a fresh database holding the book."""
    from sqlalchemy import create_engine, delete, insert, text

    from models.db import make_engine
    from models.funnel.store import funnel_on, read_history, store_funnel, write_funnel
    from models.migrate import upgrade
    from models.schema import (
        FUNNEL_TABLES,
        Snapshot,
    )

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
            load_opportunities(engine, deals, moves)
            with engine.begin() as conn:
                sid = conn.execute(
                    insert(Snapshot).returning(Snapshot.snapshot_id),
                    {"as_of": AS_OF, "config_version": "bench", "status": "running"},
                ).scalar_one()
            with engine.begin() as conn:
                with stopwatch() as w:
                    store_funnel(conn, sid, AS_OF, rules)
                parts = {"store_funnel_seconds": round(w(), 3)}
                with stopwatch() as w:
                    read_history(conn, None)
                parts["read_seconds"] = round(w(), 3)
                result = funnel_on(conn, AS_OF, rules)
                for model in FUNNEL_TABLES:
                    conn.execute(delete(model))
                with stopwatch() as w:
                    write_funnel(conn, sid, result, {})
                parts["write_seconds"] = round(w(), 3)
            return parts
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
    stored = time_store(deals, moves, rules, args.db, args.url)
    progress(f"on {args.db}: {stored}")
    # What the issue measures: states, probabilities, forecast and backtest.
    core = sum(parts[k] for k in CORE)
    extra: dict = {"db": args.db, "stage_changes": len(moves), "core_seconds": round(core, 3)}
    extra |= parts | stored
    baseline = baseline_seconds = None
    if args.recompute_keep is not None:
        from benchmarks import recompute as rb

        kept = ["--db", args.db, "--keep", str(args.recompute_keep)]
        kept += ["--url", args.url] if args.url else []
        progress("timing the recompute of the kept book, then with the opportunities in it")
        plain = rb.main(kept)["seconds"]
        with_funnel = rb.main(kept, prepare=lambda e: load_opportunities(e, deals, moves))
        baseline, baseline_seconds = "recompute at 50,000 customers", plain
        extra["recompute_with_opportunities_seconds"] = with_funnel["seconds"]
        added = with_funnel["seconds"] - plain
        for name, seconds in (
            ("core", core),
            ("compute", parts["compute_seconds"]),
            ("store_funnel", stored["store_funnel_seconds"]),
            ("added_to_recompute", added),
        ):
            extra[f"{name}_share_of_recompute"] = round(seconds / plain, 3)
    return report(
        "funnel",
        args.opportunities,
        core,
        baseline=baseline,
        baseline_seconds=baseline_seconds,
        **extra,
    )


if __name__ == "__main__":
    main()
