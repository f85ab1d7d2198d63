"""Typing one chunk of string cells, vectorised: what the suites see and what loads.

A chunk comes in as strings ('' = empty). Out come two frames on the same
index: ``check`` (what the Great Expectations suite validates: numbers and dates
as float64, dates as YYYYMMDD numbers so range rules stay vectorised, plus
derived columns such as ``days_to_due`` and the sign relations) and ``load`` (canonical text for the
bulk load: ISO dates, plain decimals, JSON tag lists, None for unknown), and the
violations found while typing: {row index: [(rule code, column)]}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .entities import HEADER_COLUMNS, column_kinds, column_lengths
from .identifiers import canonical_ids, id_columns

DECIMAL_RE = r"-?\d+(\.\d+)?"
INT_RE = r"-?\d+"
ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}"
DAY_MONTH_RE = r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})"
# Numbers written for people: currency signs, thousands separators, spaces.
FORMATTED_NUMBER_RE = r"[-+]?\s*[€$£¥]?\s*-?[\d.,' \u00a0]+\s*[€$£¥]?|[A-Z]{3}\s*-?[\d.,']+"
TRUE, FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}

Violations = dict[int, list[tuple[str, str | None]]]


@dataclass
class Normalised:
    """A typed chunk: the frame to validate, the frame to load, typing violations."""

    check: pd.DataFrame
    load: pd.DataFrame
    violations: Violations = field(default_factory=dict)


def _flag(violations: Violations, mask: pd.Series, code: str, column: str | None) -> None:
    for idx in mask.index[mask.to_numpy(dtype=bool)]:
        violations.setdefault(int(idx), []).append((code, column))


def date_numbers(parsed: pd.Series) -> pd.Series:
    """Datetimes as YYYYMMDD floats (NaN when missing): cheap, ordered, vectorised."""
    return (parsed.dt.year * 10000 + parsed.dt.month * 100 + parsed.dt.day).astype("float64")


def normalise(entity: str, raw: pd.DataFrame, *, date_format: str | None = None) -> Normalised:
    """Type a chunk of ``entity`` rows; unknown (empty) cells become None / NaN."""
    kinds = column_kinds(entity)
    lengths = column_lengths(entity)
    ids = id_columns(entity)
    check: dict[str, pd.Series] = {}
    load: dict[str, pd.Series] = {}
    violations: Violations = {}
    dates: dict[str, pd.Series] = {}
    index = raw.index
    for col, kind in kinds.items():
        if col not in raw.columns:
            check[col] = pd.Series(
                np.nan if kind in {"decimal", "int", "date"} else None,
                index=index,
                dtype="float64" if kind in {"decimal", "int", "date"} else object,
            )
            load[col] = pd.Series(None, index=index, dtype=object)
            continue
        text = raw[col].astype("str").str.strip()
        empty = text == ""
        if kind in {"decimal", "int"}:
            ok = text.str.fullmatch(DECIMAL_RE if kind == "decimal" else INT_RE)
            bad = ~empty & ~ok
            if bad.any():
                formatted = bad & text.str.fullmatch(FORMATTED_NUMBER_RE) & text.str.contains(r"\d")
                _flag(violations, formatted, "NUMBER_FORMAT_NOT_ALLOWED", col)
                _flag(violations, bad & ~formatted, "NUMBER_INVALID", col)
            good = ok & ~empty
            load[col] = text.where(good, None)
            check[col] = _to_float(load[col])
        elif kind == "date":
            fmt = date_format or "%Y-%m-%d"
            parsed = pd.to_datetime(text.where(~empty, None), format=fmt, errors="coerce")
            bad = ~empty & parsed.isna()
            if bad.any():
                dm = text.where(bad, "").str.extract(DAY_MONTH_RE)
                ambiguous = (
                    bad
                    & dm[0].notna()
                    & (pd.to_numeric(dm[0], errors="coerce") <= 12)
                    & (pd.to_numeric(dm[1], errors="coerce") <= 12)
                    & (date_format is None)
                )
                _flag(violations, ambiguous, "DATE_AMBIGUOUS", col)
                _flag(violations, bad & ~ambiguous, "DATE_UNPARSEABLE", col)
            check[col] = date_numbers(parsed)
            dates[col] = parsed
            if date_format is None and text.str.fullmatch(ISO_DATE_RE).where(~empty, True).all():
                load[col] = text.where(parsed.notna(), None)  # already canonical
            else:
                load[col] = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)
        elif kind == "bool":
            low = text.str.lower()
            is_true, is_false = low.isin(TRUE), low.isin(FALSE)
            _flag(violations, ~empty & ~is_true & ~is_false, "VALUE_NOT_ALLOWED", col)
            value = pd.Series(None, index=index, dtype=object)
            # 1/0: PostgreSQL's COPY and SQLite's NUMERIC affinity both read them.
            value[is_true] = "1"
            value[is_false] = "0"
            check[col] = value
            load[col] = value
        elif kind == "tags":
            tags = (
                text.str.lower()
                .str.split(";")
                .map(lambda parts: json.dumps(sorted({p.strip() for p in parts if p.strip()})))
            )
            check[col] = text.where(~empty, None).astype(object)
            load[col] = tags.where(~empty, "[]").astype(object)
        else:
            if col in ids:  # one spelling per id, nothing hidden in it (identifiers.py)
                text, invisible = canonical_ids(text)
                _flag(violations, invisible & ~empty, "ID_INVISIBLE_CHARACTER", col)
            if col in lengths:  # what the table's column holds, on every database
                too_long = (text.str.len() > lengths[col]).fillna(False)
                if too_long.any():
                    _flag(violations, too_long, "VALUE_TOO_LONG", col)
                    empty = empty | too_long  # unknown from here on: it never loads
            # Arrow-backed text stays Arrow-backed (NaN = unknown): no Python object per cell.
            value = text.where(~empty, None)
            check[col] = value
            load[col] = value
    frame = pd.DataFrame(check, index=index)
    if entity == "invoice_lines":
        if {"invoice_date", "due_date"} <= dates.keys():
            days = (dates["due_date"] - dates["invoice_date"]).dt.days
            frame["days_to_due"] = days.astype("float64")
        else:
            frame["days_to_due"] = np.nan
        frame["opposite_signs"], frame["zero_quantity_amount"] = sign_relations(
            frame["quantity"], frame["amount"]
        )
    return Normalised(frame, pd.DataFrame(load, index=index), violations)


def sign_relations(quantity: pd.Series, amount: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Two 1/0 columns for the suites' sign rules (NaN where either value is unknown):
    quantity and amount of opposite signs, and a quantity of 0 with a non-zero amount."""
    unknown = quantity.isna() | amount.isna()
    opposite = ((quantity > 0) & (amount < 0)) | ((quantity < 0) & (amount > 0))
    zero = (quantity == 0) & (amount != 0)
    return (
        opposite.astype("float64").mask(unknown),
        zero.astype("float64").mask(unknown),
    )


def _to_float(text: pd.Series) -> pd.Series:
    """Checked decimal strings (None = unknown) as float64, parsed by Arrow in C++."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.cast(pa.array(text, type=pa.string(), from_pandas=True), pa.float64())
    return pd.Series(values.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def header_mismatches(
    load: pd.DataFrame, previous: dict[str, tuple] | None
) -> tuple[pd.Series, dict[str, tuple]]:
    """Invoice lines whose header fields differ from the invoice's first line.

    Each header column is factorised to integer codes and every line is compared
    with its invoice's first line, code to code (no Python object per cell).
    ``previous`` carries the header of the chunk's last invoice: a file lists an
    invoice's lines together, so only that one can continue in the next chunk.
    """
    if load.empty:
        return pd.Series(False, index=load.index), {}
    ids = load["invoice_id"]
    invoice, _ = pd.factorize(ids, use_na_sentinel=False)
    _, first_line = np.unique(invoice, return_index=True)
    first = first_line[invoice]  # each line's invoice's first line in this chunk
    mismatch = np.zeros(len(load), dtype=bool)
    for col in HEADER_COLUMNS:
        codes, _ = pd.factorize(load[col], use_na_sentinel=False)
        mismatch |= codes != codes[first]
    carried_id, carried = next(iter(previous.items())) if previous else (None, ())
    if carried_id is not None:
        # The carried invoice's first line was in an earlier chunk: compare with it.
        rows = (ids == carried_id).fillna(False).to_numpy(dtype=bool)
        if rows.any():
            differs = np.zeros(int(rows.sum()), dtype=bool)
            for col, value in zip(HEADER_COLUMNS, carried, strict=True):
                cells = load[col][rows]
                same = cells.isna() if value is None else (cells == value).fillna(False)
                differs |= ~same.to_numpy(dtype=bool)
            mismatch[rows] = differs
    mismatches = pd.Series(mismatch, index=load.index)
    last_id = ids.iloc[-1]
    if last_id == carried_id:
        return mismatches, previous or {}
    header = load[list(HEADER_COLUMNS)].iloc[first[-1]]
    return mismatches, {last_id: tuple(None if pd.isna(v) else v for v in header)}
