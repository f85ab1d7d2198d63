"""I1, amended rows, I6, I7, I8 and a foreign export through a mapping file."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from models.config import load_config
from models.ingest import ingest_config, load_mapping, sweep_stale_batches
from models.schema import (
    BatchStatus,
    Customer,
    IngestBatch,
    IngestChange,
    Invoice,
    InvoiceLine,
    QuarantineRecord,
)
from tests.ingest_builders import (
    AS_OF,
    BASE_ENTITIES,
    fixture_batch,
    online_retail_csv,
    read_rows,
    write_rows,
)

from .ingest_support import checksum, counts, integrity_ok, load

MAPPING = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "online-retail.yaml"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


def _load_base(engine, base):
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"


def test_i1_same_batch_five_times(base, engine):
    _load_base(engine, base)
    outcomes, snapshots = [], []
    for _ in range(5):
        start = time.perf_counter()
        outcomes.append(load(engine, base / "invoice_lines.csv").outcome)
        elapsed = time.perf_counter() - start
        snapshots.append((counts(engine), checksum(engine)))
        if len(outcomes) > 1:
            assert elapsed < 2
    assert outcomes == ["LOADED"] + ["DUPLICATE"] * 4
    assert all(s == snapshots[0] for s in snapshots)
    with engine.connect() as conn:
        committed = conn.execute(
            select(IngestBatch.batch_id).where(
                IngestBatch.entity == "invoice_lines", IngestBatch.status == BatchStatus.COMMITTED
            )
        ).all()
    assert len(committed) == 1


def test_amended_file_updates_rows_and_logs_changes(base, engine, tmp_path):
    _load_base(engine, base)
    assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    header, rows = read_rows(base / "invoice_lines.csv")
    amount = header.index("amount")
    rows[0][amount] = "12345.67"
    amended = write_rows(tmp_path / "invoice_lines.csv", header, rows)
    result = load(engine, amended)
    assert result.outcome == "LOADED"
    assert (result.rows_loaded, result.rows_updated) == (0, 1)
    with engine.connect() as conn:
        change = conn.execute(select(IngestChange.__table__)).one()
        line = conn.execute(
            select(InvoiceLine.amount, InvoiceLine.batch_id).where(
                InvoiceLine.invoice_id == rows[0][0], InvoiceLine.line_no == int(rows[0][1])
            )
        ).one()
    assert change.entity == "invoice_lines"
    assert change.natural_key == f"{rows[0][0]}/{rows[0][1]}"
    assert change.changes == {"amount": [rows[0][amount] and _plain(base, 0), "12345.67"]}
    assert change.previous_customer_id == rows[0][2]
    assert float(line.amount) == 12345.67 and line.batch_id == result.batch_id


def _plain(base, i):
    header, rows = read_rows(base / "invoice_lines.csv")
    text = rows[i][header.index("amount")]
    return text.rstrip("0").rstrip(".") if "." in text else text


@pytest.mark.parametrize("bad,expected", [(3, "LOADED"), (20, "REJECTED")])
def test_i6_row_quarantine_threshold(base, engine, tmp_path, bad, expected):
    _load_base(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    rows = rows[:1000]
    for i in range(bad):
        rows[i * 7][header.index("amount")] = "not-a-number"
    result = load(engine, write_rows(tmp_path / "invoice_lines.csv", header, rows))
    assert result.outcome == expected
    assert result.rows_quarantined == bad
    after = counts(engine)
    if expected == "LOADED":
        assert after["invoice_line"] == 1000 - bad
    else:
        assert after["invoice_line"] == 0 and result.error_code == "ROWS_ABOVE_THRESHOLD"


def test_i7_reingesting_one_month_leaves_its_neighbours_untouched(base, engine, tmp_path):
    _load_base(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    date_col, amount = header.index("invoice_date"), header.index("amount")
    edges = {"2026-02-28": None, "2026-03-15": None, "2026-04-01": None}
    picked = []
    for day in edges:
        r = next(r for r in rows if r[date_col] >= day)
        r = list(r)
        r[date_col] = day
        r[header.index("due_date")] = day
        picked.append(r)
    for i, r in enumerate(picked):
        r[0], r[1] = f"INV-EDGE-{i}", "1"
    assert load(engine, write_rows(tmp_path / "invoice_lines.csv", header, picked)).outcome == (
        "LOADED"
    )
    before = checksum(engine)
    march = [list(picked[1])]
    march[0][amount] = "1.00"
    (tmp_path / "m").mkdir()
    result = load(engine, write_rows(tmp_path / "m" / "invoice_lines.csv", header, march))
    assert result.rows_updated == 1
    with engine.connect() as conn:
        amounts = dict(conn.execute(select(InvoiceLine.invoice_id, InvoiceLine.amount)).all())
    assert float(amounts["INV-EDGE-1"]) == 1.0
    assert float(amounts["INV-EDGE-0"]) == float(picked[0][amount])
    assert float(amounts["INV-EDGE-2"]) == float(picked[2][amount])
    assert checksum(engine) != before


def test_i8_stale_started_batch_is_swept_and_does_not_block(base, engine):
    _load_base(engine, base)
    config = ingest_config()
    result = load(engine, base / "invoice_lines.csv")
    with engine.begin() as conn:  # pretend the load never finished, an hour and more ago
        # (a killed load leaves no rows, I3)
        for table in (InvoiceLine, Invoice):
            conn.execute(delete(table).where(table.batch_id == result.batch_id))
        conn.execute(
            update(IngestBatch)
            .where(IngestBatch.batch_id == result.batch_id)
            .values(
                status=BatchStatus.STARTED,
                started_at=datetime.now(UTC) - timedelta(minutes=5),
                claimed_host="elsewhere",
                claimed_pid=1,
                lease_until=datetime.now(UTC) - timedelta(seconds=config.claim_lease_seconds),
            )
        )
    assert sweep_stale_batches(engine) == 1
    with engine.connect() as conn:
        status = conn.scalar(
            select(IngestBatch.status).where(IngestBatch.batch_id == result.batch_id)
        )
    assert status == BatchStatus.ABANDONED
    again = load(engine, base / "invoice_lines.csv")
    assert again.outcome == "LOADED" and again.batch_id == result.batch_id


def test_foreign_export_through_the_online_retail_mapping(engine, tmp_path):
    path = online_retail_csv(tmp_path / "Online Retail.csv", 3000)
    mapping = load_mapping(MAPPING)
    result = load(engine, path, mapping=mapping)
    assert result.outcome == "LOADED", result.message
    assert result.rows_read == 3000
    assert result.rows_skipped > 0 and result.rows_quarantined == 0
    assert result.rows_loaded == 3000 - result.rows_skipped
    with engine.connect() as conn:
        lines = conn.execute(select(InvoiceLine.__table__)).all()
        batch = conn.execute(
            select(IngestBatch.__table__).where(IngestBatch.batch_id == result.batch_id)
        ).one()
    assert batch.rows_skipped == result.rows_skipped
    assert all(line.cost is None for line in lines)
    assert any(line.invoice_id.startswith("C") and line.quantity < 0 for line in lines)
    again = load(engine, path, mapping=mapping)
    assert again.outcome == "DUPLICATE"
    integrity_ok(engine)


def test_a_mapped_customer_id_too_long_for_its_column_is_quarantined_not_created(engine, tmp_path):
    """A customer the mapping would create from a row whose id the table cannot hold:
    that row is quarantined (VALUE_TOO_LONG) and no such customer is written, on both
    databases (PostgreSQL refused the whole load, SQLite stored the id)."""
    path = online_retail_csv(tmp_path / "Online Retail.csv", 3000)
    lines = path.read_bytes().split(b"\r\n")
    rows = [line.split(b",") for line in lines[1:] if line]
    sizes: dict[bytes, int] = {}
    for fields in rows:
        if fields[6]:  # an invoice of a customer: its lines all name it
            sizes[fields[0]] = sizes.get(fields[0], 0) + 1
    invoice = min(sizes, key=sizes.__getitem__)
    at = [i for i, fields in enumerate(rows, start=2) if fields[0] == invoice]
    for fields in rows:
        if fields[0] == invoice:
            fields[6] = b"7" * 65
    path.write_bytes(b"\r\n".join([lines[0], *(b",".join(f) for f in rows)]) + b"\r\n")
    result = load(engine, path, mapping=load_mapping(MAPPING))
    assert (result.outcome, result.rows_quarantined) == ("LOADED", len(at)), result.message
    with engine.connect() as conn:
        records = conn.execute(select(QuarantineRecord.__table__)).all()
        longest = conn.scalar(select(func.max(func.length(Customer.customer_id))))
    assert [(r.rule_code, r.line_no, r.column_name) for r in records] == [
        ("VALUE_TOO_LONG", line, "customer_id") for line in at
    ]
    assert "customer_id holds at most 64 characters" in records[0].message
    assert longest < 65


def test_config_override_of_threshold_is_used(base, engine, tmp_path):
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "row_quarantine_threshold": 0.5}
    _load_base(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    rows = rows[:10]
    rows[0][header.index("amount")] = "x"
    result = load(
        engine, write_rows(tmp_path / "invoice_lines.csv", header, rows), ingest_config(raw)
    )
    assert result.outcome == "LOADED" and result.rows_quarantined == 1


def test_parquet_file_loads_like_its_csv(base, engine, tmp_path):
    import pandas as pd

    _load_base(engine, base)
    frame = pd.read_csv(base / "invoice_lines.csv", dtype=str, keep_default_na=False)
    frame["line_no"] = frame["line_no"].astype(int)
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    frame.to_parquet(tmp_path / "invoice_lines.parquet")
    result = load(engine, tmp_path / "invoice_lines.parquet")
    assert result.outcome == "LOADED", result.message
    assert result.rows_loaded == len(frame)


def test_sql_query_source_loads_invoice_lines(base, engine, tmp_path):
    import pandas as pd
    from sqlalchemy import create_engine

    from models.ingest import QuerySource, ingest_query

    from .ingest_support import runner

    _load_base(engine, base)
    source_url = f"sqlite:///{tmp_path / 'erp.db'}"
    erp = create_engine(source_url)
    frame = pd.read_csv(base / "invoice_lines.csv", dtype=str, keep_default_na=False)
    frame.to_sql("erp_lines", erp, index=False)
    erp.dispose()
    config = ingest_config()
    query = QuerySource(source_url, "SELECT * FROM erp_lines", "invoice_lines")
    result = ingest_query(engine, query, validator=runner(config), config=config, as_of=AS_OF)
    assert result.outcome == "LOADED", result.message
    assert result.rows_loaded == len(frame)
    again = ingest_query(engine, query, validator=runner(config), config=config, as_of=AS_OF)
    assert again.outcome == "DUPLICATE"
    bad = QuerySource(source_url, "SELECT * FROM no_such_table", "invoice_lines")
    failed = ingest_query(engine, bad, validator=runner(config), config=config, as_of=AS_OF)
    assert failed.outcome == "REJECTED" and failed.error_code == "SOURCE_QUERY_FAILED"


def test_a_query_result_that_cannot_be_spooled_is_one_clear_error_and_nothing_recorded(
    base, engine, tmp_path, monkeypatch
):
    import pandas as pd
    import pyarrow.parquet as pq
    from sqlalchemy import create_engine

    from models.errors import AccountopsError
    from models.ingest import QuerySource, ingest_query
    from models.ingest.ledger import list_batches

    from .ingest_support import runner

    source_url = f"sqlite:///{tmp_path / 'erp.db'}"
    erp = create_engine(source_url)
    pd.read_csv(base / "invoice_lines.csv", dtype=str, keep_default_na=False).to_sql(
        "erp_lines", erp, index=False
    )
    erp.dispose()

    def full(self, table, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    config = ingest_config()
    query = QuerySource(source_url, "SELECT * FROM erp_lines", "invoice_lines")
    with pytest.raises(AccountopsError) as raised:
        ingest_query(engine, query, validator=runner(config), config=config, as_of=AS_OF)
    assert raised.value.code == "QUERY_NOT_SPOOLED"
    message = str(raised.value)
    assert "No space left on device" in message and "TMPDIR" in message
    assert "\n" not in message
    assert list_batches(engine) == []  # the source was fine: no rejected batch recorded


def test_a_source_failing_mid_query_is_told_even_if_the_spool_cannot_be_closed(
    engine, tmp_path, monkeypatch
):
    import pandas as pd
    import pyarrow.parquet as pq

    from models.ingest import QuerySource
    from models.ingest.errors import IngestError

    query = QuerySource(f"sqlite:///{tmp_path / 'erp.db'}", "SELECT 1", "invoice_lines")

    def frames(self, chunk_rows):
        yield pd.DataFrame({"invoice_id": ["I1"]})
        raise IngestError("SOURCE_QUERY_FAILED", self.name, "the connection dropped")

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(QuerySource, "frames", frames)
    monkeypatch.setattr(pq.ParquetWriter, "close", full)
    with pytest.raises(IngestError) as raised, query.spooled(100):
        pass
    assert raised.value.code == "SOURCE_QUERY_FAILED"


def test_corrected_file_replaces_its_quarantine_and_warn_policy_loads(base, engine, tmp_path):
    from models.ingest.ledger import list_batches, list_quarantine

    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "row_quarantine_threshold": 0.5}
    config = ingest_config(raw)
    _load_base(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    rows = [[*r, "note"] for r in rows[:10]]
    good = [list(r) for r in rows]
    rows[3][header.index("amount")] = "x"
    (tmp_path / "v1").mkdir()
    first = load(
        engine, write_rows(tmp_path / "v1" / "invoice_lines.csv", [*header, "notes"], rows), config
    )
    assert first.outcome == "LOADED" and first.rows_quarantined == 1
    assert any("notes" in w for w in first.warnings)  # unknown column: warned, ignored
    assert [q.line_no for q in list_quarantine(engine)] == [5]
    (tmp_path / "v2").mkdir()
    second = load(
        engine, write_rows(tmp_path / "v2" / "invoice_lines.csv", [*header, "notes"], good), config
    )
    assert second.outcome == "LOADED" and second.rows_loaded == 1
    assert list_quarantine(engine) == []
    assert list_batches(engine)[0].validation["warnings"]


def test_amended_customer_logs_the_previous_owner(base, engine, tmp_path):
    _load_base(engine, base)
    header, rows = read_rows(base / "invoice_lines.csv")
    counts_by_invoice: dict[str, int] = {}
    for r in rows:
        counts_by_invoice[r[0]] = counts_by_invoice.get(r[0], 0) + 1
    single = next(r for r in rows if counts_by_invoice[r[0]] == 1)
    others = sorted({r[2] for r in rows} - {single[2]})
    assert load(engine, base / "invoice_lines.csv").outcome == "LOADED"
    single[2] = others[0]
    result = load(engine, write_rows(tmp_path / "invoice_lines.csv", header, rows))
    assert result.outcome == "LOADED" and result.rows_updated == 0  # the line itself is equal
    with engine.connect() as conn:
        change = conn.execute(select(IngestChange.__table__)).one()
    assert change.entity == "invoice" and change.natural_key == single[0]
    assert change.changes["customer_id"][1] == others[0]
    assert change.previous_customer_id == change.changes["customer_id"][0] != others[0]
