"""Excel downloads, spreadsheet-safe like the CSV exports (RELIABILITY.md S2).

Text cells that a spreadsheet would run as a formula get a leading apostrophe
(``models.value.exports.neutralise``); numbers stay numbers, so sums still work.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from openpyxl import Workbook

from models.value.exports import neutralise


def _xlsx_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float | date | datetime):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)  # Excel has no time zones: keep UTC wall time
        return value
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return _xlsx_cell(value.item())
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    return neutralise(str(value))


def render_xlsx(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """The frame as one Excel sheet: a header row, then one row per record."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31] or "data")
    ws.append([neutralise(str(c)) for c in frame.columns])
    for record in frame.astype(object).itertuples(index=False):
        ws.append([_xlsx_cell(v) for v in record])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
