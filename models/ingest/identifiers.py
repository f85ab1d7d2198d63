"""Canonical identifiers: one spelling per id, nothing hidden in it, no look-alikes.

Every id column of a file (a text column named ``*_id``: ``customer_id``,
``parent_customer_id``, ``invoice_id`` ...) is read as follows:

- **Normalised** to Unicode NFKC, so ids that differ only in how they are encoded (a
  full-width ``Ｃ``, a ligature, a composed or decomposed accent) are one id.
- **Invisible and control characters are refused** (``ID_INVISIBLE_CHARACTER``, with line
  and column): a zero-width space, a direction mark, a soft hyphen, a byte-order mark or
  a control character inside an id makes two ids that look the same.
- **Look-alikes are quarantined** (``ID_CONFUSABLE``, naming the id it resembles): an id
  with letters of another script that read as Latin ones (a Cyrillic ``С`` for a Latin
  ``C``) whose Latin reading is an id that exists, in the database or in the batch.

Plain ASCII ids (nearly all) pass through untouched, decided by one vectorised test;
only the rest are looked at one by one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

import pandas as pd

from models.canonical import ENTITIES

# Unicode categories that show nothing, or something other than a character, in an id:
# control, format (zero-width, direction marks, soft hyphen, BOM), surrogate, private
# use, unassigned, line and paragraph separators.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
ASCII_CONTROL = r"[\x00-\x1f\x7f]"


@cache
def id_columns(entity: str) -> tuple[str, ...]:
    """The id columns of ``entity``'s file: its text columns named ``*_id``."""
    return tuple(
        c.name for c in ENTITIES[entity].columns if c.kind == "str" and c.name.endswith("_id")
    )


def has_invisible(value: str) -> bool:
    """Whether ``value`` holds a character of :data:`INVISIBLE_CATEGORIES`."""
    return any(unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in value)


def canonical_ids(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``text`` (stripped cells, ``""`` for empty) in NFKC, and where it holds an invisible
    or control character (those rows are refused; their value is left as read)."""
    ascii_only = text.str.isascii().fillna(True).astype(bool)
    invisible = text.str.contains(ASCII_CONTROL, regex=True).fillna(False).astype(bool)
    if ascii_only.all():
        return text, invisible
    other = text[~ascii_only]
    hidden = other.map(has_invisible).astype(bool)
    invisible = invisible | hidden.reindex(text.index, fill_value=False)
    changed = other[~hidden].map(lambda v: unicodedata.normalize("NFKC", v))
    out = text.astype(object).copy()
    out.loc[changed.index] = changed
    return out.astype(text.dtype), invisible


@cache
def _latin_reading(ch: str) -> str:
    """The ASCII character ``ch`` reads as (itself when it reads as none)."""
    if ch.isascii():
        return ch
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(ch, greedy=True, preferred_aliases=["latin"]) or []
    for entry in found:
        for glyph in entry.get("homoglyphs", []):
            if glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"]
    return ch


def latin_reading(value: str) -> str:
    """``value`` as it reads in ASCII letters and digits (its Unicode confusables mapped)."""
    return "".join(_latin_reading(ch) for ch in value)


def look_alikes(values: Iterable[str]) -> dict[str, str]:
    """The values that read as another, ASCII, id: ``{value: what it reads as}``."""
    out = {}
    for value in _not_ascii(values):
        if isinstance(value, str) and not value.isascii():
            reading = latin_reading(value)
            if reading != value and reading.isascii():
                out[value] = reading
    return out


def _not_ascii(values: Iterable[str]) -> Iterable:
    """The values that are not all ASCII (nearly none), picked out by Arrow when they
    are text: a Python call per value costs ~0.1 s per 200,000 ids."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: look at each one
        return values
    return text.filter(pc.invert(pc.string_is_ascii(text))).to_pylist()
