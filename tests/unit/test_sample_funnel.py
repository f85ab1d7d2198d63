"""The sample book's opportunities exercise the whole funnel: every state, a bulge, thin
and rich owners, a systematically optimistic owner, and a learned forecast that beats the
naive one in the backtest (issue 22's acceptance figures, on the default sample)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from models.canonical import ENTITIES
from models.config import load_config
from models.funnel.compute import compute_funnel
from models.funnel.rules import funnel_rules
from models.funnel.states import STATES
from models.sampledata import generate_sample
from models.sampledata.funnel import OPTIMIST

END = date(2026, 9, 30)


def _read(folder, entity: str) -> pd.DataFrame:
    return pd.read_csv(
        folder / ENTITIES[entity].file_name, dtype=str, keep_default_na=False, na_values=[""]
    )


@pytest.fixture(scope="module")
def funnel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    generate_sample(folder, customers=500, years=3, seed=42, end_date=END)
    o = _read(folder, "opportunities")
    m = _read(folder, "opportunity_stages")
    deals = pd.DataFrame(
        {
            "opportunity_id": o.opportunity_id,
            "customer_id": o.customer_id,
            "product_line_id": o.product_line_id,
            "owner": o.owner_manager_id,
            "amount": o.amount.astype(float),
            "created_on": pd.to_datetime(o.created_on).dt.date,
            "expected_close_on": pd.to_datetime(o.expected_close_on).dt.date,
            "tier": None,
            "stage": o.stage,
        }
    )
    moves = pd.DataFrame(
        {
            "opportunity_id": m.opportunity_id,
            "seq": m.seq.astype(int),
            "stage": m.stage,
            "entered_on": pd.to_datetime(m.entered_on).dt.date,
            "customer_action": m.customer_action,
        }
    )
    return compute_funnel(deals, moves, funnel_rules(load_config()), END)


def test_the_learned_forecast_beats_the_naive_one(funnel):
    s = funnel.summary
    assert s.backtest_periods == 8
    assert s.learned_error < s.naive_error


def test_every_state_and_a_bulge(funnel):
    assert set(funnel.periods["state"]) == set(STATES)
    assert set(funnel.deals["state"].dropna()) == set(STATES)  # all in the last quarter
    assert funnel.summary.bulge_stage in {"build_trust", "discover_needs", "present_value"}
    assert (funnel.deals["unbacked_moves"] > 0).any()


def test_thin_and_rich_owners_and_the_optimist(funnel):
    probs = funnel.probabilities
    late = probs[probs["stage"] == "present_value"].set_index("segment")
    stage_rate = funnel.stages.set_index("stage").loc["present_value", "probability"]
    optimist = f"AM-{OPTIMIST + 1:04d}"
    assert late.loc[optimist, "probability"] < stage_rate - 0.1
    thin = late[late["deals"] < 10]
    assert len(thin) and (thin["probability"] == stage_rate).all()
    assert (late["deals"] >= 10).sum() >= 3
