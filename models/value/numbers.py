"""Column conversions shared by the value engine's frames."""

from __future__ import annotations

from decimal import Decimal

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
