"""Write a deterministic, realistic set of the ten canonical CSV files and sample plans.

Reference data (managers, product lines, customers, roadmap) is drawn whole;
everything that grows with the number of customers (invoices, payments, wallet
estimates, opportunities, initiatives) is drawn and appended one chunk of
customers at a time, so memory stays flat however large the sample. The
strategic accounts' plans (``plans/<customer_id>.yaml``) are written last, from
what the chunks drew for those accounts. Beside the canonical files, the roadmap
matching's answer key (``intended/roadmap_intended_pairs.csv``, see
:mod:`models.sampledata.roadmap`) is appended chunk by chunk with the initiatives;
it lies in a folder of its own, so ingesting the sample folder never reads it. With
``bad_rows``, a handful of bad rows follow the good ones, with their answer key in the
same folder (:mod:`models.sampledata.bad_rows`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from models.canonical import ENTITIES, LOAD_ORDER

from . import bad_rows as bad
from .columns import CsvFiles
from .customers import draw_customers, draw_managers, draw_turns, product_lines_table
from .funnel import draw_opportunities
from .invoices import Counters, draw_catalogue, draw_sales
from .plans import PLANS_DIR, PlanFacts, pick_accounts, write_plans
from .roadmap import INTENDED_DIR, IntendedPairs, draw_initiatives, draw_roadmap
from .wallet import draw_wallet
from .window import Window, chunk_rng

# Fixed, never derived from the machine: the chunk size shapes the random
# streams, so changing it changes the output (though not its statistics).
CHUNK_CUSTOMERS = 2_000
LINES_PER_CUSTOMER_YEAR = 200 / 3

# One random stream per kind of draw, so adding draws to one generator does not
# shift the numbers of another.
_MANAGERS, _CUSTOMERS, _CATALOGUE, _ROADMAP = 1, 2, 3, 4
_SALES, _WALLET, _FUNNEL, _INITIATIVES = 11, 12, 13, 14
_PLANS = 15
_TURNS = 17  # the customers whose payment behaviour turns (customers.draw_turns)
# The roadmap's and initiatives' descriptions: streams of their own, so the words drawn
# never shift the structure (tags, dates, kinds) drawn on _ROADMAP and _INITIATIVES.
_ROADMAP_TEXT, _INITIATIVE_TEXT = 5, 16


def generate_sample(
    out_dir: Path,
    *,
    customers: int = 500,
    years: int = 3,
    seed: int = 42,
    end_date: date = date(2026, 9, 30),
    progress: Callable[[str, int], None] | None = None,
    bad_rows: bool = False,
) -> dict[str, int]:
    """Write the 10 canonical CSVs into out_dir; return {file_name: data_row_count}.

    Also writes one strategic-account plan per strategic account into
    ``out_dir/plans/`` (see :mod:`models.sampledata.plans`) and the roadmap matching's
    answer key into ``out_dir/intended/`` (see :mod:`models.sampledata.roadmap`),
    replacing those folders whole as each CSV file is replaced. The same arguments give
    byte-identical files.
    Every event date (invoices, payments, stage changes, hires and departures) lies
    on or before ``end_date``; invoices, payments and stage changes lie within the
    ``years`` years ending there. Forward-looking dates (due dates, expected closes,
    planned releases, needed-by dates) may lie after it. ``progress`` is called
    with ``(file_name, rows_written_so_far)`` after each file or chunk. ``bad_rows``
    appends a few rows the ingest quarantines, listed in
    ``out_dir/intended/quarantined_on_purpose.csv`` (:mod:`models.sampledata.bad_rows`);
    the counts include them.
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if not 1 <= years <= 50:
        raise ValueError(f"years must be between 1 and 50, got {years}")
    if seed < 0:
        raise ValueError(f"seed must be zero or positive, got {seed}")
    window = Window.ending(end_date, years)
    managers = draw_managers(chunk_rng(seed, _MANAGERS), customers, window)
    book, customer_table = draw_customers(
        chunk_rng(seed, _CUSTOMERS), customers, window, managers, LINES_PER_CUSTOMER_YEAR
    )
    book = draw_turns(chunk_rng(seed, _TURNS), book, window)
    catalogue = draw_catalogue(chunk_rng(seed, _CATALOGUE))
    roadmap = draw_roadmap(chunk_rng(seed, _ROADMAP), chunk_rng(seed, _ROADMAP_TEXT), window)
    named = customer_table["named_strategic"].to_numpy(zero_copy_only=False)
    facts = PlanFacts.start(pick_accounts(book, named), book, window)
    # Written into a staging folder and moved into place only when complete, so an
    # interrupted run never leaves a half-written sample that looks whole.
    out_dir = Path(out_dir)
    staging = out_dir / f".partial-{os.getpid()}"
    try:
        counts = _write_all(
            staging,
            seed,
            customers,
            window,
            managers,
            book,
            customer_table,
            catalogue,
            roadmap,
            facts,
            progress,
            bad_rows,
        )
        plans = chunk_rng(seed, _PLANS)
        write_plans(staging / PLANS_DIR, plans, facts, book, customer_table, managers, end_date)
        # The plans and the answer key first: a sample is whole once its last CSV file
        # is in place.
        for folder in (PLANS_DIR, INTENDED_DIR):
            if (out_dir / folder).exists():
                os.replace(out_dir / folder, staging / f"old-{folder}")
            os.replace(staging / folder, out_dir / folder)
        for name in counts:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _write_all(
    out_dir,
    seed,
    customers,
    window,
    managers,
    book,
    customer_table,
    catalogue,
    roadmap,
    facts,
    progress,
    bad_rows,
) -> dict[str, int]:
    counters = Counters()
    chunked: tuple[str, ...] = ("invoice_lines", "payments", "wallet_estimates", "opportunities")
    chunked += ("opportunity_stages", "initiatives")
    with (
        CsvFiles(Path(out_dir), progress) as files,
        IntendedPairs(Path(out_dir) / INTENDED_DIR) as intended,
    ):
        files.write("account_managers", managers.table)
        files.write("product_lines", product_lines_table())
        files.write("customers", customer_table)
        files.write("roadmap_items", roadmap.table)
        files.report("account_managers", "product_lines", "customers", "roadmap_items")
        for chunk, lo in enumerate(range(0, customers, CHUNK_CUSTOMERS)):
            sl = slice(lo, min(lo + CHUNK_CUSTOMERS, customers))
            lines, payments, sales = draw_sales(
                chunk_rng(seed, _SALES, chunk), book, sl, window, catalogue, counters
            )
            files.write("invoice_lines", lines)
            files.write("payments", payments)
            del lines, payments
            files.write(
                "wallet_estimates",
                draw_wallet(chunk_rng(seed, _WALLET, chunk), book, sl, window, sales),
            )
            opportunities, stages = draw_opportunities(
                chunk_rng(seed, _FUNNEL, chunk),
                book,
                sl,
                window,
                counters,
                managers.table["manager_id"],
            )
            files.write("opportunities", opportunities)
            files.write("opportunity_stages", stages)
            initiatives = draw_initiatives(
                chunk_rng(seed, _INITIATIVES, chunk),
                chunk_rng(seed, _INITIATIVE_TEXT, chunk),
                book,
                sl,
                window,
                roadmap,
                counters,
            )
            files.write("initiatives", initiatives.table)
            intended.write(initiatives.intended)
            facts.add_chunk(sl, sales, initiatives.table)
            files.report(*chunked)
        if bad_rows:
            _plant_bad_rows(files, Path(out_dir) / INTENDED_DIR, book, window, catalogue, counters)
        counts = dict(files.rows)
    return {ENTITIES[e].file_name: counts[ENTITIES[e].file_name] for e in LOAD_ORDER}


def _plant_bad_rows(files, key_folder, book, window, catalogue, counters) -> None:
    """Append the bad rows after the good ones and write their answer key."""
    lines, payments = ENTITIES["invoice_lines"].file_name, ENTITIES["payments"].file_name
    planted = {
        "invoice_lines": bad.bad_invoice_lines(
            book, window, catalogue, counters, files.rows[lines]
        ),
        "payments": bad.bad_payments(book, window, counters, files.rows[payments]),
    }
    key: list[bad.Planted] = []
    for entity, (rows, what) in planted.items():
        key += bad.planted(entity, files.rows[ENTITIES[entity].file_name] + 2, what)
        files.write(entity, rows)
        files.report(entity)
    bad.write_key(key_folder, key)
