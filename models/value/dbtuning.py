"""Database tuning for the value engine's large set-based statements.

Nothing here changes a result: these are the planner and memory settings, statistics
and physical row order that keep the roll-up refresh and the measures fast on
PostgreSQL (each function is a no-op, or returns its input, on SQLite).
"""

from __future__ import annotations

from sqlalchemy import Connection, Select, text

from models.schema import Invoice, InvoiceLine, Payment

_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__


def by_customer(conn: Connection, query: Select) -> Select:
    """``query`` with its rows in customer order, on PostgreSQL (as is on SQLite).

    Rows are stored in the order they are inserted, so a roll-up written this way keeps
    each customer's rows together (a rebuild appends them together too). The measures'
    parallel aggregates then see disjoint customers in each worker: the sales aggregate
    at 10M lines took 2.1 s instead of 3.2 s. Any order groups, so the cheap byte-wise
    collation sorts (a one-off cost of the first refresh: ~6 s for the sales roll-up).
    """
    if conn.dialect.name != "postgresql":
        return query
    return query.order_by(query.selected_columns.customer_id.collate("C"))


# Per transaction, PostgreSQL only. The default 4 MB of work memory makes the roll-up
# aggregates sort and hash on disk. (JIT is off in every session: models/db.py.)
_PG_SETTINGS = (("work_mem", "256MB"), ("random_page_cost", "1.1"))


def tune_for_aggregates(conn: Connection) -> None:
    """Give this transaction's large aggregates memory (a no-op on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in _PG_SETTINGS:  # constants above, never input
        conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")


def in_one_process(conn: Connection) -> None:
    """This transaction's statements without parallel workers (a no-op on SQLite).

    For an aggregate run beside other work on two cores: a new month's sales window
    (3.6M roll-up rows into 394,000 groups at 10M lines) took as long in one process as
    with two workers (1.3 s alone), whose partial groups, nearly as many as the rows
    out, are merged again at the end; the workers' CPU time was taken from the roll-up
    refresh and the other inputs' reads that run meanwhile."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


def summarize_batch_indexes(conn: Connection) -> None:
    """Summarize the new page ranges of the fact tables' BRIN ``batch_id`` indexes
    (PostgreSQL; a no-op on SQLite).

    A BRIN index answers "every page" for page ranges appended since it was last
    summarized (by VACUUM, which may not have run yet), so finding the new batches' rows
    read the whole of both fact tables: 3.7 s of an incremental refresh at 10M lines.
    Summarizing reads only the unsummarized ranges, the new batches' pages (the whole
    table once, on the first refresh, which reads it all anyway). ``payment``'s index is
    BRIN too: left out, the refresh's look for the new payments read all 3M of them
    (0.33 s at 10M lines).
    """
    if conn.dialect.name != "postgresql":
        return
    for table in (_inv, _line, _pay):
        for index in table.indexes:
            if index.dialect_options["postgresql"]["using"] == "brin":
                conn.execute(
                    text("SELECT brin_summarize_new_values(CAST(:index AS regclass))"),
                    {"index": index.name},
                )


def analyze_stale_facts(conn: Connection) -> tuple[str, ...]:
    """ANALYZE the fact tables (invoices, lines, payments) whose planner statistics are
    missing or stale by autovacuum's own rule (more rows changed since the last ANALYZE
    than ``autovacuum_analyze_threshold`` + ``autovacuum_analyze_scale_factor`` x rows),
    as read from the server's settings; returns their names (PostgreSQL; a no-op on
    SQLite).

    The ingest writes facts in bulk and analyzes nothing; autovacuum, when it runs at
    all, catches up later. Without statistics the refresh's look for a night's batches
    scanned all 10M lines and 3M payments instead of reading their BRIN ranges (0.73 s
    instead of 24 ms), and its other plans were guesses. A night changes ~0.3% of the
    rows: nothing is analyzed then, only after a bulk load (~1 s at 10M lines).
    """
    if conn.dialect.name != "postgresql":
        return ()
    stale = conn.scalars(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = ANY(CAST(:tables AS regclass[])) AND (c.reltuples < 0 OR "
            "s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8"
            " + current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples)"
        ),
        {"tables": [t.name for t in (_inv, _line, _pay)]},
    ).all()
    analyze(conn, tuple(stale))
    return tuple(stale)


def analyze(conn: Connection, tables: tuple[str, ...], columns: tuple[str, ...] = ()) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk write (a no-op on SQLite);
    with ``columns``, only those columns' statistics (and the table's row count).

    Right after a bulk load the planner still believes the tables are tiny and can
    pick nested loops that take minutes; ANALYZE of a few tables takes milliseconds.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    only = f" ({', '.join(quote(c) for c in columns)})" if columns else ""
    for name in tables:  # our own table and column names, never input
        conn.exec_driver_sql(f"ANALYZE {quote(name)}{only}")
