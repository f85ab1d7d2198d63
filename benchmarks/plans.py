"""Plans at scale: what the plan reviews add to a recompute, and concurrent plan saves.

    python benchmarks/plans.py [--customers 50000] [--lines 10000000] [--plans 1000]
        [--db sqlite|postgresql] [--url URL] [--keep DIR] [--savers 10] [--save-seconds 10]
        [--seed 1]

1. Builds benchmarks/recompute.py's synthetic book through that script (or reuses the one
   kept in ``--keep DIR``: the same folder and state as ``recompute.py --keep DIR``, so
   either script's kept book serves both) and copies it into a fresh database, batch 2
   loaded and not yet recomputed.
2. Stores ``--plans`` plans on random customers of the book (bulk insert, untimed): three
   years of targets on ~4 of the book's product lines each, ~5 stakeholders, ~4 contacts,
   ~4 actions.
3. Times the recompute with those plans stored (``recompute_seconds``; it reviews every
   plan in its transaction: ``plans_in_recompute_seconds``), then ``store_plan_reviews``
   alone on the same book under a scratch snapshot id, in transactions rolled back (the
   median of three: ``plans_seconds``; the sales read within it: ``plans_sales_seconds``).
   ``plans_share`` = plans_seconds / recompute_seconds (the aim: under 0.10).
4. On PostgreSQL, ``--savers`` threads, each signed in as a planner of its own, save plans
   through ``models.plans.service.save_plan`` for ``--save-seconds``, twice:
   ``distinct_accounts`` (each edits the plan of its own account, one target per save)
   and ``same_account`` (all race on one plan: a lost compare-and-set is a conflict; the
   loser reloads and tries again). Saves and conflicts per second, p50/p95 latency of
   one ``save_plan`` call. With ``--db sqlite`` this runs in a small scratch PostgreSQL
   database if the server answers, and is skipped with a note otherwise.

Databases it creates are dropped afterwards; a book kept with ``--keep`` stays (drop its
PostgreSQL template by hand when done, as for recompute.py). Without ``--keep`` the book
is built in a temporary folder and its template dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import recompute as book
from common import progress, report, stopwatch
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

import models.value.recompute as recompute_module
from models.access import Identity, Role
from models.config import load_config
from models.db import make_engine, transaction
from models.migrate import upgrade
from models.plans.assignments import assign_accounts
from models.plans.content import BuyingRole, PlanContent, canonical, parse_content
from models.plans.read import get_plan
from models.plans.review import account_sales, store_plan_reviews
from models.plans.rules import PlanRules
from models.plans.service import PlanConflict, save_plan
from models.schema import (
    AccountManager,
    AccountPlan,
    Customer,
    PlanRevision,
    PlanStatus,
    ProductLine,
)
from models.users import add_user
from models.value.dbtuning import tune_for_aggregates

BENCH_ACTOR = "bench-plans"
STANDALONE_RUNS = 3
STANCES = ("supporter", "supporter", "neutral", "opponent")
CHANNELS = ("meeting", "call", "e-mail", "workshop")


# --- plans --------------------------------------------------------------------------------


def plan_content(customer_id: str, rng, end: date) -> PlanContent:
    """One plan through :func:`parse_content`: the year before ``end``'s to the year after,
    ~4 product lines of targets a year, 5 stakeholders, 4 contacts and 4 actions."""
    first = end.year - 1
    names = [f"Person {k} of {customer_id}" for k in range(5)]
    stakeholders = [
        {
            "name": name,
            "title": "Head of purchasing" if k == 0 else f"Manager {k}",
            "role": list(BuyingRole)[k].value,
            "coach": k == 1 and rng.random() < 0.7,
            "stance": str(rng.choice(STANCES)),
            "influence": int(rng.integers(1, 6)),
            "relationship": int(rng.integers(1, 6)),
            "owner": "Account lead",
        }
        for k, name in enumerate(names)
    ]
    contacts = [
        {
            "stakeholder": names[k],
            "contacted_on": end - timedelta(days=int(rng.integers(0, 200))),
            "channel": CHANNELS[k],
            "note": "discussed next year's volumes",
        }
        for k in range(4)
    ]
    actions = [
        {
            "title": f"Action {k}",
            "owner": "Account lead",
            "due": end + timedelta(days=int(rng.integers(-120, 240))),
            "status": "done" if rng.random() < 0.3 else "open",
        }
        for k in range(4)
    ]
    targets = {
        year: {
            str(pl): str(round(float(rng.lognormal(10, 1)), 2))
            for pl in rng.choice(book.PRODUCT_LINES, int(rng.integers(3, 6)), replace=False)
        }
        for year in range(first, first + 3)
    }
    return parse_content(
        {
            "customer_id": customer_id,
            "title": f"Grow {customer_id}",
            "start_year": first,
            "end_year": first + 2,
            "objectives": ["Grow share of wallet", "Win the technical gatekeeper"],
            "account_team": {"account_lead": "Account lead", "solution_lead": "Solutions"},
            "buying_factors": ["relationship"],
            "targets": targets,
            "stakeholders": stakeholders,
            "contacts": contacts,
            "actions": actions,
        }
    )


def store_plans(engine, contents: list[PlanContent]) -> None:
    """Each content as a version-1 draft and its revision, in two bulk inserts: the rows
    ``create_plan`` writes (canonical content, columns copied out), without its checks."""
    now = datetime.now(UTC)
    plans, revisions = [], []
    for content in contents:
        data = canonical(content)
        cid, team = content.customer_id, content.account_team
        plans.append(
            {
                "plan_id": cid,
                "customer_id": cid,
                "title": content.title,
                "start_year": content.start_year,
                "end_year": content.end_year,
                "status": PlanStatus.DRAFT,
                "version": 1,
                "content": data,
                "account_lead": team.account_lead,
                "solution_lead": team.solution_lead,
                "delivery_lead": team.delivery_lead,
                "updated_by": BENCH_ACTOR,
                "updated_at": now,
                "edited_by": BENCH_ACTOR,
            }
        )
        revisions.append(
            {
                "plan_id": cid,
                "version": 1,
                "from_version": None,
                "actor": BENCH_ACTOR,
                "status": PlanStatus.DRAFT,
                "changed_fields": [key for key, value in data.items() if value],
                "content": data,
                "event": "create",
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(AccountPlan.__table__), plans)
        conn.execute(insert(PlanRevision.__table__), revisions)


def add_plans(engine, count: int, rng) -> list[str]:
    """``count`` plans on customers drawn at random from the book; their customer ids."""
    with engine.connect() as conn:
        customers = list(conn.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))
    if count > len(customers):
        raise SystemExit(f"--plans {count} is more than the book's {len(customers)} customers")
    chosen = [str(c) for c in rng.choice(customers, count, replace=False)]
    store_plans(engine, [plan_content(c, rng, book.END) for c in chosen])
    return chosen


# --- the recompute with plans ---------------------------------------------------------------


@contextlib.contextmanager
def timed_plan_reviews():
    """Time ``store_plan_reviews`` where the recompute calls it; yields a list of seconds."""
    seconds: list[float] = []
    original = recompute_module.store_plan_reviews

    def timed(*args, **kwargs):
        with stopwatch() as elapsed:
            result = original(*args, **kwargs)
        seconds.append(elapsed())
        return result

    recompute_module.store_plan_reviews = timed
    try:
        yield seconds
    finally:
        recompute_module.store_plan_reviews = original


def plans_alone(engine, snapshot_id: int, as_of: date) -> dict:
    """``store_plan_reviews`` on its own, as the recompute runs it (aggregate settings on),
    under a scratch snapshot id in transactions rolled back: the median of a few runs,
    and of the sales read within it."""
    scratch = snapshot_id + 1_000_000
    totals, sales_reads, reviewed, actual_rows = [], [], 0, 0
    with engine.connect() as conn:
        for _ in range(STANDALONE_RUNS):
            with conn.begin() as tx:
                tune_for_aggregates(conn)
                first = conn.scalar(select(func.min(AccountPlan.start_year)))
                first = min(first, as_of.year - 1)
                with stopwatch() as elapsed:
                    sales = account_sales(conn, as_of, first)
                sales_reads.append(elapsed())
                tx.rollback()
            with conn.begin() as tx:
                tune_for_aggregates(conn)
                with stopwatch() as elapsed:
                    reviewed = store_plan_reviews(conn, scratch, as_of, PlanRules())
                totals.append(elapsed())
                actual_rows = conn.scalar(
                    text("SELECT count(*) FROM plan_actual WHERE snapshot_id = :s"), {"s": scratch}
                )
                tx.rollback()
    return {
        "seconds": float(np.median(totals)),
        "runs": [round(t, 3) for t in totals],
        "sales_seconds": float(np.median(sales_reads)),
        "sales_customers": len(sales),
        "sales_rows": sum(len(v.by_year) + len(v.prior_months) for v in sales.values()),
        "reviewed": reviewed,
        "actual_rows": actual_rows,
    }


def recompute_with_plans(engine, config) -> dict:
    """Time the recompute with the plans stored, and the plan reviews within and alone."""
    with timed_plan_reviews() as inside, stopwatch() as rc_time:
        result = recompute_module.recompute(engine, config)
    seconds = rc_time()
    progress(f"recompute with plans: {seconds:.2f} s (reviews inside: {inside[0]:.3f} s)")
    alone = plans_alone(engine, result.snapshot_id, result.as_of)
    progress(
        f"store_plan_reviews alone: {alone['runs']} s, sales read {alone['sales_seconds']:.3f}"
    )
    return {
        "recompute_seconds": seconds,
        "plans_in_recompute_seconds": inside[0],
        "alone": alone,
        "as_of": result.as_of,
        "customers_tiered": result.customers_tiered,
    }


# --- the book --------------------------------------------------------------------------------


def kept_book(args, keep: Path) -> dict:
    """The state of the book kept in ``keep``, built first by benchmarks/recompute.py
    (its figures line goes to stderr: this script prints one line of its own)."""
    if not (keep / "state.json").exists():
        argv = ["--customers", str(args.customers), "--lines", str(args.lines)]
        argv += ["--db", args.db, "--seed", str(args.seed), "--keep", str(keep)]
        if args.url:
            argv += ["--url", args.url]
        progress(f"building the book with benchmarks/recompute.py {' '.join(argv)}")
        with contextlib.redirect_stdout(sys.stderr):
            book.main(argv)
    state = json.loads((keep / "state.json").read_text())
    if state.get("db", "postgresql") != args.db:
        raise SystemExit(f"{keep} keeps a {state.get('db', 'postgresql')} book, not {args.db}")
    if state["customers"] != args.customers or state["rows"] < args.lines * 0.99:
        progress(
            f"note: the kept book has {state['customers']:,} customers and {state['rows']:,} "
            "lines: those are measured, not --customers/--lines"
        )
    book._upgrade_kept(args, state)
    return state


def drop_template(args, state: dict) -> None:
    """Drop the PostgreSQL template of a book built for this run only."""
    if state.get("db", "postgresql") != "postgresql":
        return
    admin = book._admin(args)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{state["template"]}" WITH (FORCE)'))
    admin.dispose()


# --- concurrent saves ------------------------------------------------------------------------


@dataclass
class SaverLog:
    """One saver thread's outcomes: latency of each ``save_plan`` call by outcome."""

    saved: list[float] = field(default_factory=list)
    conflicts: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def edited(content: PlanContent, amount: Decimal) -> PlanContent:
    """``content`` with its first target (first year, first product line) set to ``amount``."""
    targets = {year: dict(lines) for year, lines in content.targets.items()}
    year = min(targets)
    targets[year][min(targets[year])] = amount
    return content.model_copy(update={"targets": targets})


def saver(engine, identity: Identity, customer_id: str, no: int, go, deadline, log) -> None:
    """Save the plan of ``customer_id`` again and again until ``deadline`` (after ``go``),
    one target changed to an amount no other save uses; after a conflict, reload."""
    state = get_plan(engine, customer_id)
    content, version, n = state.plan, state.version, 0
    go.wait()
    while time.perf_counter() < deadline[0]:
        n += 1
        new = edited(content, Decimal(no * 10_000_000 + n))
        start = time.perf_counter()
        try:
            saved = save_plan(engine, identity, new, based_on=version)
        except PlanConflict:
            log.conflicts.append(time.perf_counter() - start)
            state = get_plan(engine, customer_id)
            content, version = state.plan, state.version
            continue
        except Exception as exc:  # counted and shown; the other savers go on
            log.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            state = get_plan(engine, customer_id)
            content, version = state.plan, state.version
            continue
        log.saved.append(time.perf_counter() - start)
        content, version = new, saved.version


def race(engine, planners: list[Identity], accounts: list[str], seconds: float) -> dict:
    """Run one saver per planner on its account (the same one or not) for ``seconds``."""
    logs = [SaverLog() for _ in planners]
    go, deadline = threading.Barrier(len(planners) + 1), [float("inf")]
    threads = [
        threading.Thread(
            target=saver,
            args=(engine, who, account, no + 1, go, deadline, log),
            name=f"saver-{no}",
        )
        for no, (who, account, log) in enumerate(zip(planners, accounts, logs, strict=True))
    ]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    start = time.perf_counter()
    go.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    saved = [s for log in logs for s in log.saved]
    conflicts = [s for log in logs for s in log.conflicts]
    errors = [e for log in logs for e in log.errors]
    figures = {
        "savers": len(planners),
        "seconds": round(wall, 2),
        "saves": len(saved),
        "saves_per_second": round(len(saved) / wall, 1),
        "p50_ms": _ms(saved, 50),
        "p95_ms": _ms(saved, 95),
        "conflicts": len(conflicts),
        "conflicts_per_second": round(len(conflicts) / wall, 1),
        "conflict_p50_ms": _ms(conflicts, 50),
        "conflict_p95_ms": _ms(conflicts, 95),
        "errors": len(errors),
    }
    if errors:
        figures["first_error"] = errors[0]
    return figures


def _ms(seconds: list[float], q: int) -> float | None:
    return round(float(np.percentile(seconds, q)) * 1000, 1) if seconds else None


def planners_for(engine, savers: int, own: list[str], shared: str) -> list[Identity]:
    """``savers`` planner users, each assigned to its own account and to ``shared``."""
    names = [f"bench-planner-{no:02d}" for no in range(savers)]
    with transaction(engine) as session:
        for name in names:
            add_user(session, name, Role.PLANNER, None, actor=BENCH_ACTOR)
    admin = Identity(BENCH_ACTOR, Role.ADMIN)
    for name, account in zip(names, own, strict=True):
        assign_accounts(engine, admin, name, [account, shared])
    return [Identity(name, Role.PLANNER) for name in names]


def save_throughput(url: str, savers: int, seconds: float, accounts: list[str]) -> dict:
    """Both races on the PostgreSQL database ``url`` whose plans include ``accounts``
    (``savers`` + 1 of them: one each, then the shared one)."""
    # One pooled connection per saver, as a server would configure it for that many.
    engine = make_engine(url, pool_size=savers + 2)
    try:
        own, shared = accounts[:savers], accounts[savers]
        planners = planners_for(engine, savers, own, shared)
        distinct = race(engine, planners, own, seconds)
        progress(f"distinct accounts: {distinct}")
        same = race(engine, planners, [shared] * savers, seconds)
        progress(f"same account: {same}")
    finally:
        engine.dispose()
    return {"distinct_accounts": distinct, "same_account": same}


def scratch_postgres(args):
    """A small fresh PostgreSQL database for the saves when the book is on SQLite:
    (its URL, a function dropping it), or None when the server does not answer."""
    admin = book._admin(args)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        admin.dispose()
        progress(f"PostgreSQL at {admin.url!r} does not answer: {str(exc.orig).strip()[:120]}")
        return None
    admin.dispose()
    return book._database("postgresql", args.url, Path(tempfile.gettempdir()))


def small_book(url: str, customers: int, rng) -> None:
    """The book's product lines and managers and ``customers`` of its customers."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(ProductLine.__table__),
                [{"product_line_id": p, "name": p} for p in book.PRODUCT_LINES],
            )
            conn.execute(
                insert(AccountManager.__table__),
                [{"manager_id": f"AM-{i:04d}", "name": f"AM-{i:04d}"} for i in range(200)],
            )
        loader = book.Loader(engine)
        loader.load("customer", book.customers_frame(customers, rng), loader.batch("bench-plans"))
    finally:
        engine.dispose()


def saves_on_scratch(args, rng) -> dict | None:
    """The save races in a scratch PostgreSQL database (for ``--db sqlite``), or None."""
    made = scratch_postgres(args)
    if made is None:
        return None
    url, drop = made
    try:
        small_book(url, max(100, args.savers + 1), rng)
        engine = make_engine(url)
        try:
            accounts = add_plans(engine, args.savers + 1, rng)
        finally:
            engine.dispose()
        return save_throughput(url, args.savers, args.save_seconds, accounts)
    finally:
        drop()


# --- main ------------------------------------------------------------------------------------


def show(figures: dict) -> None:
    """A short table of the main figures on stderr."""
    rows = [
        ("recompute with plans", f"{figures['recompute_seconds']:.2f} s"),
        ("plan reviews inside it", f"{figures['plans_in_recompute_seconds']:.3f} s"),
        ("store_plan_reviews alone", f"{figures['plans_seconds']:.3f} s"),
        ("  of which the sales read", f"{figures['plans_sales_seconds']:.3f} s"),
        ("plans share (aim < 0.10)", f"{figures['plans_share']:.3f}"),
    ]
    for race_name in ("distinct_accounts", "same_account"):
        r = figures.get(race_name)
        if r is None:
            rows.append((race_name, figures.get("saves_note", "skipped")))
            continue
        rows.append(
            (
                f"{race_name} ({r['savers']} savers)",
                f"{r['saves_per_second']}/s saved, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
                f"{r['conflicts_per_second']}/s conflicts, {r['errors']} errors",
            )
        )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        progress(f"{name:<{width}}  {value}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--plans", type=int, default=1_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the book in")
    parser.add_argument("--savers", type=int, default=10)
    parser.add_argument("--save-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.plans < args.savers + 1:
        raise SystemExit(f"--plans must be at least --savers + 1 ({args.savers + 1})")
    rng = np.random.default_rng(args.seed)
    with contextlib.ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-plans-")))
        keep = args.keep
        if keep is None:
            keep = tmp / "book"
            keep.mkdir()
        state = kept_book(args, keep)
        if args.keep is None:
            cleanup.callback(drop_template, args, state)
        url, drop = book._fresh_copy(args, state, tmp)
        cleanup.callback(drop)
        engine = make_engine(url)
        cleanup.callback(engine.dispose)
        with stopwatch() as setup_time:
            accounts = add_plans(engine, args.plans, rng)
        progress(f"{args.plans:,} plans stored in {setup_time():.1f} s")
        measured = recompute_with_plans(engine, load_config())
        engine.dispose()
        if args.db == "postgresql":
            saves = save_throughput(url, args.savers, args.save_seconds, accounts)
            note = None
        else:
            saves = saves_on_scratch(args, rng)
            note = None if saves else "skipped: PostgreSQL does not answer (--url)"
            if saves:
                note = "on a scratch PostgreSQL database (the book is on SQLite)"
    alone = measured["alone"]
    figures = report(
        "plans",
        state["rows"],
        measured["recompute_seconds"],
        db=args.db,
        customers=state["customers"],
        customers_tiered=measured["customers_tiered"],
        plans=args.plans,
        as_of=measured["as_of"].isoformat(),
        recompute_seconds=round(measured["recompute_seconds"], 3),
        plans_in_recompute_seconds=round(measured["plans_in_recompute_seconds"], 3),
        plans_seconds=round(alone["seconds"], 3),
        plans_seconds_runs=alone["runs"],
        plans_sales_seconds=round(alone["sales_seconds"], 3),
        plans_sales_rows=alone["sales_rows"],
        plan_actual_rows=alone["actual_rows"],
        plans_share=round(alone["seconds"] / measured["recompute_seconds"], 4),
        plans_in_recompute_share=round(
            measured["plans_in_recompute_seconds"] / measured["recompute_seconds"], 4
        ),
        plans_setup_seconds=round(setup_time(), 2),
        kept=str(args.keep) if args.keep else None,
        saves_note=note,
        **(saves or {"distinct_accounts": None, "same_account": None}),
    )
    show(figures)
    return figures


if __name__ == "__main__":
    # The book's bulk loader binds numpy scalars on SQLite (as recompute.py's entry point).
    for numpy_scalar, python_type in ((np.int64, int), (np.float64, float), (np.bool_, bool)):
        sqlite3.register_adapter(numpy_scalar, python_type)
    main()
