"""Column conversions shared by the value engine's frames."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype


def as_float(series: pd.Series) -> pd.Series:
    """A numeric column as float64 (NaN for None); cheap when it already is numeric."""
    if is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(float)
    return pd.to_numeric(series.astype(object), errors="coerce").astype(float)


CENTS = Decimal("0.01")


def stored_money(value) -> Decimal | None:
    """An amount read back from the database, to the cent (None stays None: unknown).

    SQLite hands sums back as floats: through their text, never their binary value.
    """
    return None if value is None else Decimal(str(value)).quantize(CENTS)


def to_cents(value) -> Decimal:
    """A money (or days) figure to the cent, half up: the one rounding rule for shown and
    stored figures."""
    return Decimal(str(value) if isinstance(value, float) else value).quantize(CENTS, ROUND_HALF_UP)


def round_cents(values: pd.Series) -> pd.Series:
    """A column of money (or days) to the cent, half up, as :func:`to_cents` rounds one
    figure (NaN stays NaN).

    Binary floats hold most cents inexactly (1.005 is 1.00499999999999989...), so a
    halfway value is recognised with a tolerance far below a cent, not by its bits."""
    x = as_float(values)
    scaled = x.abs() * 100
    return (np.floor(scaled + 0.5 + 1e-7) * np.sign(x) / 100).where(x.notna())
