"""Window tables: the recompute's window aggregates kept with the roll-ups. Whatever the
refreshes and recomputes in between, a window table that names a window holds exactly
what aggregating the roll-ups for it gives, and the recompute's base frame is the same
read from it as computed afresh (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import delete, func, inspect, select

from models.config import load_config
from models.schema import RollupBatch
from models.value.early_windows import read_early_window, window_frame
from models.value.facts import Shortcuts, choose_sources, customer_base
from models.value.frames import frame_of
from models.value.recompute import recompute, refresh
from models.value.rollups import refresh_rollups
from models.value.window_tables import WINDOW_STATE, WINDOW_TABLES
from models.value.windows import Windows
from tests import value_builders as vb
from tests.unit.test_value_measures import build_book

AS_OF = date(2026, 6, 30)


def _hold(engine, as_of: date = AS_OF) -> None:
    with engine.begin() as conn:
        for name in WINDOW_TABLES:
            window_frame(conn, name, Windows(as_of, 12))


def _held(conn) -> dict[str, date]:
    rows = conn.execute(select(WINDOW_STATE.c.name, WINDOW_STATE.c.as_of_month))
    return dict(rows.tuples().all())


def _base(conn, stored: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    src = choose_sources(conn, Windows(AS_OF, 12))
    base, per_line = customer_base(conn, src, cuts=Shortcuts(stored_windows=stored))
    per_line = per_line.sort_values(["customer_id", "product_line_id"])
    return base.sort_values("customer_id").reset_index(drop=True), per_line.reset_index(drop=True)


def test_an_incremental_refresh_keeps_the_held_windows_exact(engine):
    build_book(engine)
    with engine.begin() as conn:
        assert refresh_rollups(conn).full_rebuild
    _hold(engine)
    with engine.connect() as conn:
        assert _held(conn) == {"sales": date(2026, 6, 1), "invoices": date(2026, 6, 1)}
        assert conn.scalar(select(func.count()).select_from(WINDOW_TABLES["sales"][0])) > 0
    vb.a_batch_of_new_rows(engine)
    with engine.begin() as conn:
        refreshed = refresh_rollups(conn)
        assert not refreshed.full_rebuild and refreshed.customers_rebuilt == 3
        # A was only paid: its invoices' rows were rebuilt, not its sales.
        assert refreshed.rebuilt == {"A", "B", "C"} and refreshed.sales_rebuilt == {"B", "C"}
        # The roll-ups and both windows equal a rebuild from the facts.
        vb.assert_rollups_match_a_full_rebuild(conn)
        assert vb.assert_windows_match_the_rollups(conn) == ["sales", "invoices"]
        # B's new June invoice is in the stored window.
        sales = WINDOW_TABLES["sales"][0]
        b_pl2 = conn.scalar(
            select(sales.c.revenue).where(
                sales.c.customer_id == "B", sales.c.product_line_id == "PL2"
            )
        )
        assert b_pl2 == 250


def test_the_base_frame_is_the_same_read_from_the_windows_as_computed_afresh(engine):
    build_book(engine)
    with engine.begin() as conn:
        refresh_rollups(conn)
    _hold(engine)
    vb.a_batch_of_new_rows(engine)
    with engine.begin() as conn:
        refresh_rollups(conn)
        stored, fresh = _base(conn, stored=True), _base(conn, stored=False)
    for a, b in zip(stored, fresh, strict=True):
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert stored[0]["revenue"].notna().any() and stored[0]["settled_due"].notna().any()


def test_another_window_rebuilds_the_table_and_a_full_refresh_forgets_it(engine):
    build_book(engine)
    with engine.begin() as conn:
        refresh_rollups(conn)
    _hold(engine)
    _hold(engine, date(2026, 3, 31))  # another month: rebuilt for it
    with engine.begin() as conn:
        assert _held(conn) == {"sales": date(2026, 3, 1), "invoices": date(2026, 3, 1)}
        vb.assert_windows_match_the_rollups(conn)
        conn.execute(delete(RollupBatch))  # the next refresh rebuilds everything
    with engine.begin() as conn:
        assert refresh_rollups(conn).full_rebuild
        assert _held(conn) == {}
        for table, _ in WINDOW_TABLES.values():
            assert conn.scalar(select(func.count()).select_from(table)) == 0


def test_recomputes_hold_the_window_of_their_as_of_date(engine):
    build_book(engine)
    config = load_config()
    first = recompute(engine, config, as_of=AS_OF)
    vb.a_batch_of_new_rows(engine)
    second = recompute(engine, config, as_of=AS_OF)
    with engine.connect() as conn:
        assert _held(conn) == {"sales": date(2026, 6, 1), "invoices": date(2026, 6, 1)}
        vb.assert_windows_match_the_rollups(conn)
    assert second.snapshot_id > first.snapshot_id
    assert second.refresh is not None and second.refresh.customers_rebuilt == 3


def test_migration_0009_fills_the_open_invoices_from_an_existing_rollup(engine):
    """A database whose roll-ups were built before 0009 gets its open invoices at once."""
    from models.migrate import downgrade, upgrade
    from models.value.invoice_state import open_invoice_select
    from models.value.rollups import INVOICES, OPEN_INVOICES

    build_book(engine)
    with engine.begin() as conn:
        refresh_rollups(conn)
    downgrade(engine, "0008")
    upgrade(engine)
    with engine.connect() as conn:
        vb.assert_table_holds(conn, OPEN_INVOICES, open_invoice_select(INVOICES))
        assert conn.scalar(select(func.count()).select_from(OPEN_INVOICES)) > 0


def test_a_snapshot_completed_during_the_refresh_is_the_one_migrated_from(engine, monkeypatch):
    """The inputs read beside the refresh name the latest snapshot then; when another
    recompute completes meanwhile, migrations are taken from that newer one."""
    import models.value.inputs as value_inputs

    build_book(engine)
    config = load_config()
    recompute(engine, config, as_of=date(2026, 3, 31))
    newer = recompute(engine, config, as_of=AS_OF)
    with engine.connect() as conn:
        stale = value_inputs.read_inputs(conn, AS_OF)
    # As if the inputs were read before ``newer`` completed: no previous snapshot yet.
    stale = value_inputs.Inputs(stale.customers, stale.wallet, previous_id=None, previous=None)
    monkeypatch.setattr(value_inputs, "read_inputs", lambda conn, as_of: stale)
    third = recompute(engine, config, as_of=AS_OF)
    assert third.migrations == {"same": third.customers_tiered}, third.migrations
    assert newer.snapshot_id < third.snapshot_id


def test_a_customer_without_invoices_in_the_current_window_is_stored_with_nulls(engine):
    """Counts over the current window are NULL for a customer who bought only before it;
    they arrive as floats beside the whole numbers and are stored as NULL integers."""
    build_book(engine)
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(conn, "Z1", "Z", date(2025, 3, 1), date(2025, 3, 31), [("PL1", "90", "50")], b)
        refresh_rollups(conn)
    _hold(engine)
    with engine.connect() as conn:
        vb.assert_windows_match_the_rollups(conn)
        invoices = WINDOW_TABLES["invoices"][0]
        row = conn.execute(
            select(invoices.c.invoice_count, invoices.c.settled_timed).where(
                invoices.c.customer_id == "Z"
            )
        ).one()
    assert tuple(row) == (0, None)


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    """Window rows in key order (customer, then product line for the sales)."""
    return rows.sort_values(list(rows.columns[:2])).reset_index(drop=True)


def _table_rows(conn, name: str) -> pd.DataFrame:
    return _sorted(frame_of(conn, select(WINDOW_TABLES[name][0])))


def test_window_rows_read_beside_a_refresh_catch_up_to_the_table(engine):
    """Rows read before a refresh, with the customers it rebuilt read again, are what the
    table holds after it (both tables), and differ from the rows as first read."""
    build_book(engine)
    recompute(engine, load_config(), as_of=AS_OF)
    windows = Windows(AS_OF, 12)
    with engine.connect() as conn:
        early = {name: read_early_window(conn, name, windows) for name in WINDOW_TABLES}
    vb.a_batch_of_new_rows(engine)
    refreshed = refresh(engine)
    assert refreshed.rebuilt == {"A", "B", "C"}
    with engine.connect() as conn:
        for name, rows in early.items():
            assert rows is not None
            now = _table_rows(conn, name)
            assert not _sorted(rows.frame).equals(now)  # the refresh changed the rows read
            caught_up = rows.after(refreshed).caught_up(conn)
            pd.testing.assert_frame_equal(_sorted(caught_up), now)
            # Through window_frame too, as the recompute reads them.
            pd.testing.assert_frame_equal(
                _sorted(window_frame(conn, name, windows, rows.after(refreshed))), now
            )


def test_early_window_rows_are_not_used_when_another_refresh_ran(engine):
    """A refresh this recompute did not run (its customers unknown here) makes the early
    rows unusable: the table is read again, and the result is still exact."""
    build_book(engine)
    recompute(engine, load_config(), as_of=AS_OF)
    windows = Windows(AS_OF, 12)
    with engine.connect() as conn:
        early = read_early_window(conn, "sales", windows)
    vb.a_batch_of_new_rows(engine)
    refresh(engine)  # another process's refresh, say
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(conn, "B3", "B", date(2026, 6, 2), date(2026, 7, 2), [("PL1", "90", "40")], b)
    ours = refresh(engine)
    assert ours.rebuilt == {"B"}
    with engine.connect() as conn:
        assert early.after(ours).caught_up(conn) is None
        now = _table_rows(conn, "sales")
        pd.testing.assert_frame_equal(
            _sorted(window_frame(conn, "sales", windows, early.after(ours))), now
        )


def test_no_early_rows_for_a_window_the_table_does_not_hold(engine):
    build_book(engine)
    recompute(engine, load_config(), as_of=AS_OF)
    with engine.connect() as conn:
        assert read_early_window(conn, "sales", Windows(AS_OF, 12)) is not None
        assert read_early_window(conn, "sales", Windows(date(2026, 5, 31), 12)) is None
        assert read_early_window(conn, "invoices", Windows(AS_OF, 6)) is None


def test_a_new_month_names_its_window_only_with_its_rows(engine, monkeypatch):
    """The first recompute of a month releases the previous month's window before its
    refresh, stores the new window's rows (on PostgreSQL on a connection of its own,
    models/value/windows_apart.py) and names the window in its own transaction: a
    recompute that fails after that leaves no table naming a window whose rows it does
    not hold; the next one holds the new month's window exactly."""
    import models.value.recompute as rc

    build_book(engine)
    config = load_config()
    recompute(engine, config, as_of=AS_OF)
    with engine.begin() as conn:  # a new month's invoice: the default as-of date moves on
        b = vb.batch(conn)
        vb.invoice(conn, "B9", "B", date(2026, 7, 31), date(2026, 8, 30), [("PL1", "90", "40")], b)

    def fails(*args, **kwargs):
        raise RuntimeError("the CLV store failed")

    with monkeypatch.context() as patch:
        patch.setattr(rc, "write_clv", fails)
        try:
            recompute(engine, config)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the recompute should have failed")
    with engine.connect() as conn:
        # Released before the refresh (which so rebuilt no rows of June's window), so
        # naming none.
        assert "sales" not in _held(conn)
        vb.assert_windows_match_the_rollups(conn)
    assert recompute(engine, config).as_of == date(2026, 7, 31)
    with engine.connect() as conn:
        assert _held(conn) == {"sales": date(2026, 7, 1), "invoices": date(2026, 7, 1)}
        assert vb.assert_windows_match_the_rollups(conn) == ["sales", "invoices"]
        # The keys dropped while the rows were written (PostgreSQL) are back, as declared.
        for table, _ in WINDOW_TABLES.values():
            key = inspect(conn).get_pk_constraint(table.name)
            assert key["constrained_columns"] == [c.name for c in table.primary_key.columns]
            if engine.dialect.name == "postgresql":
                assert key["name"] == table.primary_key.name


def test_releasing_windows_forgets_only_another_window(engine):
    from models.value.window_tables import release_windows

    build_book(engine)
    with engine.begin() as conn:
        refresh_rollups(conn)
    _hold(engine)
    with engine.begin() as conn:
        assert release_windows(conn, Windows(AS_OF, 12), ["sales", "invoices"]) == frozenset()
        assert _held(conn) == {"sales": date(2026, 6, 1), "invoices": date(2026, 6, 1)}
        released = release_windows(conn, Windows(date(2026, 3, 31), 12), ["sales"])
        assert released == {"sales"}
        assert _held(conn) == {"invoices": date(2026, 6, 1)}


def test_a_new_window_aggregated_beside_a_refresh_catches_up_to_the_rollups(engine):
    """Rows of a window no table holds, aggregated from the roll-ups before a refresh, with
    the customers it rebuilt aggregated again, are what aggregating the roll-ups gives
    after it (both tables); window_frame stores them and names the window."""
    from models.value.window_tables import window_rows

    build_book(engine)
    refresh(engine)
    windows = Windows(AS_OF, 12)
    with engine.connect() as conn:
        early = {n: read_early_window(conn, n, windows, aggregate=True) for n in WINDOW_TABLES}
    vb.a_batch_of_new_rows(engine)
    refreshed = refresh(engine)
    assert refreshed.rebuilt == {"A", "B", "C"}
    with engine.begin() as conn:
        for name, rows in early.items():
            assert rows is not None and rows.aggregated
            now = _sorted(frame_of(conn, window_rows(name, windows)))
            assert not _sorted(rows.frame).equals(now)  # the refresh changed the rows read
            pd.testing.assert_frame_equal(_sorted(rows.after(refreshed).caught_up(conn)), now)
            stored = window_frame(conn, name, windows, rows.after(refreshed))
            pd.testing.assert_frame_equal(_sorted(stored), now)
        assert _held(conn) == {"sales": date(2026, 6, 1), "invoices": date(2026, 6, 1)}
        assert vb.assert_windows_match_the_rollups(conn) == ["sales", "invoices"]


def test_a_window_adds_up_whole_cents_exactly_however_large(engine):
    """The sales window adds each customer and product line's cents exactly (up to 2**53
    cents, 90 trillion in money) and converts the sum to money once, on both databases:
    here amounts whose sum of money, each rounded to a double first, would be off."""
    from models.schema import SalesRollup
    from models.value.window_tables import window_rows

    windows = Windows(AS_OF, 12)
    cents = [300_000_000_000_000 + 333 * (2 * i + 1) for i in range(24)]  # ~3 trillion each
    months = [date(2024 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(24)]
    assert months[0] == windows.previous_start and months[-1] == windows.as_of_month
    with engine.begin() as conn:
        conn.execute(
            SalesRollup.__table__.insert(),
            [
                {
                    "customer_id": "X",
                    "product_line_id": "PL1",
                    "month": m,
                    "revenue": c,
                    "cost": -c,
                    "revenue_costed": c,
                    "line_count": 1,
                }
                for m, c in zip(months, cents, strict=True)
            ],
        )
        row = conn.execute(window_rows("sales", windows)).one()
    now, before = sum(cents[12:]), sum(cents[:12])
    assert (row.revenue, row.revenue_previous) == (now / 100, before / 100)
    assert (row.cost, row.revenue_costed) == (-now / 100, now / 100)
    # Money summed as doubles would not be: 36000000001438.57 against .56, and so before.
    assert sum(c / 100 for c in cents[12:]) != now / 100
    assert sum(c / 100 for c in cents[:12]) != before / 100


def test_a_window_is_stored_in_key_order(engine):
    """A window's rows are written in key order whatever order they come in: on
    PostgreSQL its key is then built from rows already sorted (see _in_key_order)."""
    from sqlalchemy import text

    from models.value.window_tables import SALES_WINDOW, fill_window

    keys = [(f"C{c}", f"PL{p}") for c in (3, 1, 2) for p in (2, 1)]
    frame = pd.DataFrame(keys, columns=["customer_id", "product_line_id"])
    frame[["revenue", "revenue_previous", "cost", "revenue_costed"]] = 1.0
    with engine.begin() as conn:
        fill_window(conn, "sales", frame)
        cols = SALES_WINDOW.c.customer_id, SALES_WINDOW.c.product_line_id
        # Storage order: the heap's on PostgreSQL, the key's itself on SQLite (WITHOUT ROWID).
        stored = (
            select(*cols).order_by(text("ctid"))
            if engine.dialect.name == "postgresql"
            else select(*cols)
        )
        assert conn.execute(stored).tuples().all() == sorted(keys)
