"""Numbers formatted for people: money with currency, percentages, days, counts, changes
between two snapshots; and text from the data shown as the literal characters it holds.
Figures round half up (``models.value.numbers.half_up``), as every export and reason does.

Nothing raw reaches the screen: an unknown value (None, NaN, NaT) reads as an en dash or
as words ("no group", "first snapshot"), a change that rounds to zero at the precision
shown is no change (no arrow, no colour), and a comparison that needs a previous snapshot
says so in words when there is none (:func:`not_comparable_yet`)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from decimal import Decimal

import pandas as pd

from models.value.numbers import half_up, round_half_up

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
_SUFFIXES = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))


DASH = "–"
NO_CHANGE = "no change"
FIRST_SNAPSHOT = "first snapshot"
NEW_SINCE_PREVIOUS = "new"


def _is_unknown(value) -> bool:
    """For a figure: unknown also when it is no number at all."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def unknown(value: object) -> bool:
    """True for a missing value of any kind: None, NaN, NaT, ``pd.NA``."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: a value, if not a scalar one
        return False


def text(value: object, empty: str = DASH) -> str:
    """A value from the data as text; unknown (never ``nan``/``None``/``NaT``) reads
    ``empty``, as does an empty string."""
    return empty if unknown(value) or str(value) == "" else str(value)


def previous(label: str | None, has_previous: bool) -> str:
    """What a customer was at the previous snapshot: ``label`` (a tier's name), or, when it
    had none, "new" (it was not there) or "first snapshot" (there is no previous one)."""
    if not unknown(label) and label:
        return str(label)
    return NEW_SINCE_PREVIOUS if has_previous else FIRST_SNAPSHOT


def not_comparable_yet(what: str, only: str = "there is one snapshot so far") -> str:
    """The words shown instead of a figure that compares two snapshots when ``only`` one
    holds it (no empty chart, no "everyone is new")."""
    return f"{what} compare two snapshots, and {only}: nothing to compare yet."


def money(value: Decimal | float | int | None, currency: str, *, compact: bool = False) -> str:
    """``€1,234,567`` or, compact, ``€1.2M``; unknown is an en dash, never zero."""
    if _is_unknown(value):
        return DASH
    amount = float(value)
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if compact:
        for threshold, suffix in _SUFFIXES:
            if amount >= threshold:
                return f"{sign}{symbol}{half_up(amount / threshold, 1):.1f}{suffix}"
    return f"{sign}{symbol}{half_up(amount):,.0f}"


def percent(value: Decimal | float | None, *, digits: int = 1, signed: bool = False) -> str:
    """A ratio (0.125) as ``12.5%``; ``signed`` adds ``+`` for changes."""
    if _is_unknown(value):
        return DASH
    number = half_up(float(value) * 100, digits)
    return f"{number:+.{digits}f}%" if signed else f"{number:.{digits}f}%"


def days(value: Decimal | float | None) -> str:
    if _is_unknown(value):
        return DASH
    return f"{half_up(float(value)):,.0f} days"


def number(value: object, digits: int = 0, unit: str = "") -> str:
    """A plain figure half up to ``digits`` decimals with thousands separators and an
    optional ``unit`` (``"2.5 months"``); unknown is an en dash."""
    if _is_unknown(value):
        return DASH
    return f"{half_up(float(value), digits):,.{digits}f}{unit}"  # type: ignore[arg-type]


def elapsed(seconds: float | None) -> str:
    """A run's duration to the whole second, half up: "42 s", "3 min 07 s", "1 h 05 min";
    unknown is empty (the run has not ended)."""
    if _is_unknown(seconds):
        return ""
    whole = int(half_up(float(seconds)))  # type: ignore[arg-type]
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def count(value: int | None) -> str:
    return DASH if _is_unknown(value) else f"{int(value):,}"


def change(
    now: object,
    before: object,
    shown: Callable[[float], str],
    *,
    digits: int = 0,
    scale: float = 1.0,
) -> str | None:
    """``now - before`` printed by ``shown`` (which adds the sign and unit); ``NO_CHANGE``
    when the change times ``scale`` rounds (half up) to zero at the ``digits`` decimals
    ``shown`` prints; None when either is unknown (nothing to compare)."""
    if unknown(now) or unknown(before):
        return None
    difference = float(now) - float(before)  # type: ignore[arg-type]
    if half_up(difference * scale, digits) == 0:
        return NO_CHANGE
    return shown(difference)


def metric_delta(shown_change: str | None, colour: str = "normal") -> dict[str, str | None]:
    """``st.metric``'s delta arguments for a :func:`change`: an arrow and ``colour``
    (``"inverse"`` where a fall is good) for a change, grey words and no arrow for no
    change, nothing for an unknown one."""
    if shown_change == NO_CHANGE:
        return {"delta": NO_CHANGE, "delta_color": "off", "delta_arrow": "off"}
    return {"delta": shown_change, "delta_color": colour}


def money_change(now: object, before: object, currency: str) -> str | None:
    """A change of money, compact (``-€1.2M``, ``€400``); see :func:`change`."""
    return change(now, before, lambda d: money(d, currency, compact=True))


def points_change(now: object, before: object) -> str | None:
    """A change of a ratio in percentage points (``+1.5 pts``); see :func:`change`."""
    return change(now, before, lambda d: f"{half_up(d * 100, 1):+.1f} pts", digits=1, scale=100)


def days_change(now: object, before: object) -> str | None:
    """A change of days to one decimal (``+2.5 days``); see :func:`change`."""
    return change(now, before, lambda d: f"{half_up(d, 1):+,.1f} days", digits=1)


def count_change(now: object, before: object) -> str | None:
    """A change of a count (``+3``); see :func:`change`."""
    return change(now, before, lambda d: f"{int(half_up(d)):+,}")


def rounded(values: pd.Series, digits: int = 0, *, scale: float = 1.0) -> list[float | None]:
    """A column times ``scale`` rounded half up to ``digits`` decimals, as a chart's values
    (hover and position agree with the printed figure); unknown stays None (a gap)."""
    out = round_half_up(pd.to_numeric(values.astype(object), errors="coerce") * scale, digits)
    return [None if unknown(v) else float(v) for v in out]


def rounded_columns(frame: pd.DataFrame, digits: dict[str, int]) -> pd.DataFrame:
    """``frame`` with the named columns rounded half up (for a table's whole-unit money)."""
    return frame.assign(**{c: round_half_up(frame[c], d) for c, d in digits.items()})


_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:&")


# GFM links bare addresses (``http://``, ``www.``, ``name@host``) after escapes are read, so
# a backslash cannot stop it: an invisible word joiner inside each one does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def literal(text: object) -> str:
    """``text`` for a Markdown string (captions, warnings): every character that Markdown
    or HTML would read (``*``, ``[``, ``<``, ``!``, ...) backslash-escaped, and a word
    joiner (invisible) inside ``://``, ``www.`` and before ``@`` so no bare address is
    linked: a name from the data shows as the characters it holds and creates no link,
    image or markup."""
    joined = _AUTOLINK.sub(_WORD_JOINER, str(text))
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in joined)


def plain_for_plotly(text: object) -> str | None:
    """``text`` for a Plotly label (title, tick, hover, annotation, node): HTML-escaped, so
    a name holding ``<b>``, ``<a href=...>`` or ``<br>`` shows those characters; Plotly
    turns the entities back into the characters it draws. ``None`` stays ``None``."""
    return None if text is None else html.escape(str(text), quote=False)
