"""Customer lifetime value stored with each snapshot: the models fitted on the summary
at the snapshot's as-of date, one row per customer (tables ``customer_clv`` and
``clv_fit``), and the reads of what was stored.

The recompute fits it (:func:`lifetime_values`, beside its other work) and stores it
with the snapshot in the snapshot's transaction (:func:`write_clv`), so a snapshot's CLV
is that of its own data: an invoice after the as-of date changes nothing, and one
loaded later (even dated before the as-of date) changes only later snapshots' CLV.
The dashboard refresh copies the stored rows; :func:`stored_clv` and
:func:`stored_fits` read them back. The summary (frequency, recency, T, monetary value)
comes from the customers' purchase days (models/value/purchases.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from models.config import section
from models.schema import ClvFit, CustomerClv

from .clv import CLV_COLUMNS, BgNbdFit, GammaGammaFit, clv_from_summary
from .purchases import keep_purchases, kept_summary
from .rollups import RollupRefresh
from .store import bulk_insert, prepare

_MODELS = {"bgnbd": BgNbdFit.PARAMETERS, "gamma_gamma": GammaGammaFit.PARAMETERS}


@dataclass(frozen=True)
class StoredClv:
    """What :func:`write_clv` wrote for a snapshot: customers, and the models' verdicts."""

    customers: int
    fits: dict[str, BgNbdFit | GammaGammaFit]

    @property
    def fitted(self) -> bool:
        """Both models fitted: the customers have a CLV."""
        return all(fit.fitted for fit in self.fits.values())


def lifetime_values(
    conn: Connection,
    as_of: date,
    config: dict[str, Any],
    refreshed: RollupRefresh | None = None,
) -> pd.DataFrame:
    """The CLV table at ``as_of`` (see ``models.value.clv.clv_from_summary``): the summary
    of the customers' purchase days, both models fitted on it.

    ``config`` is the whole rules mapping (``value.clv`` is read); ``refreshed`` what the
    roll-up refresh just did, for :func:`models.value.purchases.keep_purchases`, which
    runs first (it writes ``customer_purchases`` in the caller's transaction). With too
    few customers the rows carry the summary and NULL predictions, and the fits say why
    (see ``clv_from_summary``).
    """
    keep_purchases(conn, refreshed)
    return clv_from_summary(kept_summary(conn, as_of), as_of, section(config, "value"))


def write_clv(conn: Connection, snapshot_id: int, table: pd.DataFrame) -> StoredClv:
    """Store a CLV table (from :func:`lifetime_values`) with the snapshot, in the caller's
    transaction: one ``customer_clv`` row per customer, one ``clv_fit`` row per model."""
    rows = table.rename(columns={"T": "age"})
    rows.attrs = {}  # the fits are stored below, not as Arrow metadata
    bulk_insert(
        conn,
        CustomerClv.__table__,
        prepare(
            rows,
            ["customer_id", "frequency", "recency", "age", "monetary_value", "p_alive"]
            + ["expected_purchases_90d", "clv_12m"],
            money=("monetary_value", "clv_12m"),
            ratios=("p_alive", "expected_purchases_90d"),
            ints=("frequency", "recency", "age"),
            extra={"snapshot_id": snapshot_id},
        ),
    )
    fits = table.attrs["fits"]
    conn.execute(
        ClvFit.__table__.insert(),
        [_fit_row(snapshot_id, model, fit) for model, fit in fits.items()],
    )
    return StoredClv(len(table), fits)


def _fit_row(snapshot_id: int, model: str, fit: BgNbdFit | GammaGammaFit) -> dict[str, Any]:
    def finite(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    return {
        "snapshot_id": snapshot_id,
        "model": model,
        "parameters": {name: finite(getattr(fit, name)) for name in _MODELS[model]},
        "log_likelihood": finite(fit.log_likelihood),
        "converged": bool(fit.converged),
        "iterations": int(fit.iterations),
        "customers": int(fit.n_customers),
        "message": fit.message[:1000],
    }


def stored_clv(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """The snapshot's stored CLV rows (:data:`models.value.clv.CLV_COLUMNS`, T as stored
    in ``age``), sorted by customer_id; empty when the snapshot has none."""
    c = CustomerClv.__table__.c
    rows = conn.execute(
        select(
            c.customer_id,
            c.frequency,
            c.recency,
            c.age,
            c.monetary_value,
            c.p_alive,
            c.expected_purchases_90d,
            c.clv_12m,
        )
        .where(c.snapshot_id == snapshot_id)
        .order_by(c.customer_id)
    ).all()
    return pd.DataFrame(rows, columns=CLV_COLUMNS)


def stored_fits(conn: Connection, snapshot_id: int) -> dict[str, BgNbdFit | GammaGammaFit]:
    """The models stored with the snapshot, by name (``bgnbd``, ``gamma_gamma``), as the
    fit objects (NaN parameters where not fitted); empty for a snapshot stored before
    CLV was."""
    f = ClvFit.__table__.c
    rows = conn.execute(select(ClvFit.__table__).where(f.snapshot_id == snapshot_id)).mappings()
    fits: dict[str, BgNbdFit | GammaGammaFit] = {}
    for row in rows:
        p = {name: _or_nan(row["parameters"].get(name)) for name in _MODELS[row["model"]]}
        ll, converged = _or_nan(row["log_likelihood"]), bool(row["converged"])
        how = (int(row["iterations"]), str(row["message"]), int(row["customers"]))
        if row["model"] == "bgnbd":
            fits["bgnbd"] = BgNbdFit(p["r"], p["alpha"], p["a"], p["b"], ll, converged, *how)
        else:
            fits["gamma_gamma"] = GammaGammaFit(p["p"], p["q"], p["v"], ll, converged, *how)
    return fits


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
