"""The sample-data generator: deterministic, true to the canonical contract, realistic."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.canonical import ENTITIES
from models.sampledata import generate_sample
from models.sampledata import generator as generator_module
from models.sampledata.bad_rows import KEY_FILE, read_key
from models.sampledata.roadmap import INTENDED_DIR

END = date(2026, 9, 30)
START = date(2024, 10, 1)  # 2 years ending at END
SMALL = {"customers": 60, "years": 2, "seed": 42, "end_date": END}
FILES = sorted(e.file_name for e in ENTITIES.values())
FUNNEL = [
    "target_account",
    "customer_analysis",
    "build_trust",
    "discover_needs",
    "present_value",
    "win_commitment",
]
ORDER = [*FUNNEL, "won", "collect_payment"]


def read(folder: Path, entity: str) -> pd.DataFrame:
    """A canonical file as text columns, empty cells as missing."""
    return pd.read_csv(
        folder / ENTITIES[entity].file_name, dtype=str, keep_default_na=False, na_values=[""]
    )


def cents(money: pd.Series) -> pd.Series:
    """Exact integer cents of a money column (no float sums)."""
    return money.str.replace(".", "", regex=False).astype("int64")


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("small")
    return folder, generate_sample(folder, **SMALL)


@pytest.fixture(scope="module")
def data(small) -> dict[str, pd.DataFrame]:
    return {entity: read(small[0], entity) for entity in ENTITIES}


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("medium")
    generate_sample(folder, customers=300, years=1, seed=7, end_date=END)
    return {entity: read(folder, entity) for entity in ("customers", "invoice_lines")}


@pytest.fixture(scope="module")
def invoices(data) -> pd.DataFrame:
    lines = data["invoice_lines"].assign(amount=lambda d: cents(d.amount))
    return lines.groupby("invoice_id").agg(
        customer_id=("customer_id", "first"),
        invoice_date=("invoice_date", "first"),
        due_date=("due_date", "first"),
        total=("amount", "sum"),
    )


@pytest.fixture(scope="module")
def paid(data, invoices) -> pd.Series:
    payments = data["payments"].assign(amount=lambda d: cents(d.amount))
    return payments.groupby("invoice_id").amount.sum().reindex(invoices.index, fill_value=0)


# --- determinism and format -------------------------------------------------------


def test_same_arguments_give_byte_identical_files(small, tmp_path):
    generate_sample(tmp_path, **SMALL)
    assert digests(tmp_path) == digests(small[0])


def test_another_seed_gives_other_files(small, tmp_path):
    generate_sample(tmp_path, **(SMALL | {"seed": 43}))
    theirs, ours = digests(tmp_path), digests(small[0])
    assert theirs["invoice_lines.csv"] != ours["invoice_lines.csv"]
    assert theirs["customers.csv"] != ours["customers.csv"]


def test_writes_the_ten_canonical_files_with_their_headers(small):
    folder, counts = small
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == FILES
    # plans/: test_sample_plans.py; intended/ (roadmap matching's answer key):
    # test_sample_roadmap.py. Neither is a canonical file: ingest reads only the top level.
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["intended", "plans"]
    assert sorted(counts) == FILES
    for entity in ENTITIES.values():
        raw = (folder / entity.file_name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and b'"' not in raw
        lines = raw.decode("utf-8").split("\n")
        assert lines[0] == ",".join(entity.column_names)
        assert lines[-1] == "" and counts[entity.file_name] == len(lines) - 2


def test_values_use_the_canonical_formats(data):
    money = re.compile(r"^-?\d+\.\d\d$")
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for entity, frame in data.items():
        for column in ENTITIES[entity].columns:
            values = frame[column.name].dropna()
            if column.required:
                assert frame[column.name].notna().all(), (entity, column.name)
            if column.kind == "decimal" and column.name != "quantity":
                assert values.str.match(money).all(), (entity, column.name)
            if column.kind == "date":
                assert values.str.match(iso).all(), (entity, column.name)
            if column.kind == "bool":
                assert set(values) <= {"true", "false"}
            if column.kind == "tags":
                assert values.str.match(r"^[a-z0-9-]+(;[a-z0-9-]+)*$").all()
    assert data["invoice_lines"].quantity.str.match(r"^-?\d+$").all()
    assert set(data["invoice_lines"].currency) == {"EUR"} == set(data["payments"].currency)


def test_keys_are_unique_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(generator_module, "CHUNK_CUSTOMERS", 16)  # 4 chunks
    generate_sample(tmp_path, **SMALL)
    for entity, spec in ENTITIES.items():
        frame = read(tmp_path, entity)
        assert not frame.duplicated(list(spec.key)).any(), entity


def test_progress_reports_every_file(tmp_path):
    calls: list[tuple[str, int]] = []
    counts = generate_sample(
        tmp_path, **SMALL, progress=lambda name, rows: calls.append((name, rows))
    )
    assert {name for name, _ in calls} == set(FILES)
    assert (
        max(rows for name, rows in calls if name == "invoice_lines.csv")
        == counts["invoice_lines.csv"]
    )


# --- integrity ---------------------------------------------------------------------


def test_foreign_keys_resolve(data):
    customers = set(data["customers"].customer_id)
    managers = set(data["account_managers"].manager_id)
    lines = set(data["product_lines"].product_line_id)
    checks = [
        ("invoice_lines", "customer_id", customers),
        ("invoice_lines", "product_line_id", lines),
        ("payments", "customer_id", customers),
        ("payments", "invoice_id", set(data["invoice_lines"].invoice_id)),
        ("customers", "parent_customer_id", customers),
        ("customers", "manager_id", managers),
        ("wallet_estimates", "customer_id", customers),
        ("wallet_estimates", "product_line_id", lines),
        ("opportunities", "customer_id", customers),
        ("opportunities", "product_line_id", lines),
        ("opportunities", "owner_manager_id", managers),
        ("opportunity_stages", "opportunity_id", set(data["opportunities"].opportunity_id)),
        ("roadmap_items", "product_line_id", lines),
        ("initiatives", "customer_id", customers),
    ]
    for entity, column, targets in checks:
        assert set(data[entity][column].dropna()) <= targets, (entity, column)


def test_event_dates_lie_in_the_window_and_nothing_happens_after_the_end(data):
    in_window = [
        ("invoice_lines", "invoice_date"),
        ("payments", "paid_on"),
        ("opportunities", "created_on"),
        ("opportunities", "closed_on"),
        ("opportunity_stages", "entered_on"),
        ("account_managers", "left_on"),
    ]
    for entity, column in in_window:
        values = data[entity][column].dropna()
        assert values.min() >= START.isoformat() and values.max() <= END.isoformat(), column
    assert data["account_managers"].hired_on.max() <= END.isoformat()
    # Forward-looking dates may lie beyond the end: due dates, plans, needs.
    assert data["roadmap_items"].planned_release_on.max() > END.isoformat()


def test_invoices_are_consistent(data):
    lines = data["invoice_lines"]
    per_invoice = lines.groupby("invoice_id")
    for column in ("customer_id", "invoice_date", "due_date", "currency"):
        assert (per_invoice[column].nunique() == 1).all(), column
    line_no = lines.line_no.astype(int)
    assert (per_invoice.line_no.count() == line_no.groupby(lines.invoice_id).max()).all()
    assert per_invoice.size().between(1, 6).all()
    terms = pd.to_datetime(lines.due_date) - pd.to_datetime(lines.invoice_date)
    assert set(terms.dt.days) <= {30, 45, 60}


def test_payments_never_exceed_what_is_due(data, invoices, paid):
    payments = data["payments"]
    assert payments.payment_id.is_unique
    assert (cents(payments.amount) > 0).all()
    assert (paid <= invoices.total.clip(lower=0)).all()  # credit notes get no payments
    merged = payments.merge(invoices, left_on="invoice_id", right_index=True)
    assert (merged.customer_id_x == merged.customer_id_y).all()
    assert (merged.paid_on >= merged.invoice_date).all()


def test_account_managers(data):
    managers = data["account_managers"]
    assert len(managers) == 3  # max(3, 60 / 25)
    assert set(managers.seniority) <= {"junior", "senior", "principal"}
    gone = set(managers.manager_id[managers.left_on.notna()])
    assert 1 <= len(gone) <= 2
    assert not gone & set(data["customers"].manager_id.dropna())


# --- realistic structure -------------------------------------------------------------


def test_customer_mix(data):
    customers = data["customers"]
    status = customers.status.value_counts()
    assert status["prospect"] == 6 and status["churned"] >= 1 and status["active"] >= 40
    prospects = customers[customers.status == "prospect"]
    assert prospects.estimated_potential.notna().all()
    assert customers[customers.status != "prospect"].estimated_potential.isna().all()
    assert (prospects.influence.astype(float) >= 60).any()
    assert not set(prospects.customer_id) & set(data["invoice_lines"].customer_id)
    influence = customers.influence.dropna().astype(int)
    assert influence.between(0, 100).all() and customers.influence.isna().any()
    assert (customers.named_strategic == "true").any()
    subs = customers[customers.parent_customer_id.notna()]
    assert len(subs) >= 1 and (subs.parent_customer_id != subs.customer_id).all()
    parents = customers.set_index("customer_id").loc[subs.parent_customer_id]
    assert (parents.status == "active").all() and parents.parent_customer_id.isna().all()
    for column in ("industry", "region", "country", "ownership_type"):
        assert customers[column].nunique() >= 3, column


def test_churned_customers_stop_buying_well_before_the_end(data):
    customers = data["customers"]
    churned = set(customers.customer_id[customers.status == "churned"])
    lines = data["invoice_lines"]
    last = lines[lines.customer_id.isin(churned)].invoice_date.max()
    assert last <= (END - timedelta(days=180)).isoformat()


def test_credit_notes_and_unknown_costs(data):
    lines = data["invoice_lines"]
    credit = lines.invoice_id.str.startswith("CN-")
    assert 0.005 < credit.groupby(lines.invoice_id).first().mean() < 0.05
    assert (lines.quantity[credit].astype(int) < 0).all()
    assert (lines.amount[credit].astype(float) < 0).all()
    assert (lines.amount[~credit].astype(float) > 0).all()
    assert 0 < lines.cost.isna().mean() < 0.03
    known = lines[lines.cost.notna() & ~credit]
    amount = known.amount.astype(float).groupby(known.product_line_id).sum()
    margin = 1 - known.cost.astype(float).groupby(known.product_line_id).sum() / amount
    assert margin.max() - margin.min() > 0.25


def test_late_and_bad_payers(data, invoices, paid):
    last_paid = data["payments"].groupby("invoice_id").paid_on.max()
    days_late = (
        pd.to_datetime(last_paid) - pd.to_datetime(invoices.due_date.reindex(last_paid.index))
    ).dt.days
    assert (days_late <= 0).mean() > 0.4
    assert days_late.between(5, 90).sum() > 10
    trading = invoices[invoices.total > 0]
    long_overdue = trading.due_date < (END - timedelta(days=90)).isoformat()
    # Bad debts: a defaulter's invoices since it stopped paying, months ago, not years: a
    # slow payer pays in the end, so nothing lies unpaid from long before.
    unpaid = (paid[trading.index] == 0) & long_overdue
    assert unpaid.sum() >= 1
    assert trading.due_date[unpaid].min() >= (END - timedelta(days=365)).isoformat()
    assert days_late.gt(90).any()  # a slow payer's
    assert ((paid[trading.index] > 0) & (paid[trading.index] < trading.total)).any()
    assert (data["payments"].invoice_id.value_counts() == 2).any()  # instalments


def test_opportunities_follow_the_funnel(data):
    opportunities = data["opportunities"].set_index("opportunity_id")
    stages = data["opportunity_stages"].assign(seq=lambda d: d.seq.astype(int))
    stages = stages.sort_values(["opportunity_id", "seq"])
    advances = unbacked = regressed = 0
    for opp_id, history in stages.groupby("opportunity_id"):
        names = list(history.stage)
        assert list(history.seq) == list(range(1, len(names) + 1))
        assert history.entered_on.is_monotonic_increasing and history.entered_on.is_unique
        opp = opportunities.loc[opp_id]
        back = names[-1] != "lost" and len(names) > 2
        back = back and ORDER.index(names[-1]) < ORDER.index(names[-2])
        if back:  # fell back one stage, still open
            assert ORDER.index(names[-1]) == ORDER.index(names[-2]) - 1 and opp.status == "open"
            regressed += 1
        forward = names[:-1] if back else names
        expected = (
            ORDER[: len(forward)]
            if forward[-1] != "lost"
            else [*FUNNEL[: len(forward) - 1], "lost"]
        )
        assert forward == expected, opp_id
        assert pd.isna(history.customer_action.iloc[0])  # entered without an action
        moved = history.iloc[1 : len(forward)]
        actions = moved.customer_action[moved.stage != "lost"]
        advances += len(actions)
        unbacked += int(actions.isna().sum())
        assert opp.stage == names[-1] and opp.created_on == history.entered_on.iloc[0]
        if opp.status == "won":
            assert names[-1] in {"won", "collect_payment"}
            assert opp.closed_on == history.entered_on[history.stage == "won"].iloc[0]
        elif opp.status == "lost":
            assert opp.closed_on == history.entered_on.iloc[-1] and isinstance(opp.lost_reason, str)
        else:
            assert opp.status == "open" and names[-1] in FUNNEL and pd.isna(opp.closed_on)
    # about one advance in twenty was logged without the customer action behind it
    assert 0 < unbacked < 0.1 * advances
    assert regressed > 0
    last = stages.groupby("opportunity_id").entered_on.max()
    open_ids = opportunities.index[opportunities.status == "open"]
    assert (last[open_ids] < (END - timedelta(days=180)).isoformat()).any()  # stalled
    assert {"won", "lost", "open"} <= set(opportunities.status)


def test_roadmap_and_initiatives_give_in_time_late_and_gap(data):
    roadmap = data["roadmap_items"]
    assert 30 <= len(roadmap) <= 60
    released = roadmap.status == "released"
    assert (roadmap.planned_release_on[released] <= END.isoformat()).all()
    future = roadmap.status.isin(["planned", "in_progress"])
    assert (roadmap.planned_release_on[future] > END.isoformat()).all()
    live = roadmap[roadmap.status != "cancelled"].assign(
        tag=lambda d: d.capability_tags.str.split(";")
    )
    first = live.explode("tag").groupby("tag").planned_release_on.min()
    outcomes = set()
    for row in data["initiatives"].itertuples():
        ships = [first.get(tag) for tag in row.capability_tags.split(";")]
        if any(s is None for s in ships):
            outcomes.add("gap")
        else:
            outcomes.add("in time" if max(ships) <= row.needed_by else "late")
    assert outcomes == {"in time", "late", "gap"}
    active = data["customers"].customer_id[data["customers"].status == "active"]
    assert set(data["initiatives"].customer_id) <= set(active)


def test_wallet_estimates_mostly_exceed_our_revenue(data):
    wallet = data["wallet_estimates"].assign(year=lambda d: d.year.astype(int))
    assert set(wallet.year) == {2025, 2026}
    lines = data["invoice_lines"]
    ours = (
        lines.assign(year=lines.invoice_date.str[:4].astype(int), amount=lines.amount.astype(float))
        .groupby(["customer_id", "product_line_id", "year"])
        .amount.sum()
    )
    keyed = wallet.set_index(["customer_id", "product_line_id", "year"])
    revenue = ours.reindex(keyed.index, fill_value=0.0)
    potential = keyed.potential_amount.astype(float)
    assert (potential >= revenue).mean() > 0.9
    share = (revenue / potential)[revenue > 0]
    assert share.between(0.02, 0.95).mean() > 0.85
    assert (revenue == 0).any()  # whitespace: potential where we sell nothing


def test_invoice_volume_scales_with_customers_and_years(small):
    assert 0.7 * 8_000 < small[1]["invoice_lines.csv"] < 1.3 * 8_000  # 200 / 3 a customer-year


def test_revenue_is_concentrated_seasonal_and_trending(medium):
    lines = medium["invoice_lines"].assign(amount=lambda d: d.amount.astype(float))
    revenue = lines.groupby("customer_id").amount.sum().sort_values(ascending=False)
    top = revenue.iloc[: round(0.2 * len(revenue))].sum() / revenue.sum()
    assert 0.6 <= top <= 0.85
    month = lines.invoice_date.str[5:7]
    monthly = lines.groupby(month).amount.sum()
    assert monthly.max() / monthly.min() > 1.3
    half = np.where(lines.invoice_date < "2026-04-01", "first", "second")
    halves = lines.groupby(["customer_id", half]).amount.sum().unstack(fill_value=0.0)
    ratio = (halves["second"] + 1) / (halves["first"] + 1)
    assert (ratio > 1.5).sum() >= 5 and (ratio < 0.67).sum() >= 5


def test_buying_factors_follow_the_research_shares(medium):
    shares = medium["customers"].buying_factor.value_counts(normalize=True)
    assert abs(shares["relationship"] - 0.46) < 0.08
    assert abs(shares["price"] - 0.36) < 0.08
    assert abs(shares["innovation"] - 0.18) < 0.06


def test_an_interrupted_run_leaves_no_files(tmp_path):
    def fail_midway(name: str, rows: int) -> None:
        if name == "invoice_lines.csv":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_sample(tmp_path / "out", customers=30, years=1, seed=1, progress=fail_midway)
    assert list((tmp_path / "out").iterdir()) == []


# --- bad rows, on purpose ------------------------------------------------------------


def test_a_clean_sample_has_no_bad_rows_and_no_key(small):
    assert not (small[0] / INTENDED_DIR / KEY_FILE).exists()
    assert read_key(small[0] / INTENDED_DIR) == []


def test_bad_rows_follow_the_good_ones_and_the_key_names_them(small, tmp_path):
    counts = generate_sample(tmp_path, **SMALL, bad_rows=True)
    key = read_key(tmp_path / INTENDED_DIR)
    assert [(p.file_name, p.rule_code) for p in key] == [
        ("invoice_lines.csv", "QUANTITY_AMOUNT_SIGN"),
        ("invoice_lines.csv", "FK_UNRESOLVED"),
        ("invoice_lines.csv", "DATE_UNPARSEABLE"),
        ("payments.csv", "FK_UNRESOLVED"),
    ]
    for name in FILES:
        clean = (small[0] / name).read_bytes()
        planted = [p for p in key if p.file_name == name]
        assert counts[name] == small[1][name] + len(planted)
        assert (tmp_path / name).read_bytes().startswith(clean), name  # good rows unchanged
        lines = (tmp_path / name).read_text().splitlines()
        for p in planted:  # line n is the file's n-th line, the header being line 1
            assert lines[p.line_no - 1].startswith(p.what.split(":")[0] + ","), p
    lines = read(tmp_path, "invoice_lines").tail(3)
    customers = set(read(tmp_path, "customers").customer_id)
    assert lines.quantity.tolist()[0] == "-3" and float(lines.amount.tolist()[0]) > 0
    assert lines.customer_id.tolist()[1] not in customers
    assert lines.invoice_date.tolist()[2].endswith("-02-30")
    good_ids = set(read(small[0], "invoice_lines").invoice_id)
    assert not set(lines.invoice_id) & good_ids
    payment = read(tmp_path, "payments").iloc[-1]
    assert payment.invoice_id not in set(read(tmp_path, "invoice_lines").invoice_id)


def test_a_tiny_sample_gets_no_bad_rows(tmp_path):
    """Four bad rows in 200 lines would be above the share that refuses a whole batch."""
    generate_sample(tmp_path, customers=1, years=1, seed=1, end_date=END, bad_rows=True)
    assert read_key(tmp_path / INTENDED_DIR) == []
