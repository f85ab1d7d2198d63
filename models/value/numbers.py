"""Column conversions shared by the value engine's frames."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import is_numeric_dtype


def as_float(series: pd.Series) -> pd.Series:
    """A numeric column as float64 (NaN for None, and for what is not a number); cheap
    when it already is numeric, and for a column of Decimals and None (NumPy converts
    those itself, in a third of the time ``pd.to_numeric`` takes)."""
    if is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(float)
    values = series.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) in _NUMBERS:
        try:
            return values.astype(float)
        except (TypeError, ValueError):  # pd.NA among the numbers
            pass
    return pd.to_numeric(values, errors="coerce").astype(float)


# What pandas infers of an object column that NumPy turns into floats as pd.to_numeric
# would (text goes through pd.to_numeric: Python's float() also reads "1_000").
_NUMBERS = frozenset({"empty", "decimal", "floating", "integer", "mixed-integer-float", "boolean"})


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


# A value this close below a halfway point (in units of the last digit kept) counts as on
# it: far below any real difference, far above float noise.
HALFWAY_TOLERANCE = 1e-7


def half_up(value: float, digits: int = 0) -> float:
    """One figure rounded as :func:`round_half_up` rounds a column."""
    scale = 10.0**digits
    rounded = math.floor(abs(value) * scale + 0.5 + HALFWAY_TOLERANCE) / scale
    return math.copysign(rounded, value) + 0.0


def round_half_up(values: pd.Series, digits: int = 0) -> pd.Series:
    """A column rounded half up (away from zero) to ``digits`` decimals: the one rounding
    rule for every figure shown or stored (NaN stays NaN, and no -0).

    Binary floats hold most decimals inexactly (1.005 is 1.00499999999999989...), and
    SQLite sums money as floats where PostgreSQL keeps it exact, so a halfway value is
    recognised with a tolerance far below the last digit, not by its bits: both databases
    round 31039.5 to 31040."""
    x = as_float(values)
    scale = 10.0**digits
    scaled = x.abs() * scale
    rounded = np.floor(scaled + 0.5 + HALFWAY_TOLERANCE) * np.sign(x) / scale + 0.0
    return rounded.where(x.notna())


def round_cents(values: pd.Series) -> pd.Series:
    """A column of money (or days) to the cent, half up, as :func:`to_cents` rounds one
    figure (NaN stays NaN)."""
    return round_half_up(values, 2)


def shown(values: pd.Series, template: str, *, digits: int, scale: float = 1.0) -> pd.Series:
    """``values`` times ``scale``, rounded half up to ``digits`` decimals, in ``template``
    (``"{:,.0f}"``, ``"{:.1f}%"``): a printed figure never depends on float noise or on
    Python's round-half-even formatting. Each distinct figure is formatted once (a
    column of percentages holds a few hundred): 50,000 values took a fifth to a half of
    the time that formatting each one took."""
    rounded = round_half_up(as_float(values) * scale, digits)
    codes, distinct = pd.factorize(rounded, use_na_sentinel=False)
    texts = [template.format(v) for v in distinct.tolist()]
    text = labels(codes, texts, values.index)
    text.name = values.name
    return text


def labels(codes: np.ndarray, names: Sequence[str], index: pd.Index) -> pd.Series:
    """A string column on ``index``: ``names[code]`` for each of ``codes`` (integers).

    Arrow decodes the codes into strings in C++; assigning a NumPy array of 400,000
    strings to a frame instead converts each one (8 ms against 55 ms)."""
    dictionary = pa.array(list(names), type=pa.large_string())
    decoded = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), dictionary)
    text = decoded.dictionary_decode().to_pandas(types_mapper=_STR.get)
    return text.set_axis(index)


# Arrow strings as pandas' default string dtype ("str").
_STR = {pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}
