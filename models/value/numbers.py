"""Column conversions shared by the value engine's frames."""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_numeric_dtype


def as_float(series: pd.Series) -> pd.Series:
    """A numeric column as float64 (NaN for None); cheap when it already is numeric."""
    if is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(float)
    return pd.to_numeric(series.astype(object), errors="coerce").astype(float)
