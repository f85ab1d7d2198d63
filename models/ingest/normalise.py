"""Typing one chunk of string cells, vectorised: what the suites see and what loads.

A chunk comes in as strings ('' = empty). Out come two frames on the same
index: ``check`` (what the Great Expectations suite validates: numbers and dates
as float64, dates as YYYYMMDD numbers so range rules stay vectorised, plus
derived columns such as ``days_to_due``) and ``load`` (canonical text for the
bulk load: ISO dates, plain decimals, JSON tag lists, None for unknown), and the
violations found while typing: {row index: [(rule code, column)]}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .entities import column_kinds

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
    check: dict[str, pd.Series] = {}
    load: dict[str, pd.Series] = {}
    violations: Violations = {}
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
            check[col] = pd.to_numeric(text.where(good, None), errors="coerce").astype("float64")
            load[col] = text.where(good, None).astype(object)
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
            load[col] = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None).astype(object)
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
            value = text.where(~empty, None).astype(object)
            check[col] = value
            load[col] = value
    frame = pd.DataFrame(check, index=index)
    if entity == "invoice_lines":
        due = frame["due_date"]
        inv = frame["invoice_date"]
        frame["days_to_due"] = _days_between(load["invoice_date"], load["due_date"], due, inv)
    return Normalised(frame, pd.DataFrame(load, index=index), violations)


def _days_between(start_text, end_text, end_num, start_num) -> pd.Series:
    start = pd.to_datetime(start_text, format="%Y-%m-%d", errors="coerce")
    end = pd.to_datetime(end_text, format="%Y-%m-%d", errors="coerce")
    return (end - start).dt.days.astype("float64")


def header_mismatches(
    load: pd.DataFrame, previous: dict[str, tuple] | None
) -> tuple[pd.Series, dict]:
    """Invoice lines whose header fields differ from the invoice's first line.

    ``previous`` carries the header of the chunk's last invoice: a file lists an
    invoice's lines together, so only that one can continue in the next chunk.
    """
    cols = ["customer_id", "invoice_date", "due_date", "currency"]
    header = load[["invoice_id", *cols]].fillna("")
    first = header.groupby("invoice_id", sort=False)[cols].transform("first")
    if previous:
        carried = header["invoice_id"].isin(previous.keys())
        if carried.any():
            (values,) = previous.values()
            for col, value in zip(cols, values, strict=True):
                first.loc[carried, col] = value
    mismatch = (header[cols] != first).any(axis=1)
    if header.empty:
        return mismatch, {}
    last_id = header["invoice_id"].iloc[-1]
    if previous and last_id in previous:
        return mismatch, previous
    row = first.iloc[-1]
    return mismatch, {last_id: tuple(row[c] for c in cols)}
